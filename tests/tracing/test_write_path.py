"""The trace write path: time-ordered trace ids, and batches of every size written whole (SQLite writes
many rows a statement), on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, TraceIdRatioBased

import heron
from heron.tracing.cost import span_cost
from heron.tracing.ids import TimeOrderedIdGenerator, trace_id_time_ms
from heron.tracing.pending import Target, from_readable
from heron.tracing.sinks import SqlSink
from heron.tracing.sqlwrite import TraceWriter
from heron.tracing.usage import UsageLedger, summarize
from heron.tracking.stores import get_sql_store


def test_trace_ids_start_with_the_time_they_were_made(sqlite_uri: str) -> None:
    before = time.time_ns() // 1_000_000
    with heron.start_span("first") as first:
        pass
    time.sleep(0.003)
    with heron.start_span("second") as second:
        pass
    after = time.time_ns() // 1_000_000
    ids = [int(first.trace_id, 16), int(second.trace_id, 16)]
    assert all(before <= trace_id_time_ms(i) <= after for i in ids)
    assert ids[0] < ids[1]  # made later, sorts later
    assert heron.flush_traces(timeout=30)
    assert {t.info.trace_id for t in heron.search_traces(return_type="list")} == {first.trace_id, second.trace_id}


def test_time_ordered_ids_are_random_where_sampling_looks() -> None:
    generator = TimeOrderedIdGenerator()
    ids = [generator.generate_trace_id() for _ in range(4_000)]
    assert len(set(ids)) == len(ids)
    assert generator.is_trace_id_random()
    # OpenTelemetry's ratio sampler reads the low 64 bits: they must be uniformly random
    sampler = TraceIdRatioBased(0.5)
    kept = sum(sampler.should_sample(None, i, "span").decision is Decision.RECORD_AND_SAMPLE for i in ids)
    assert 0.44 * len(ids) < kept < 0.56 * len(ids)
    spans = {generator.generate_span_id() for _ in range(4_000)}
    assert len(spans) == 4_000 and 0 not in spans


@pytest.mark.parametrize("count", [1, 3, 255, 256, 257, 341, 700, 1023, 1024, 1025, 1365])
def test_batches_of_every_size_are_written_whole(tracking_uri: str, count: int) -> None:
    """Counts around the multi-row statement sizes (1024, 256, 64, 16, 4, 1), with explicitly named
    traces (written one statement a row) mixed in."""
    ids = []
    for i in range(count):
        with heron.start_span(f"call-{i}", span_type="CHAIN") as span:
            span.set_inputs({"i": i})
            span.set_outputs(f"out-{i}")
            if i % 50 == 7:
                heron.update_current_trace(name=f"named-{i}")
        ids.append(span.trace_id)
    assert heron.flush_traces(timeout=60)
    assert heron.tracing.stats()["dropped"] == 0
    found = {t.info.trace_id: t.info for t in heron.search_traces(max_results=2_000, return_type="list")}
    assert set(found) == set(ids)
    for i, trace_id in enumerate(ids):
        info = found[trace_id]
        assert info.name == (f"named-{i}" if i % 50 == 7 else f"call-{i}")
        assert info.span_count == 1 and info.status == "OK"
        assert info.request_preview == f'{{"i":{i}}}' and info.response_preview == f'"out-{i}"'
    sample = heron.get_trace(ids[-1])
    assert sample is not None and [s.name for s in sample.data.spans] == [f"call-{count - 1}"]


def test_absent_values_are_stored_as_null_not_as_the_empty_blob_that_binds_them(sqlite_uri: str) -> None:
    """SQLite's multi-row statements bind None as an empty bytearray, which NULLIF turns back into NULL
    (sqlwrite._NULL): root spans have no parent, status message or events; traces no run, session, user."""
    ids = []
    for i in range(6):  # one statement of 4 rows and two of 1
        with heron.start_span(f"call-{i}") as span:
            span.set_outputs("" if i == 0 else None)  # an empty string stays an empty string
        ids.append(span.trace_id)
    assert heron.flush_traces(timeout=30)
    conn = sqlite3.connect(sqlite_uri.removeprefix("sqlite:///"))
    try:
        for table in ("traces", "spans"):
            for (column,) in conn.execute(f"SELECT name FROM pragma_table_info('{table}')").fetchall():
                blobs = conn.execute(f'SELECT count(*) FROM {table} WHERE typeof("{column}") = \'blob\'').fetchone()
                assert blobs == (0,), f"{table}.{column}"
        assert conn.execute("SELECT count(*) FROM spans WHERE parent_span_id IS NULL AND status_message IS NULL "
                            "AND events IS NULL").fetchone() == (6,)
        assert conn.execute("SELECT count(*) FROM traces WHERE run_id IS NULL AND session_id IS NULL "
                            "AND user_id IS NULL").fetchone() == (6,)
    finally:
        conn.close()
    infos = {t.info.trace_id: t.info for t in heron.search_traces(return_type="list")}
    assert infos[ids[0]].response_preview == '""'
    assert all(info.session_id is None and info.user_id is None and info.run_id is None for info in infos.values())
    spans = heron.get_trace(ids[1]).data.spans  # type: ignore[union-attr]
    assert spans[0].parent_id is None and spans[0].events == ()


def test_the_row_builders_put_the_null_stand_in_only_where_the_statements_unwrap_it() -> None:
    """The positions a builder may fill with ``_NULL`` are the ones its multi-row statement wraps in
    NULLIF: anywhere else an absent value would be stored as an empty blob."""
    from types import SimpleNamespace

    from heron.tracing import sqlwrite

    absent = object()
    trace = SimpleNamespace(**{name: None for name in (
        "trace_id", "experiment_id", "run_id", "explicit_name", "name", "status", "start_time_ms", "end_time_ms",
        "root_span_id", "request_preview", "response_preview", "input_tokens", "output_tokens", "total_tokens",
        "cached_input_tokens", "cost", "unpriced_spans", "span_count", "session_id", "user_id")})
    row = sqlwrite._trace_params(trace, absent)[:-1]  # type: ignore[arg-type]
    assert {i for i, value in enumerate(row) if value is absent} == set(sqlwrite._TRACE_NULLABLE)
    span = SimpleNamespace(**{name: None for name in (
        "trace_id", "span_id", "parent_id", "name", "status", "status_message", "start_time_ns", "end_time_ns",
        "inputs_json", "outputs_json", "events")}, span_type="CHAIN", attributes={})
    row = sqlwrite._span_row(span, absent)  # type: ignore[arg-type]
    assert {i for i, value in enumerate(row) if value is absent} == set(sqlwrite._SPAN_NULLABLE)


def test_a_span_sent_twice_in_one_batch_is_stored_once(tracking_uri: str) -> None:
    provider = TracerProvider(id_generator=TimeOrderedIdGenerator())
    collected = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(collected))
    with provider.get_tracer("test").start_as_current_span("root", attributes={"heron.span.type": "CHAIN"}):
        pass
    (span,) = collected.get_finished_spans()
    heron.set_experiment("twice")
    experiment = heron.get_experiment_by_name("twice")
    assert experiment is not None
    target = Target(tracking_uri, experiment.experiment_id, None)
    SqlSink(tracking_uri).write([(from_readable(span, True), target), (from_readable(span, False), target)])
    (trace,) = heron.search_traces(experiment_ids=[experiment.experiment_id], return_type="list")
    assert [s.name for s in trace.data.spans] == ["root"]


def test_a_finished_span_heron_cannot_read_is_dropped_and_counted_never_raised(sqlite_uri: str) -> None:
    from heron.tracing.provider import get_tracer

    span = get_tracer().start_span("broken")
    span._status = None  # type: ignore[attr-defined]  # a span no SDK would hand over
    span.end()  # must not raise into the traced code
    with heron.start_span("fine"):
        pass
    assert heron.flush_traces(timeout=30)
    stats = heron.tracing.stats()
    assert stats["dropped"] == 1 and "could not read a span" in (stats["last_error"] or "")
    assert [t.info.name for t in heron.search_traces(return_type="list")] == ["fine"]


@pytest.mark.skipif(not hasattr(sqlite3.Connection, "setlimit"), reason="Connection.setlimit needs Python 3.11")
def test_many_row_statements_stay_within_the_connections_parameter_limit(tmp_path: Path) -> None:
    """SQLite before 3.32 binds at most 999 parameters a statement: the rows per statement follow the
    connection's own limit (here 100: 5 traces or 7 spans a statement, 64 ids a look-up of stored spans)."""
    uri = f"sqlite:///{tmp_path / 'heron.db'}"
    get_sql_store(uri)  # creates the tables
    provider = TracerProvider(id_generator=TimeOrderedIdGenerator())
    collected = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(collected))
    for i in range(300):
        with provider.get_tracer("test").start_as_current_span(f"call-{i}", attributes={"heron.span.type": "CHAIN"}):
            pass
    spans = [(from_readable(s, True), Target(uri, "0", None)) for s in collected.get_finished_spans()]
    conn = sqlite3.connect(tmp_path / "heron.db", isolation_level=None)
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
    cursor = conn.cursor()
    cursor.execute("BEGIN IMMEDIATE")
    writer = TraceWriter(is_sqlite=True)
    assert writer.unseen(cursor, spans) == spans
    writer.write(cursor, summarize(spans, UsageLedger(), span_cost).values(), (s for s, _ in spans))
    cursor.execute("COMMIT")
    assert conn.execute("SELECT count(*) FROM traces").fetchone() == (300,)
    assert conn.execute("SELECT count(*) FROM spans").fetchone() == (300,)
    conn.close()
