"""Aggregate reads of stored traces for the web UI, computed in SQL: the summary of a filtered set of
traces (per-hour counts, latency percentiles, token and cost totals), sessions with their totals, and the
outline of one trace's spans (ids, names, times: no inputs or outputs) for very large traces.

Nothing here loads every row into Python: sums and counts are GROUP BY queries over the covering index
``ix_traces_experiment_start_covering``. The exact p50/p95 come from PostgreSQL's ``percentile_disc``; on
SQLite from a latency histogram in the same pass (log buckets, 100 a decade) after which only the
durations of the two buckets holding the ranks are read back and sorted (a ``row_number()`` window over
every duration when the SQLite build lacks ``log``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import sqlalchemy as sa

from heron.errors import HeronError
from heron.tracing import search, search_sql
from heron.tracing.records import Span
from heron.tracing.sqlstore import SqlTraceStore
from heron.tracking.search import decode_page_token, encode_page_token
from heron.tracking.store.db import Database
from heron.tracking.store.schema import spans, traces

__all__ = ["HOUR_MS", "HOURLY_HOURS", "SessionSummary", "SpanOutline", "TraceOverview", "TraceSummary"]

HOUR_MS = 3_600_000
HOURLY_HOURS = 168  # the per-hour counts cover the last week up to the newest trace of the set
PERCENTILES = (0.5, 0.95)
BUCKETS_PER_DECADE = 100  # the latency histogram's log buckets: 2.3 % wide; only two are read back


@dataclass(frozen=True)
class TraceSummary:
    """Totals over a filtered set of traces; ``hourly`` is ``(hour start in ms, traces)`` for each hour that
    has traces among the last ``HOURLY_HOURS`` hours up to the newest trace's hour, oldest first.
    Percentiles are exact nearest-rank over finished traces (None when none)."""

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
        self._sqlite_log: bool | None = None

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
        with self.db.read() as conn:
            if len(where) == 1 and len(experiment_ids) == 1:  # every trace of one experiment: the page's default
                totals = self._experiment_totals(conn, where)
            elif self.db.is_sqlite and self._has_log(conn):
                totals = self._sqlite_totals(conn, where)
            else:
                totals = self._totals(conn, where)
            hourly: list[tuple[int, int]] = []
            if totals.newest is not None:
                # the sparkline's hours only: an index range instead of a GROUP BY over every trace
                since = (totals.newest // HOUR_MS - (HOURLY_HOURS - 1)) * HOUR_MS
                hour = (traces.c.start_time // HOUR_MS).label("hour")
                hourly = [(int(h) * HOUR_MS, int(c)) for h, c in conn.execute(sa.select(hour, sa.func.count()).where(
                    *where, traces.c.start_time >= since).group_by(hour).order_by(hour))]
        return replace(totals.summary, hourly=tuple(hourly))

    def _has_log(self, conn: sa.Connection) -> bool:
        """Whether this SQLite has its math functions (``log``); Python's builds usually do."""
        if self._sqlite_log is None:
            try:
                conn.execute(sa.text("SELECT log(2.0)")).one()
                self._sqlite_log = True
            except sa.exc.OperationalError:
                self._sqlite_log = False
        return self._sqlite_log

    def _totals(self, conn: sa.Connection, where: list[sa.ColumnElement[bool]]) -> _Totals:
        """One aggregate; exact percentiles with PostgreSQL's ``percentile_disc`` (nearest rank), or on a
        SQLite without ``log`` one ``row_number()`` window over the sorted durations."""
        duration = traces.c.end_time - traces.c.start_time
        columns: list[sa.ColumnElement[Any]] = [*_sums(), sa.func.count(traces.c.end_time),
                                                sa.func.max(traces.c.start_time)]
        if not self.db.is_sqlite:
            columns += [sa.func.percentile_disc(p).within_group(duration) for p in PERCENTILES]
        row = conn.execute(sa.select(*columns).where(*where)).one()
        finished = int(row[6] or 0)
        if not self.db.is_sqlite:
            p50, p95 = _opt_int(row[8]), _opt_int(row[9])
        elif finished == 0:
            p50 = p95 = None
        else:
            p50, p95 = self._ranked(conn, where, finished)
        return _Totals(TraceSummary(*_totals_of(row[:6]), p50_ms=p50, p95_ms=p95, hourly=()), _opt_int(row[7]))

    def _experiment_totals(self, conn: sa.Connection, where: list[sa.ColumnElement[bool]]) -> _Totals:
        """One aggregate over the covering index, then p50 and p95 as an OFFSET into
        ``ix_traces_experiment_duration`` (from the short end: p95 counts back from the longest)."""
        row = conn.execute(sa.select(*_sums(), sa.func.count(traces.c.end_time), sa.func.max(traces.c.start_time))
                           .where(*where)).one()
        finished = int(row[6] or 0)
        p50 = p95 = None
        if finished:
            duration = traces.c.end_time - traces.c.start_time
            found = []
            for rank in _ranks(finished):
                ascending = rank <= finished - rank
                stmt = sa.select(duration).where(*where, duration.is_not(None)).order_by(
                    duration.asc() if ascending else duration.desc()).limit(1).offset(
                    rank - 1 if ascending else finished - rank)
                found.append(_opt_int(conn.execute(stmt).scalar()))
            p50, p95 = found
        return _Totals(TraceSummary(*_totals_of(row[:6]), p50_ms=p50, p95_ms=p95, hourly=()), _opt_int(row[7]))

    def _ranked(self, conn: sa.Connection, where: list[sa.ColumnElement[bool]],
                finished: int) -> tuple[int | None, int | None]:
        """p50 and p95 from one ``row_number()`` window over every sorted duration (exact, slow)."""
        duration = traces.c.end_time - traces.c.start_time
        ranks = _ranks(finished)
        ranked = sa.select(duration.label("d"), sa.func.row_number().over(order_by=duration).label("rn")).where(
            *where, traces.c.end_time.is_not(None)).subquery()
        found = {int(rn): int(d) for d, rn in conn.execute(
            sa.select(ranked.c.d, ranked.c.rn).where(ranked.c.rn.in_(sorted(set(ranks)))))}
        return found.get(ranks[0]), found.get(ranks[1])

    def _sqlite_totals(self, conn: sa.Connection, where: list[sa.ColumnElement[bool]]) -> _Totals:
        """The sums grouped by a log bucket of the duration (one pass over the covering index: a latency
        histogram), then the exact nearest-rank percentiles: only the durations in the two buckets that
        hold the p50 and p95 ranks are read back and sorted."""
        duration = traces.c.end_time - traces.c.start_time
        # NULL for unfinished traces (SQLite's two-argument max is NULL when one is); a negative duration
        # (a clock skew) falls in bucket 0
        bucket = sa.cast(sa.func.log(sa.func.max(duration, 0) + 1) * BUCKETS_PER_DECADE,
                         sa.Integer).label("bucket")
        rows = conn.execute(sa.select(bucket, *_sums(), sa.func.max(traces.c.start_time)).where(*where)
                            .group_by(bucket)).all()
        if not rows:
            return _Totals(TraceSummary(0, 0, 0, 0, None, 0, None, None, ()), None)
        sums = [sum(int(r[i] or 0) for r in rows) for i in (1, 2, 3, 4, 6)]
        costs = [float(r[5]) for r in rows if r[5] is not None]
        newest = max(int(r[7]) for r in rows)
        histogram = sorted((int(r[0]), int(r[1])) for r in rows if r[0] is not None)  # finished traces
        counts = dict(histogram)
        finished = sum(c for _, c in histogram)
        if finished == 0:
            return _Totals(TraceSummary(sums[0], sums[1], sums[2], sums[3], math.fsum(costs) if costs else None,
                                        sums[4], None, None, ()), newest)
        # the bucket of each rank and the rank's position inside it
        wanted: dict[int, tuple[int, int]] = {}
        below = 0
        ranks = _ranks(finished)
        for b, c in histogram:
            for rank in ranks:
                if below < rank <= below + c:
                    wanted[rank] = (b, rank - below)
            below += c
        # read back the durations of those buckets only: a range on the duration (a little wider than the
        # bucket) so that log() runs on these rows alone, then the same bucket expression picks them out
        ranges = [duration.between(_decade_floor(b) - 2, _decade_floor(b + 1) + 1) for b in {b for b, _ in wanted.values()}]
        inside: dict[int, list[int]] = {}
        for b, d in conn.execute(sa.select(bucket, duration).where(
                *where, traces.c.end_time.is_not(None), sa.or_(*ranges))):
            inside.setdefault(int(b), []).append(int(d))
        if any(len(inside.get(b, ())) != counts[b] for b, _ in wanted.values()):  # never expected
            p50, p95 = self._ranked(conn, where, finished)
        else:
            for values in inside.values():
                values.sort()
            p50, p95 = (inside[wanted[r][0]][wanted[r][1] - 1] for r in ranks)
        return _Totals(TraceSummary(sums[0], sums[1], sums[2], sums[3], math.fsum(costs) if costs else None,
                                    sums[4], p50, p95, ()), newest)

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


