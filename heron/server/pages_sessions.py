"""The sessions pages: an experiment's sessions (traces grouped by ``session_id``) with their totals, and
one session's traces in order as a conversation."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from heron.errors import HeronError
from heron.server.context import Ctx
from heron.server.render import error_page, render
from heron.tracing.overview import TraceOverview
from heron.ui.session_view import session_row, turn
from heron.ui.trace_view import cost_of, duration_text

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_TURNS = 500  # a session page shows at most this many traces (the oldest first)


@router.get("/experiments/{experiment_id}/sessions")
def sessions(request: Request, ctx: Ctx, experiment_id: str, page_token: str = "") -> Response:
    """The experiment's sessions, most recently active first, one page at a time (400 for a bad token)."""
    try:
        experiment = ctx.client.get_experiment(experiment_id)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    try:
        found, token = TraceOverview(ctx.store.db).sessions(experiment.experiment_id, PAGE_SIZE, page_token or None)
    except HeronError as exc:
        return error_page(request, ctx, exc, experiment, tab="sessions")
    base = f"/experiments/{experiment.experiment_id}/sessions"
    return render(request, ctx, "sessions.html", experiment=experiment, tab="sessions",
                  rows=[session_row(s) for s in found],
                  next_url=f"{base}?{urlencode({'page_token': token})}" if token else None,
                  first_url=base if page_token else None)


@router.get("/experiments/{experiment_id}/sessions/{session_id:path}")
def session(request: Request, ctx: Ctx, experiment_id: str, session_id: str) -> Response:
    """One session's traces in the order they started, with the session's totals; 404 when it has none."""
    try:
        experiment = ctx.client.get_experiment(experiment_id)
    except HeronError as exc:
        return error_page(request, ctx, exc)
    ids = TraceOverview(ctx.store.db).session_trace_ids(experiment.experiment_id, session_id, MAX_TURNS + 1)
    if not ids:
        return error_page(request, ctx, HeronError.not_found(
            f"Session {session_id!r} has no traces in experiment {experiment.name!r}."), experiment, tab="sessions")
    infos = [t.info for t in ctx.traces.get_traces(ids[:MAX_TURNS], include_spans=False)]
    costs = [i.cost for i in infos if i.cost is not None]
    starts = [i.request_time for i in infos]
    ends = [i.request_time + (i.execution_duration or 0) for i in infos]
    return render(
        request, ctx, "session.html", experiment=experiment, tab="sessions", session_id=session_id,
        turns=[turn(i) for i in infos], truncated=len(ids) > MAX_TURNS,
        errors=sum(1 for i in infos if i.status == "ERROR"),
        input_tokens=sum(i.input_tokens for i in infos), output_tokens=sum(i.output_tokens for i in infos),
        cost=cost_of(sum(costs) if costs else None, any(i.unpriced for i in infos)),
        duration=duration_text(max(ends) - min(starts)), users=sorted({i.user_id for i in infos if i.user_id}),
    )
