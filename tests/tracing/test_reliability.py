"""Tracing never hurts the traced app: nothing lost under load, nothing raised when the store fails,
nothing mixed up under concurrency, anything accepted as inputs."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

import heron
from heron.tracing import Trace
from tests.pgserver import PostgresServer

REPO = Path(__file__).resolve().parents[2]


@heron.trace
def work(i: int) -> int:
    return i * 2


def _all_traces() -> list[Trace]:
    return heron.search_traces(return_type="list")  # type: ignore[no-any-return]


def test_2000_calls_in_a_tight_loop_are_all_stored(tracking_uri: str) -> None:
    for i in range(2000):
        work(i)
    assert heron.flush_traces(timeout=120)
    found = heron.search_traces(return_type="list", include_spans=False)
    assert len(found) == 2000
    assert sorted(t.info.request_preview for t in found) == sorted(f'{{"i":{i}}}' for i in range(2000))
    stats = heron.tracing.stats()
    assert stats["exported"] == 2000 and stats["dropped"] == 0 and stats["queued"] == 0


def _export_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "heron.tracing" and r.levelno == logging.WARNING
            and "could not write" in r.getMessage()]


def test_postgres_store_made_read_only_halfway(
    postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"ro_{uuid.uuid4().hex[:10]}"
    heron.set_tracking_uri(postgres_server.create_database(name))
    for i in range(300):
        work(i)
    assert heron.flush_traces(timeout=60)
    with psycopg.connect(postgres_server.uri(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    with caplog.at_level(logging.WARNING, logger="heron.tracing"):
        results = [work(i) for i in range(300, 600)]  # no exception reaches the traced code
        assert heron.flush_traces(timeout=60)
    assert results == [i * 2 for i in range(300, 600)]
    stats = heron.tracing.stats()
    assert stats["exported"] == 300
    assert stats["dropped"] == stats["dropped_export_error"] == 300
    assert stats["failed_batches"] >= 1
    assert "read-only" in (stats["last_error"] or "")
    assert len(_export_warnings(caplog)) == 1  # one warning, the rest at debug level
    with psycopg.connect(postgres_server.uri(), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = off')
    assert len(_all_traces()) == 300


def test_sqlite_store_locked_by_another_process_then_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Another process holds SQLite's write lock past the busy timeout: spans are dropped and counted;
    once it lets go, tracing writes again."""
    monkeypatch.setenv("HERON_SQLITE_BUSY_TIMEOUT_MS", "200")
    db = tmp_path / "locked.db"
    heron.set_tracking_uri(f"sqlite:///{db}")
    for i in range(100):
        work(i)
    assert heron.flush_traces(timeout=60)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sqlite3, sys
            conn = sqlite3.connect({str(db)!r}, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            sys.stdin.readline()
            conn.rollback()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with caplog.at_level(logging.WARNING, logger="heron.tracing"):
            assert [work(i) for i in range(100, 200)] == [i * 2 for i in range(100, 200)]
            assert heron.flush_traces(timeout=60)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=30)
    stats = heron.tracing.stats()
    assert (stats["exported"], stats["dropped"]) == (100, 100)
    assert "locked" in (stats["last_error"] or "")
    assert len(_export_warnings(caplog)) == 1
    for i in range(200, 250):
        work(i)
    assert len(_all_traces()) == 150
    assert sqlite3.connect(db).execute("SELECT count(*) FROM spans").fetchone() == (150,)


def test_store_that_cannot_be_opened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    heron.set_tracking_uri(f"sqlite:///{blocker / 'heron.db'}")
    with caplog.at_level(logging.WARNING, logger="heron.tracing"):
        assert [work(i) for i in range(50)] == [i * 2 for i in range(50)]
        assert heron.flush_traces(timeout=60)
    stats = heron.tracing.stats()
    assert stats["dropped_export_error"] == 50 and stats["exported"] == 0
    assert len(_export_warnings(caplog)) == 1


