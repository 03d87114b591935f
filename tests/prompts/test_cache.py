"""load_prompt's alias cache: hot calls skip the database; moves are seen at once in this process and
within the TTL from other processes."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event

import heron
from heron.tracking.stores import get_sql_store

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def _statements() -> Iterator[list[str]]:
    """Every SQL statement the store runs inside the block."""
    seen: list[str] = []
    engine = get_sql_store().db.engine

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _seed() -> None:
    heron.register_prompt("qa", "v1 {{ q }}")
    heron.register_prompt("qa", "v2 {{ q }}")
    heron.set_prompt_alias("qa", "production", 1)


def test_cached_loads_run_no_sql(tracking_uri: str) -> None:
    _seed()
    with _statements() as first:
        heron.load_prompt("prompts:/qa@production")
    assert first  # the first load reads the store
    with _statements() as later:
        for _ in range(100):
            assert heron.load_prompt("prompts:/qa@production").version == 1  # type: ignore[union-attr]
    assert later == []
    with _statements() as uncached:
        heron.load_prompt("prompts:/qa@production", cache_ttl_seconds=0)
    assert uncached


def test_a_cached_load_costs_microseconds(tracking_uri: str) -> None:
    _seed()
    heron.load_prompt("prompts:/qa@production")

    def per_call(ttl: float | None, n: int) -> float:
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(n):
                heron.load_prompt("prompts:/qa@production", cache_ttl_seconds=ttl)
            samples.append((time.perf_counter() - start) / n)
        return statistics.median(samples)

    cached, uncached = per_call(None, 2000), per_call(0, 20)
    assert cached < 200e-6, cached  # a few microseconds on an idle machine; generous for loaded CI
    assert cached * 10 < uncached, (cached, uncached)


def test_an_alias_moved_here_is_seen_at_once(tracking_uri: str) -> None:
    _seed()
    assert heron.load_prompt("prompts:/qa@production").version == 1  # type: ignore[union-attr]
    heron.set_prompt_alias("qa", "production", 2)
    assert heron.load_prompt("prompts:/qa@production").version == 2  # type: ignore[union-attr]
    heron.register_prompt("qa", "v3 {{ q }}")
    assert heron.load_prompt("qa").version == 3  # type: ignore[union-attr]
    heron.delete_prompt_version("qa", 3)
    assert heron.load_prompt("qa").version == 2  # type: ignore[union-attr]


_MOVER = """
import os, sys, time, heron
heron.set_tracking_uri(sys.argv[1])
heron.search_prompts()  # imported and connected before the start line
while not os.path.exists(sys.argv[2]):
    time.sleep(0.005)
heron.set_prompt_alias("qa", "production", 2)
"""


def test_an_alias_moved_by_another_process_is_seen_after_the_ttl(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ttl = 2.0
    monkeypatch.setenv("HERON_PROMPT_CACHE_TTL_SECONDS", str(ttl))
    _seed()
    go = tmp_path / "go"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    mover = subprocess.Popen([sys.executable, "-c", _MOVER, tracking_uri, str(go)], env=env)
    assert heron.load_prompt("prompts:/qa@production").version == 1  # type: ignore[union-attr]
    loaded_at = time.monotonic()
    go.touch()
    assert mover.wait(timeout=120) == 0
    if time.monotonic() - loaded_at < ttl - 0.2:  # still inside the TTL: the cached version
        assert heron.load_prompt("prompts:/qa@production").version == 1  # type: ignore[union-attr]
    assert heron.load_prompt("prompts:/qa@production", cache_ttl_seconds=0).version == 2  # type: ignore[union-attr]
    time.sleep(max(0.0, ttl + 0.1 - (time.monotonic() - loaded_at)))
    assert heron.load_prompt("prompts:/qa@production").version == 2  # type: ignore[union-attr]


def test_ttl_zero_turns_the_cache_off(tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HERON_PROMPT_CACHE_TTL_SECONDS", "0")
    _seed()
    heron.load_prompt("prompts:/qa@production")
    with _statements() as seen:
        heron.load_prompt("prompts:/qa@production")
    assert seen
