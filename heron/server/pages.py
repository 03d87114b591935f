"""The web UI's trace pages (server-rendered HTML): an experiment's traces and their summary strip, one
trace in detail, and for large traces the JSON outline rows and span-detail fragments its script fetches.

Pages read the server's own store with the functions users call (``heron.search_traces``,
``heron.get_trace``), given the server's trace store as ``store=``: the process's tracking URI is not the
server's database, and a server must not change it per request. Templates autoescape every value; a
Content-Security-Policy allows only Heron's own script and stylesheet, as a second line of defence.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from heron.errors import HeronError
from heron.server.access import access_of
from heron.server.context import Ctx, ServerContext
from heron.server.errors import error_response
from heron.server.render import STATIC_FILES, UI_DIR, error_page, render, render_fragment
from heron.tracing import fluent
from heron.tracing.overview import SpanOutline, TraceOverview
from heron.tracking.entities import Experiment
from heron.ui import trace_view
from heron.ui.outline_view import FIRST_SCREEN, LAZY_SPANS, outline_rows, row_json
from heron.ui.summary_view import summary_view
from heron.ui.trace_view import SpanNode
from heron.ui.traces_query import SINCE, TracesQuery

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


@router.get("/")
def home(request: Request, ctx: Ctx) -> Response:
    """The landing page: the traces of the Default experiment (id 0 when it has been renamed); the
    experiment list when the user may not READ that one (auth on)."""
    default = ctx.client.get_experiment_by_name("Default")
    experiment_id = default.experiment_id if default is not None else "0"
    if not access_of(request).can_read_experiment(experiment_id):
        return RedirectResponse("/experiments", status_code=302)
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
def traces(request: Request, ctx: Ctx, experiment_id: str) -> Response:
    """The experiment's traces, one page at a time (newest first unless sorted otherwise), under a summary
    strip of the whole filtered set. The query string holds everything (see ``TracesQuery``).

    A bad filter, quick filter, sort or page token answers 400 with the message on the page; an unknown
    experiment 404.
    """
    try:
        experiment = ctx.client.get_experiment(experiment_id)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    base = f"/experiments/{experiment.experiment_id}/traces"
    raw = dict(request.query_params)
    try:
        query = TracesQuery.parse(raw)
        wanted = query.search_filter(int(time.time() * 1000)) or None
        found = fluent.search_traces([experiment.experiment_id], wanted, PAGE_SIZE, query.order_by(),
                                     query.page_token or None, None, "list", include_spans=False, store=ctx.traces)
        token = found.token
    except HeronError as exc:
        fallback = TracesQuery(filter=raw.get("filter", "").strip())
        return error_page(request, ctx, exc, experiment, filter=fallback.filter, q=fallback, base=base,
                          since_options=SINCE, tab="traces")
    rows = [trace_view.trace_row(t.info) for t in found]
    return render(
        request, ctx, "traces.html", experiment=experiment, rows=rows, q=query, base=base,
        filter=query.filter, since_options=SINCE, tab="traces", summary_url=query.url(f"{base}/summary"),
        next_url=query.url(base, page_token=token) if token else None,
        first_url=query.url(base) if query.page_token else None,
        show_prompts=any(r.prompts for r in rows), show_scores=any(r.scores for r in rows),
    )


@router.get("/experiments/{experiment_id}/traces/summary")
def traces_summary(request: Request, ctx: Ctx, experiment_id: str) -> Response:
    """The summary strip of a traces page (same query string) over the whole filtered set: traces per
    hour, p50/p95 latency, tokens and cost, computed in SQL. Its own request so that the table never
    waits for an aggregate over every trace; the traces page's script fetches it, and without script the
    page links to it."""
    try:
        experiment = ctx.client.get_experiment(experiment_id)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    base = f"/experiments/{experiment.experiment_id}/traces"
    raw = dict(request.query_params)
    try:
        query = TracesQuery.parse(raw)
        wanted = query.search_filter(int(time.time() * 1000)) or None
        summary = summary_view(TraceOverview(ctx.store.db).summary([experiment.experiment_id], wanted))
    except HeronError as exc:
        fallback = TracesQuery(filter=raw.get("filter", "").strip())
        return error_page(request, ctx, exc, experiment, filter=fallback.filter, q=fallback, base=base,
                          since_options=SINCE, tab="traces")
    return render(request, ctx, "traces_summary.html", experiment=experiment, q=query, base=base,
                  summary=summary, tab="traces", back_url=query.url(base))


@router.get("/traces/{trace_id}")
def trace(request: Request, ctx: Ctx, trace_id: str, span: str = "", start: str = "0") -> Response:
    """One trace: totals, the span tree beside a timeline, and the spans' inputs, outputs, attributes and
    events. 404 page for an unknown id (``tr-`` prefix accepted).

    A trace of more than ``LAZY_SPANS`` spans renders lazily: the page holds a window of tree and timeline
    rows (``start``: the first row, default 0) and the details of one span (``span``: its id, default the
    first row's); the script fetches more rows from ``/traces/ID/outline`` and other spans' details from
    ``/traces/ID/spans/SPAN_ID``.
    """
    wanted = _trace_id(trace_id)
    overview = TraceOverview(ctx.store.db)
    outline = overview.outline(wanted)
    found = ctx.traces.get_traces([wanted], include_spans=len(outline) <= LAZY_SPANS)
    if not found:
        return error_page(request, ctx, HeronError.not_found(f"Trace {trace_id!r} not found."))
    experiment = _experiment(ctx, found[0].info.experiment_id)
    if len(outline) <= LAZY_SPANS:
        view = trace_view.trace_view(found[0])
        return render(request, ctx, "trace.html", view=view, experiment=experiment, lazy=False,
                      span_total=len(view.spans), tab=None)
    try:
        first = _offset("start", start, len(outline))
    except HeronError as exc:
        return error_page(request, ctx, exc)
    window, total = outline_rows(outline, first, FIRST_SCREEN)
    selected = span or window[0].span_id
    try:
        node = _span_node(overview, wanted, selected, outline)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    info = found[0].info
    view = trace_view.TraceView(
        row=trace_view.trace_row(info), info=info, roots=[], spans=[node],
        duration=trace_view.duration_text(info.execution_duration), cost=trace_view.cost_of(info.cost, info.unpriced),
        metadata=sorted((str(k), str(v)) for k, v in info.trace_metadata.items()))
    after = first + len(window)
    base = f"/traces/{info.trace_id}"
    return render(
        request, ctx, "trace.html", view=view, experiment=experiment, lazy=True, span_total=total,
        window=window, window_start=first, base=base,
        more_url=f"{base}?{urlencode({'start': after})}" if after < total else None,
        earlier_url=f"{base}?{urlencode({'start': max(first - FIRST_SCREEN, 0)})}" if first else None,
        outline_url=f"{base}/outline", next_offset=after if after < total else None,
    )


@router.get("/traces/{trace_id}/outline")
def trace_outline(ctx: Ctx, trace_id: str, offset: str = "0", limit: str = "1000") -> Response:
    """Rows of a trace's span tree as JSON: ``{"rows": [...], "total": N, "next": offset or null}``.

    400 (one JSON error) for a bad offset or limit, 404 for an unknown trace.
    """
    wanted = _trace_id(trace_id)
    outline = TraceOverview(ctx.store.db).outline(wanted)
    try:
        if not outline and not ctx.traces.exists(wanted):
            raise HeronError.not_found(f"Trace {trace_id!r} not found.")
        first = _offset("offset", offset, len(outline) + 1)
        count = max(_offset("limit", limit, 5001), 1)
    except HeronError as exc:  # the script reads JSON; other errors under page paths become HTML pages
        return error_response(exc.error_code, exc.message)
    window, total = outline_rows(outline, first, count)
    after = first + len(window)
    return JSONResponse({"rows": [row_json(r) for r in window], "total": total,
                         "next": after if after < total else None})


@router.get("/traces/{trace_id}/spans/{span_id}")
def trace_span(request: Request, ctx: Ctx, trace_id: str, span_id: str) -> Response:
    """One span's details as an HTML fragment (the trace page's script inserts it); 404 when unknown."""
    wanted = _trace_id(trace_id)
    overview = TraceOverview(ctx.store.db)
    try:
        node = _span_node(overview, wanted, span_id, overview.outline(wanted))
    except HeronError as exc:
        return error_page(request, ctx, exc)
    return render_fragment("span_detail.html", s=node)


def _trace_id(trace_id: str) -> str:
    return trace_id[3:] if trace_id.startswith("tr-") else trace_id


def _experiment(ctx: ServerContext, experiment_id: str) -> Experiment | None:
    try:
        return ctx.client.get_experiment(experiment_id)
    except HeronError:
        return None


def _offset(name: str, text: str, limit: int) -> int:
    if not text.strip().isdigit() or int(text) >= limit:
        raise HeronError.invalid(f"Invalid {name} {text!r}: expected a whole number from 0 to {limit - 1}.")
    return int(text)


def _span_node(overview: TraceOverview, trace_id: str, span_id: str, outline: list[SpanOutline]) -> SpanNode:
    """The detail view of one span, its timeline offsets relative to the whole trace."""
    found = overview.span(trace_id, span_id)
    start_ns = min((s.start_time_ns for s in outline), default=found.start_time_ns)
    end_ns = max((s.end_time_ns for s in outline), default=found.end_time_ns)
    parents = {s.span_id: s.parent_id for s in outline}
    depth, parent = 0, parents.get(span_id)
    while parent in parents and depth < 200:
        depth, parent = depth + 1, parents[parent]
    return trace_view.span_node(found, depth, start_ns, max(end_ns - start_ns, 1))