class _Totals(NamedTuple):
    summary: TraceSummary  # without the hourly counts
    newest: int | None  # the latest start time (ms) in the set


def _sums() -> list[sa.ColumnElement[Any]]:
    """count, errors, input tokens, output tokens, cost, traces with unpriced spans: the covering index's
    columns only."""
    return [
        sa.func.count(),
        sa.func.sum(sa.case((traces.c.status == "ERROR", 1), else_=0)),
        sa.func.sum(traces.c.input_tokens),
        sa.func.sum(traces.c.output_tokens),
        sa.func.sum(traces.c.cost),
        sa.func.sum(sa.case((traces.c.unpriced_spans > 0, 1), else_=0)),
    ]


def _totals_of(row: Sequence[Any]) -> tuple[int, int, int, int, float | None, int]:
    count, errors, input_tokens, output_tokens, cost, unpriced = row
    return (int(count), int(errors or 0), int(input_tokens or 0), int(output_tokens or 0),
            None if cost is None else float(cost), int(unpriced or 0))


def _ranks(finished: int) -> tuple[int, int]:
    """The nearest ranks (1-based) of p50 and p95 among ``finished`` sorted durations."""
    p50, p95 = (max(1, math.ceil(p * finished)) for p in PERCENTILES)
    return p50, p95


def _decade_floor(bucket: int) -> int:
    """The smallest duration (ms) of a latency bucket, up to float rounding: log10(d + 1) * 100 = bucket."""
    return math.floor(10 ** (bucket / BUCKETS_PER_DECADE)) - 1


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _int(value: str | int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1  # matches nothing: experiment ids are integers
