"""The UI's aggregates over stored traces (heron.tracing.overview) on SQLite and PostgreSQL: the summary
of a filtered set against the same numbers computed from search_traces, sessions and their totals, and a
trace's outline."""

from __future__ import annotations

import math
import random
import time

import pytest
import sqlalchemy as sa

import heron
from heron.errors import HeronError
from heron.tracing.overview import HOUR_MS, HOURLY_HOURS, TraceOverview
from heron.tracking.store.schema import traces as traces_table
from heron.tracking.stores import get_sql_store


def _seed() -> list[str]:
    @heron.trace(name="turn")
    def turn(session: str | None, n: int, fail: bool) -> int:
        if session:
            heron.update_current_trace(session_id=session, user_id="ada")
        with heron.start_span("child", span_type="TOOL"):
            time.sleep(0.002 * n)
        if fail:
            raise ValueError("boom")
        return n

    ids = []
    for n in range(7):
        try:
            turn("s-1" if n < 3 else "s-2" if n < 5 else None, n, fail=n == 4)
        except ValueError:
            pass
        ids.append(heron.get_last_active_trace_id() or "")
        time.sleep(0.003)  # distinct start times (milliseconds): the order of a session's traces is defined
    assert heron.flush_traces(30)
    return ids


def _overview(uri: str) -> TraceOverview:
    return TraceOverview(get_sql_store(uri).db)


def test_summary_matches_the_traces_it_covers(tracking_uri: str) -> None:
    _seed()
    overview = _overview(tracking_uri)
    for where in (None, "trace.status = 'OK'", "trace.status = 'ERROR' OR trace.session_id = 's-1'"):
        traces = [t.info for t in heron.search_traces(filter_string=where, return_type="list")]
        summary = overview.summary(["0"], where)
        assert summary.count == len(traces) and summary.count > 0, where
        assert summary.errors == sum(t.status == "ERROR" for t in traces)
        assert summary.input_tokens == sum(t.input_tokens for t in traces)
        durations = sorted(t.execution_duration or 0 for t in traces)
        assert summary.p50_ms == durations[math.ceil(0.5 * len(durations)) - 1]
        assert summary.p95_ms == durations[math.ceil(0.95 * len(durations)) - 1]
        assert sum(c for _, c in summary.hourly) == len(traces)
        assert all(hour % HOUR_MS == 0 for hour, _ in summary.hourly)
    empty = overview.summary(["0"], "trace.name = 'nothing'")
    assert (empty.count, empty.p50_ms, empty.cost, empty.hourly) == (0, None, None, ())
    with pytest.raises(HeronError, match="Invalid filter"):
        overview.summary(["0"], "trace.status = ")


def test_sessions_with_totals_and_their_traces_in_order(tracking_uri: str) -> None:
    ids = _seed()
    overview = _overview(tracking_uri)
    found, token = overview.sessions("0", 10, None)
    assert token is None
    assert [s.session_id for s in found] == ["s-2", "s-1"]  # most recently active first
    s2, s1 = found
    assert (s1.traces, s1.errors, s2.traces, s2.errors) == (3, 0, 2, 1)
    assert s1.user_id == "ada" and s1.first_ms <= s1.last_ms
    first, token = overview.sessions("0", 1, None)
    assert [s.session_id for s in first] == ["s-2"] and token is not None
    rest, token = overview.sessions("0", 1, token)
    assert [s.session_id for s in rest] == ["s-1"] and token is None
    assert overview.session_trace_ids("0", "s-1", 10) == ids[:3]
    assert overview.session_trace_ids("0", "s-1", 2) == ids[:2]
    assert overview.session_trace_ids("0", "nobody", 10) == []
    with pytest.raises(HeronError, match="page token"):
        overview.sessions("0", 10, "garbage")


def test_outline_and_one_span(tracking_uri: str) -> None:
    ids = _seed()
    overview = _overview(tracking_uri)
    outline = overview.outline(ids[0])
    assert [s.name for s in outline] == ["turn", "child"]
    root, child = outline
    assert child.parent_id == root.span_id and root.parent_id is None
    span = overview.span(ids[0], child.span_id)
    assert span.span_type == "TOOL" and span.name == "child"
    assert overview.outline("0" * 32) == []
    with pytest.raises(HeronError, match="not found"):
        overview.span(ids[0], "0" * 16)


