"""Aggregate reads of stored traces for the web UI, computed in SQL: the summary of a filtered set of
traces (per-hour counts, latency percentiles, token and cost totals), sessions with their totals, and the
outline of one trace's spans (ids, names, times: no inputs or outputs) for very large traces.

Nothing here loads every row into Python: sums and counts are GROUP BY queries, the percentiles come from
one ``row_number()`` window over the durations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from heron.errors import HeronError
from heron.tracing import search, search_sql
from heron.tracing.records import Span
from heron.tracing.sqlstore import SqlTraceStore
from heron.tracking.search import decode_page_token, encode_page_token
from heron.tracking.store.db import Database
from heron.tracking.store.schema import spans, traces

__all__ = ["HOUR_MS", "SessionSummary", "SpanOutline", "TraceOverview", "TraceSummary"]

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class TraceSummary:
    """Totals over a filtered set of traces; ``hourly`` is ``(hour start in ms, traces)`` for each hour that
    has traces, oldest first. Percentiles are nearest-rank over finished traces (None when none)."""

    count: int
    errors: int
    input_tokens: int
    output_tokens: int
    cost: float | None
    unpriced: int
    p50_ms: int | None
    p95_ms: int | None
    hourly: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class SessionSummary:
    """One session of an experiment: its traces' count and totals, first start and last end (ms)."""

    session_id: str
    traces: int
    errors: int
    first_ms: int
    last_ms: int
    input_tokens: int
    output_tokens: int
    cost: float | None
    unpriced: int
    user_id: str | None


@dataclass(frozen=True)
class SpanOutline:
    """A span without its payloads: what the tree and the timeline draw."""

    span_id: str
    parent_id: str | None
    name: str
    span_type: str
    status: str
    start_time_ns: int
    end_time_ns: int


