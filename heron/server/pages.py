"""The web UI's pages (server-rendered HTML): the traces of an experiment and one trace in detail.

Pages read the server's own store with the functions users call (``heron.search_traces``,
``heron.get_trace``), given the server's trace store as ``store=``: the process's tracking URI is not the
server's database, and a server must not change it per request. Templates autoescape every value; a
Content-Security-Policy allows only Heron's own script and stylesheet, as a second line of defence.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from heron.errors import HeronError
from heron.server.context import Ctx
from heron.server.render import STATIC_FILES, UI_DIR, error_page, render
from heron.tracing import fluent
from heron.tracking.entities import Experiment
from heron.ui import trace_view

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
ERRORS_ONLY = "trace.status = 'ERROR'"


@router.get("/")
def home(ctx: Ctx) -> Response:
    """The landing page: the traces of the Default experiment (id 0 when it has been renamed)."""
    default = ctx.client.get_experiment_by_name("Default")
    experiment_id = default.experiment_id if default is not None else "0"
    return RedirectResponse(f"/experiments/{experiment_id}/traces", status_code=302)


@router.get("/static/{name}")
def static(name: str) -> Response:
    """Heron's stylesheet and script (a fixed list: no path from the request reaches the disk)."""
    media = STATIC_FILES.get(name)
    if media is None:
        return Response("Not found", 404, media_type="text/plain")
    body = (UI_DIR / "static" / name).read_bytes()
    return Response(body, media_type=media, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


@router.get("/experiments/{experiment_id}/traces")
def traces(request: Request, ctx: Ctx, experiment_id: str, filter: str = "", page_token: str = "") -> Response:
    """The experiment's traces, newest first, one page at a time; ``filter`` is search_traces' language.

    A bad filter or page token answers 400 with the message on the page; an unknown experiment 404.
    """
    try:
        experiment = ctx.client.get_experiment(experiment_id)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    query = filter.strip()
    try:
        found = fluent.search_traces([experiment.experiment_id], query or None, PAGE_SIZE, None, page_token or None,
                                     None, "list", include_spans=False, store=ctx.traces)
        token = found.token
    except HeronError as exc:
        return error_page(request, ctx, exc, experiment, filter=query, errors_only=_errors_only_url(experiment))
    base = f"/experiments/{experiment.experiment_id}/traces"
    next_url = f"{base}?{urlencode(_params(query, token))}" if token else None
    first_url = f"{base}?{urlencode(_params(query, None))}" if page_token else None
    return render(
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
    found = fluent.get_trace(trace_id, store=ctx.traces)
    if found is None:
        return error_page(request, ctx, HeronError.not_found(f"Trace {trace_id!r} not found."))
    view = trace_view.trace_view(found)
    try:
        experiment: Experiment | None = ctx.client.get_experiment(view.info.experiment_id)
    except HeronError:
        experiment = None
    return render(request, ctx, "trace.html", view=view, experiment=experiment)
