"""The web UI's pages (server-rendered HTML): the traces of an experiment and one trace in detail.

Pages read the server's own store through the same trace store ``heron.search_traces`` uses
(``TraceStore`` over the server's database: the fluent functions pick their store from the process's
tracking URI, which a server must not change per request). Templates autoescape every value; a
Content-Security-Policy allows only Heron's own script and stylesheet, as a second line of defence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from heron import __version__
from heron.errors import HeronError, http_status
from heron.server.context import Ctx, ServerContext
from heron.tracing.sqlstore import TraceStore
from heron.tracking.entities import Experiment
from heron.ui import trace_view

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_UI = Path(__file__).resolve().parents[1] / "ui"
_STATIC = {"heron.css": "text/css; charset=utf-8", "heron.js": "text/javascript; charset=utf-8",
           "heron.svg": "image/svg+xml"}
PAGE_SIZE = 50
ERRORS_ONLY = "trace.status = 'ERROR'"
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_UI / "templates"),
    autoescape=True,  # every value from a trace is text, whatever it holds
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _render(request: Request, ctx: ServerContext, template: str, status: int = 200, **values: Any) -> Response:
    experiments = ctx.client.search_experiments(max_results=100)
    html = _env.get_template(template).render(
        version=__version__, experiments=list(experiments), path=request.url.path, **values
    )
    return HTMLResponse(html, status, headers={"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff",
                                               "Cache-Control": "no-store"})


def _error(request: Request, ctx: ServerContext, exc: HeronError, experiment: Experiment | None = None,
           **values: Any) -> Response:
    return _render(request, ctx, "error.html", http_status(exc.error_code), error=exc, experiment=experiment,
                   **values)


@router.get("/")
def home(ctx: Ctx) -> Response:
    """The landing page: the traces of the Default experiment (id 0 when it has been renamed)."""
    default = ctx.client.get_experiment_by_name("Default")
    experiment_id = default.experiment_id if default is not None else "0"
    return RedirectResponse(f"/experiments/{experiment_id}/traces", status_code=302)


@router.get("/static/{name}")
def static(name: str) -> Response:
    """Heron's stylesheet and script (a fixed list: no path from the request reaches the disk)."""
    media = _STATIC.get(name)
    if media is None:
        return Response("Not found", 404, media_type="text/plain")
    body = (_UI / "static" / name).read_bytes()
    return Response(body, media_type=media, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


@router.get("/experiments/{experiment_id}/traces")
def traces(request: Request, ctx: Ctx, experiment_id: str, filter: str = "", page_token: str = "") -> Response:
    """The experiment's traces, newest first, one page at a time; ``filter`` is search_traces' language.

    A bad filter or page token answers 400 with the message on the page; an unknown experiment 404.
    """
    try:
        experiment = ctx.client.get_experiment(experiment_id)
    except HeronError as exc:
        return _error(request, ctx, exc)
    store = TraceStore(ctx.store.db)
    query = filter.strip()
    try:
        found, token = store.search([experiment.experiment_id], query or None, None, PAGE_SIZE,
                                    page_token or None, None, include_spans=False)
    except HeronError as exc:
        return _error(request, ctx, exc, experiment, filter=query, errors_only=_errors_only_url(experiment))
    base = f"/experiments/{experiment.experiment_id}/traces"
    next_url = f"{base}?{urlencode(_params(query, token))}" if token else None
    first_url = f"{base}?{urlencode(_params(query, None))}" if page_token else None
    return _render(
        request, ctx, "traces.html", experiment=experiment, rows=[trace_view.trace_row(t.info) for t in found],
        filter=query, next_url=next_url, first_url=first_url, errors_only=_errors_only_url(experiment),
        errors_active=query == ERRORS_ONLY,
    )


def _params(query: str, token: str | None) -> dict[str, str]:
    params = {"filter": query} if query else {}
    if token:
        params["page_token"] = token
    return params


def _errors_only_url(experiment: Experiment) -> str:
    return f"/experiments/{experiment.experiment_id}/traces?{urlencode({'filter': ERRORS_ONLY})}"


@router.get("/traces/{trace_id}")
def trace(request: Request, ctx: Ctx, trace_id: str) -> Response:
    """One trace: totals, the span tree beside a timeline, and every span's inputs, outputs, attributes
    and events. 404 page for an unknown id (``tr-`` prefix accepted)."""
    wanted = trace_id[3:] if trace_id.startswith("tr-") else trace_id
    found = TraceStore(ctx.store.db).get_traces([wanted])
    if not found:
        return _error(request, ctx, HeronError.not_found(f"Trace {trace_id!r} not found."))
    view = trace_view.trace_view(found[0])
    try:
        experiment: Experiment | None = ctx.client.get_experiment(view.info.experiment_id)
    except HeronError:
        experiment = None
    return _render(request, ctx, "trace.html", view=view, experiment=experiment)