class TraceOverview:
    """Aggregate reads over one SQL tracking store. Thread-safe (each call uses its own connection)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _where(self, experiment_ids: Sequence[str], filter_string: str | None) -> list[sa.ColumnElement[bool]]:
        expr = search.parse_filter(filter_string)
        where: list[sa.ColumnElement[bool]] = [traces.c.experiment_id.in_([_int(e) for e in experiment_ids])]
        if expr is not None:
            where.append(search_sql.condition(expr, self.db.is_sqlite))
        return where

    def summary(self, experiment_ids: Sequence[str], filter_string: str | None) -> TraceSummary:
        """Totals over every trace matching ``filter_string`` (search_traces' language).

        Raises HeronError(INVALID_PARAMETER_VALUE) for a bad filter.
        """
        where = self._where(experiment_ids, filter_string)
        hour = (traces.c.start_time // HOUR_MS).label("hour")
        # two queries: the per-hour counts read only (experiment_id, start_time), an index; one GROUP BY
        # carrying every sum costs more than a second pass without one
        per_hour = sa.select(hour, sa.func.count()).where(*where).group_by(hour).order_by(hour)
        totals = sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((traces.c.status == "ERROR", 1), else_=0)),
            sa.func.sum(traces.c.input_tokens),
            sa.func.sum(traces.c.output_tokens),
            sa.func.sum(traces.c.cost),
            sa.func.sum(sa.case((traces.c.unpriced_spans > 0, 1), else_=0)),
            sa.func.count(traces.c.end_time),
        ).where(*where)
        with self.db.read() as conn:
            hourly = conn.execute(per_hour).all()
            count, errors, input_tokens, output_tokens, cost, unpriced, finished = conn.execute(totals).one()
            p50, p95 = self._percentiles(conn, where, int(finished or 0))
        return TraceSummary(
            count=int(count),
            errors=int(errors or 0),
            input_tokens=int(input_tokens or 0),
            output_tokens=int(output_tokens or 0),
            cost=None if cost is None else float(cost),
            unpriced=int(unpriced or 0),
            p50_ms=p50,
            p95_ms=p95,
            hourly=tuple((int(h) * HOUR_MS, int(c)) for h, c in hourly),
        )

    def _percentiles(self, conn: sa.Connection, where: list[sa.ColumnElement[bool]],
                     finished: int) -> tuple[int | None, int | None]:
        if finished == 0:
            return None, None
        ranks = {p: max(1, math.ceil(p * finished)) for p in (0.5, 0.95)}
        duration = (traces.c.end_time - traces.c.start_time)
        ranked = sa.select(duration.label("d"), sa.func.row_number().over(order_by=duration).label("rn")).where(
            *where, traces.c.end_time.is_not(None)).subquery()
        found = {int(rn): int(d) for d, rn in conn.execute(
            sa.select(ranked.c.d, ranked.c.rn).where(ranked.c.rn.in_(sorted(set(ranks.values())))))}
        return found.get(ranks[0.5]), found.get(ranks[0.95])

    def sessions(self, experiment_id: str, max_results: int,
                 page_token: str | None) -> tuple[list[SessionSummary], str | None]:
        """The experiment's sessions, most recently active first, one page; the next page's token or None.

        Raises HeronError(INVALID_PARAMETER_VALUE) for a bad page token.
        """
        offset = decode_page_token(page_token)
        last = sa.func.max(sa.func.coalesce(traces.c.end_time, traces.c.start_time))
        stmt = sa.select(
            traces.c.session_id,
            sa.func.count(),
            sa.func.sum(sa.case((traces.c.status == "ERROR", 1), else_=0)),
            sa.func.min(traces.c.start_time),
            last,
            sa.func.sum(traces.c.input_tokens),
            sa.func.sum(traces.c.output_tokens),
            sa.func.sum(traces.c.cost),
            sa.func.sum(sa.case((traces.c.unpriced_spans > 0, 1), else_=0)),
            sa.func.max(traces.c.user_id),
        ).where(traces.c.experiment_id == _int(experiment_id), traces.c.session_id.is_not(None)).group_by(
            traces.c.session_id).order_by(last.desc(), traces.c.session_id).limit(max_results + 1).offset(offset)
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
        found = [SessionSummary(str(r[0]), int(r[1]), int(r[2] or 0), int(r[3]), int(r[4]), int(r[5] or 0),
                                int(r[6] or 0), None if r[7] is None else float(r[7]), int(r[8] or 0), r[9])
                 for r in rows[:max_results]]
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return found, token

    def session_trace_ids(self, experiment_id: str, session_id: str, limit: int) -> list[str]:
        """The ids of a session's traces in the order they started (at most ``limit``)."""
        stmt = sa.select(traces.c.trace_id).where(
            traces.c.experiment_id == _int(experiment_id), traces.c.session_id == session_id,
        ).order_by(traces.c.start_time, traces.c.trace_id).limit(limit)
        with self.db.read() as conn:
            return [str(i) for i in conn.execute(stmt).scalars()]

    def outline(self, trace_id: str) -> list[SpanOutline]:
        """Every span of the trace without its payloads, by start time."""
        stmt = sa.select(spans.c.span_id, spans.c.parent_span_id, spans.c.name, spans.c.span_type, spans.c.status,
                         spans.c.start_time_ns, spans.c.end_time_ns).where(spans.c.trace_id == trace_id)
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
        found = [SpanOutline(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6])) for r in rows]
        found.sort(key=lambda s: (s.start_time_ns, s.span_id))
        return found

    def span(self, trace_id: str, span_id: str) -> Span:
        """One span with its payloads. Raises HeronError(RESOURCE_DOES_NOT_EXIST) when there is none."""
        found = SqlTraceStore(self.db).get_spans(trace_id, [span_id])
        if not found:
            raise HeronError.not_found(f"Span {span_id!r} of trace {trace_id!r} not found.")
        return found[0]


def _int(value: str | int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # matches nothing: experiment ids are integers
