"""The UI's aggregates over stored traces (heron.tracing.overview) on SQLite and PostgreSQL: the summary
of a filtered set against the same numbers computed from search_traces, sessions and their totals, and a
trace's outline."""

from __future__ import annotations

import math
import time

import pytest

import heron
from heron.errors import HeronError
from heron.tracing.overview import HOUR_MS, TraceOverview
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
