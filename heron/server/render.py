"""How every web page is rendered: one Jinja2 environment over ``heron/ui/templates``, the page
headers (a Content-Security-Policy that allows only Heron's own script and stylesheet), the error page.

Each area's pages (traces, runs, registry) live in their own router module and render through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from heron import __version__
from heron.auth.records import EXPERIMENT
from heron.errors import HeronError, http_status
from heron.server.access import access_of
from heron.server.context import ServerContext
from heron.tracking.entities import Experiment

__all__ = ["STATIC_FILES", "UI_DIR", "error_page", "render", "render_fragment"]

UI_DIR = Path(__file__).resolve().parents[1] / "ui"
# The static files the server hands out, with their media types: a fixed list, so no path from a
# request ever reaches the disk.
STATIC_FILES = {
    "heron.css": "text/css; charset=utf-8",
    "heron.js": "text/javascript; charset=utf-8",
    "heron.svg": "image/svg+xml",
    "runs.css": "text/css; charset=utf-8",
    "runs.js": "text/javascript; charset=utf-8",
}
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(UI_DIR / "templates"),
    autoescape=True,  # every value from a trace is text, whatever it holds
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, ctx: ServerContext, template: str, status: int = 200, **values: Any) -> Response:
    """``template`` rendered with ``values`` plus what the layout needs (the experiment list for the
    navigation, the version, the request path). The navigation lists only experiments the signed-in
    user may READ."""
    found = list(ctx.client.search_experiments(max_results=100))
    readable = set(access_of(request).readable(EXPERIMENT, [e.experiment_id for e in found]))
    experiments = [e for e in found if e.experiment_id in readable]
    html = _env.get_template(template).render(
        version=__version__, experiments=experiments, path=request.url.path, **values
    )
    return HTMLResponse(html, status, headers=_HEADERS)


def render_fragment(template: str, **values: Any) -> Response:
    """A part of a page (no layout) that a page's script fetches and inserts, with the pages' headers."""
    return HTMLResponse(_env.get_template(template).render(**values), 200, headers=_HEADERS)


def error_page(request: Request, ctx: ServerContext, exc: HeronError, experiment: Experiment | None = None,
               **values: Any) -> Response:
    """The error page for ``exc``, with the HTTP status of its error code."""
    return render(request, ctx, "error.html", http_status(exc.error_code), error=exc, experiment=experiment,
                  **values)
