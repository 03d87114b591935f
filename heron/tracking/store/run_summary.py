"""Per-experiment run counts and the time of the newest run, for the experiments page.

One grouped query over ``ix_runs_experiment_start`` (an index-only count: no run row is read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from heron.tracking.entities import LifecycleStage
from heron.tracking.store.db import Database

__all__ = ["RunSummary", "run_summaries"]


class RunSummary(NamedTuple):
    runs: int
    last_start_time: int | None  # the newest active run's start time, ms


def run_summaries(db: Database, experiment_ids: Sequence[str]) -> dict[str, RunSummary]:
    """Active runs per experiment id (ids without runs are absent). Blocks; thread-safe."""
    ids = sorted({int(e) for e in experiment_ids if str(e).isdigit()})
    if not ids:
        return {}
    mark = "?" if db.is_sqlite else "%s"
    found: dict[str, RunSummary] = {}
    with db.raw_read() as cursor:
        cursor.execute(
            f"SELECT experiment_id, COUNT(*), MAX(start_time) FROM runs "
            f"WHERE lifecycle_stage = {mark} AND experiment_id IN ({','.join([mark] * len(ids))}) "
            "GROUP BY experiment_id",
            [LifecycleStage.ACTIVE, *ids],
        )
        for experiment_id, count, last in cursor.fetchall():
            found[str(experiment_id)] = RunSummary(int(count), None if last is None else int(last))
    return found
