"""Run counts per experiment for the experiments page, on SQLite and PostgreSQL."""

from __future__ import annotations

from heron.tracking.client import Client
from heron.tracking.store.run_summary import RunSummary, run_summaries
from heron.tracking.store.sql import SqlTrackingStore
from heron.tracking.stores import get_tracking_store


def test_counts_active_runs_and_the_newest_start(tracking_uri: str) -> None:
    client = Client(tracking_uri)
    busy = client.create_experiment("busy")
    empty = client.create_experiment("empty")
    for start in (1_000, 3_000, 2_000):
        client.create_run(busy, start_time=start)
    client.delete_run(client.create_run(busy, start_time=9_000).info.run_id)  # deleted: not counted
    client.create_run("0", start_time=5_000)
    store = get_tracking_store(tracking_uri)
    assert isinstance(store, SqlTrackingStore)
    found = run_summaries(store.db, [busy, empty, "0", "not-an-id"])
    assert found == {busy: RunSummary(3, 3_000), "0": RunSummary(1, 5_000)}
    assert run_summaries(store.db, []) == {}
