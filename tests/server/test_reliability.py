"""Many clients at once, and a server restarted under a running client: every value stored exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import heron
from heron.entities import Metric, Param, RunTag
from heron.server import BackgroundServer
from tests.server.conftest import server_settings

CLIENTS = 16
BATCHES = 200
METRICS_PER_BATCH = 5


def _client_logs(url: str, run_id: str, client: int) -> None:
    """One client: BATCHES log_batch calls of METRICS_PER_BATCH metrics, a param and a tag each."""
    tracking = heron.Client(url)
    for batch in range(BATCHES):
        step = batch * METRICS_PER_BATCH
        tracking.log_batch(
            run_id,
            metrics=[Metric(f"c{client}", float(step + i), 1_000 + batch, step + i) for i in range(METRICS_PER_BATCH)],
            params=[Param(f"c{client}.b{batch}", str(batch))],
            tags=[RunTag(f"c{client}.last", str(batch))],
        )


@pytest.mark.slow
def test_sixteen_clients_log_batches_into_one_run_and_every_value_is_stored_once(live_server: BackgroundServer) -> None:
    run_id = heron.Client(live_server.url).create_run("0").info.run_id
    start = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(_client_logs, live_server.url, run_id, c) for c in range(CLIENTS)]:
            future.result()
    elapsed = time.monotonic() - start
    client = heron.Client(live_server.url)
    run = client.get_run(run_id)
    for c in range(CLIENTS):
        history = client.get_metric_history(run_id, f"c{c}")
        assert [m.step for m in history] == list(range(BATCHES * METRICS_PER_BATCH)), c
        assert [m.value for m in history] == [float(s) for s in range(BATCHES * METRICS_PER_BATCH)]
        assert run.data.metrics[f"c{c}"] == BATCHES * METRICS_PER_BATCH - 1
        assert run.data.tags[f"c{c}.last"] == str(BATCHES - 1)
    assert len(run.data.params) == CLIENTS * BATCHES
    print(f"{CLIENTS * BATCHES} log_batch calls in {elapsed:.1f} s ({CLIENTS * BATCHES / elapsed:.0f}/s)")


def _in_thread(target: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, errors


@pytest.mark.slow
def test_a_client_keeps_going_across_server_restarts_and_loses_nothing(tmp_path: Path) -> None:
    server = BackgroundServer(server_settings(tmp_path)).start()
    try:
        heron.set_tracking_uri(server.url)
        steps = 300
        logged = threading.Event()
        with heron.start_run() as run:
            heron.log_param("kind", "restart-test")

            def train() -> None:
                # Every kind of call keeps working: metric batches, single metrics, tags, reads.
                client = heron.Client()
                for step in range(steps):
                    client.log_batch(run.info.run_id, metrics=[Metric("loss", 1 / (step + 1), 1000 + step, step)])
                    client.log_metric(run.info.run_id, "step", step, step=step)
                    client.set_tag(run.info.run_id, "last_step", step)
                    if step % 50 == 0:
                        assert client.get_run(run.info.run_id).data.params == {"kind": "restart-test"}
                    if step == 20:
                        logged.set()
                    time.sleep(0.002)

            thread, errors = _in_thread(train)
            assert logged.wait(60)
            for _ in range(3):  # three restarts while the client is logging
                server.stop()
                time.sleep(0.5)  # down for a while: calls wait and retry
                server.start()
                time.sleep(0.3)
            thread.join(timeout=120)
            assert not thread.is_alive() and errors == []
        client = heron.Client()
        for key in ("loss", "step"):
            history = client.get_metric_history(run.info.run_id, key)
            assert [m.step for m in history] == list(range(steps)), key  # each value once, none lost
        stored = client.get_run(run.info.run_id)
        assert stored.data.tags["last_step"] == str(steps - 1) and stored.info.status == "FINISHED"
    finally:
        server.stop()