def test_full_queue_drops_new_spans_without_blocking(sqlite_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_TRACE_QUEUE_SIZE", "10")
    heron.tracing.reset_for_tests()  # the queue size is read when tracing (re)starts
    for i in range(1000):
        work(i)
    assert heron.flush_traces(timeout=60)
    stats = heron.tracing.stats()
    assert stats["dropped_queue_full"] > 0
    assert stats["exported"] + stats["dropped_queue_full"] == 1000
    assert len(_all_traces()) == stats["exported"]


def test_threads_and_async_tasks_tracing_at_once(tracking_uri: str) -> None:
    @heron.trace
    def step(owner: str, n: int) -> str:
        with heron.start_span("io", attributes={"owner": owner}):
            pass
        return owner

    @heron.trace
    def job(owner: str) -> list[str]:
        return [step(owner, n) for n in range(2)]

    @heron.trace
    async def astep(owner: str, n: int) -> str:
        await asyncio.sleep(0.001)
        with heron.start_span("io", attributes={"owner": owner}):
            await asyncio.sleep(0)
        return owner

    @heron.trace
    async def ajob(owner: str) -> list[str]:
        return [await astep(owner, n) for n in range(2)]

    async def run_tasks() -> None:
        await asyncio.gather(*(ajob(f"task-{t}") for t in range(50)))

    errors: list[BaseException] = []

    def run_thread(t: int) -> None:
        try:
            for j in range(25):
                job(f"thread-{t}-{j}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run_thread, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    asyncio.run(run_tasks())
    for thread in threads:
        thread.join()
    assert errors == []
    found = _all_traces()
    assert len(found) == 8 * 25 + 50
    for trace in found:
        spans = trace.data.spans
        assert len(spans) == 5, trace.info.name
        root = next(s for s in spans if s.parent_id is None)
        owner = root.inputs["owner"]
        ids = {s.span_id for s in spans}
        for span in spans:
            assert span.trace_id == trace.info.trace_id
            assert span.parent_id is None or span.parent_id in ids
            if span.name == "io":
                assert span.attributes["owner"] == owner
            else:
                assert span.inputs["owner"] == owner
        assert trace.info.status == "OK" and trace.info.span_count == 5


def test_inputs_that_are_not_json(tracking_uri: str) -> None:
    class Opaque:
        pass

    @heron.trace
    def take(obj: Any, data: bytes, array: Any, text: str, nested: dict[str, Any]) -> Any:
        return {"echo": obj, "array": array}

    huge = "x" * 10_000_000
    result = take(Opaque(), b"\x00\xffbinary", np.arange(100_000).reshape(1000, 100), huge,
                  {"set": {1, 2}, "self": None, "complex": 1 + 2j})
    assert result["array"].shape == (1000, 100)
    (span,) = heron.get_trace(heron.get_last_active_trace_id()).data.spans  # type: ignore[union-attr]
    inputs = span.inputs
    assert inputs["obj"].startswith("<") and "Opaque" in inputs["obj"]
    assert isinstance(inputs["data"], str)
    assert inputs["array"]["shape"] == [1000, 100]
    assert len(inputs["text"]) < 100_200 and inputs["text"].endswith("10000000 chars in total]")
    assert inputs["nested"] == {"set": [1, 2], "self": None, "complex": "(1+2j)"}
    assert span.outputs["array"]["dtype"] == "int64"


def test_pending_spans_are_written_at_exit(tmp_path: Path) -> None:
    db = tmp_path / "exit.db"
    script = textwrap.dedent(f"""
        import heron
        heron.set_tracking_uri("sqlite:///{db}")

        @heron.trace
        def f(i):
            return i

        for i in range(500):
            f(i)
        # no flush: the atexit hook writes what is queued
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path, timeout=120,
                   env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert sqlite3.connect(db).execute("SELECT count(*) FROM traces").fetchone() == (500,)


def test_forked_child_traces_with_its_own_export_thread(sqlite_uri: str) -> None:
    for i in range(10):
        work(i)  # the parent's export thread is running now
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            for i in range(10, 30):
                work(i)
            code = 0 if heron.flush_traces(timeout=60) and heron.tracing.stats()["exported"] == 20 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert len(_all_traces()) == 30