def _bulk(uri: str, experiment_id: int, n: int) -> list[dict[str, object]]:
    """``n`` trace rows written straight into the store's table: durations spread over six decades with
    ties, negative (clock skew) and unfinished traces, errors, unpriced spans, a last trace 10 days later."""
    rng = random.Random(6)
    now = 1_790_000_000_000
    rows: list[dict[str, object]] = []
    for i in range(n):
        start = now + i * 60_000 + (10 * 86_400_000 if i == n - 1 else 0)
        duration = (None if i % 17 == 0 else -3 if i % 41 == 0 else rng.choice([0, 1, 999, 1000])
                    if i % 5 == 0 else int(10 ** rng.uniform(0, 6)))
        tokens = rng.randint(0, 900)
        rows.append({"trace_id": f"{experiment_id:04d}{i:028x}", "experiment_id": experiment_id,
                     "status": "ERROR" if i % 7 == 0 else "OK", "start_time": start,
                     "end_time": None if duration is None else start + duration, "input_tokens": tokens,
                     "output_tokens": tokens // 3, "cost": None if i % 3 == 0 else tokens * 1e-6,
                     "unpriced_spans": int(i % 11 == 0), "name": f"t-{i % 4}"})
    with get_sql_store(uri).db.write() as conn:
        conn.execute(sa.insert(traces_table), rows)
    return rows


def _brute(rows: list[dict[str, object]]) -> tuple[object, ...]:
    durations = sorted(int(r["end_time"]) - int(r["start_time"]) for r in rows  # type: ignore[call-overload]
                       if r["end_time"] is not None)
    costs = [float(r["cost"]) for r in rows if r["cost"] is not None]  # type: ignore[arg-type]
    rank = [max(1, math.ceil(p * len(durations))) - 1 for p in (0.5, 0.95)]
    return (len(rows), sum(r["status"] == "ERROR" for r in rows), sum(int(r["input_tokens"]) for r in rows),  # type: ignore[call-overload]
            sum(int(r["output_tokens"]) for r in rows), sum(bool(r["unpriced_spans"]) for r in rows),  # type: ignore[call-overload]
            math.fsum(costs) if costs else None,
            durations[rank[0]] if durations else None, durations[rank[1]] if durations else None)


def test_summary_numbers_equal_a_brute_force_computation_on_every_path(tracking_uri: str) -> None:
    """The experiment-wide path (index OFFSET), the filtered path (SQLite's histogram then two buckets read
    back; PostgreSQL's percentile_disc) and the row_number() fallback give the exact numbers."""
    rows = _bulk(tracking_uri, 7, 3000)
    _bulk(tracking_uri, 8, 40)  # another experiment, never counted
    overview = _overview(tracking_uri)

    def check(where: str | None, subset: list[dict[str, object]]) -> None:
        s = overview.summary(["7"], where)
        count, errors, tokens_in, tokens_out, unpriced, cost, p50, p95 = _brute(subset)
        assert (s.count, s.errors, s.input_tokens, s.output_tokens, s.unpriced) == (
            count, errors, tokens_in, tokens_out, unpriced), where
        assert (s.p50_ms, s.p95_ms) == (p50, p95), where
        assert s.cost == (None if cost is None else pytest.approx(cost)), where
        newest = max(int(r["start_time"]) for r in subset) // HOUR_MS  # type: ignore[call-overload]
        hours: dict[int, int] = {}
        for r in subset:
            hour = int(r["start_time"]) // HOUR_MS  # type: ignore[call-overload]
            if hour > newest - HOURLY_HOURS:
                hours[hour * HOUR_MS] = hours.get(hour * HOUR_MS, 0) + 1
        assert s.hourly == tuple(sorted(hours.items())), where

    check(None, rows)
    check("trace.status = 'ERROR'", [r for r in rows if r["status"] == "ERROR"])
    check("trace.name = 't-1' AND trace.execution_time_ms > 500",
          [r for r in rows if r["name"] == "t-1" and r["end_time"] is not None
           and int(r["end_time"]) - int(r["start_time"]) > 500])  # type: ignore[call-overload]
    check("trace.name = 't-2' OR trace.status = 'ERROR'",
          [r for r in rows if r["name"] == "t-2" or r["status"] == "ERROR"])
    if overview.db.is_sqlite:  # a SQLite without math functions: the row_number() window
        overview._sqlite_log = False
        check("trace.status = 'OK'", [r for r in rows if r["status"] == "OK"])
    unfinished = overview.summary(["7"], "trace.execution_time_ms IS NULL")
    assert unfinished.count == sum(r["end_time"] is None for r in rows) and unfinished.p50_ms is None
