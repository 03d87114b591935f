"""The hot write path of the SQL store: runs, params, metrics and tags as plain SQL on a DBAPI cursor.

The statements are written once with ``:name`` parameters, which SQLite takes as they are and which are
turned into ``%(name)s`` for psycopg. Both databases share the ``INSERT … ON CONFLICT`` syntax used
here. Only ``sql.py`` calls this module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from itertools import chain
from typing import Any

from heron.errors import INVALID_PARAMETER_VALUE, HeronError
from heron.tracking.entities import LifecycleStage, Metric, Param, RunTag

_SELECT_STAGE = "SELECT lifecycle_stage FROM runs WHERE run_uuid = :run_uuid"
# Positional (?, converted to %s for psycopg): a batch of 1,000 tuples binds faster than dicts.
# The very same value logged again at the same step and time counts as one more copy (see schema.py).
_METRIC_ROW = "(?, ?, ?, ?, ?, ?)"
_ON_SAME_METRIC = (
    ' ON CONFLICT (run_uuid, "key", step, "timestamp", "value", is_nan) DO UPDATE SET copies = metrics.copies + 1'
)
_INSERT_METRICS = 'INSERT INTO metrics (run_uuid, "key", "value", "timestamp", step, is_nan) VALUES '
_INSERT_METRIC = _INSERT_METRICS + _METRIC_ROW + _ON_SAME_METRIC
# SQLite inserts a batch ~15% faster as statements of many rows than row by row. Not on PostgreSQL: one
# statement may not upsert the same row twice there, and executemany already pipelines.
_ROWS_PER_STATEMENT = 100
_INSERT_METRIC_CHUNK = _INSERT_METRICS + ", ".join([_METRIC_ROW] * _ROWS_PER_STATEMENT) + _ON_SAME_METRIC
# The latest value per key is the one with the highest (step, timestamp, value), as in MLflow.
_UPSERT_LATEST = (
    'INSERT INTO latest_metrics (run_uuid, "key", "value", "timestamp", step, is_nan) '
    "VALUES (:run_uuid, :key, :value, :timestamp, :step, :is_nan) "
    'ON CONFLICT (run_uuid, "key") DO UPDATE SET "value" = excluded."value", '
    '"timestamp" = excluded."timestamp", step = excluded.step, is_nan = excluded.is_nan '
    "WHERE excluded.step > latest_metrics.step "
    'OR (excluded.step = latest_metrics.step AND excluded."timestamp" > latest_metrics."timestamp") '
    'OR (excluded.step = latest_metrics.step AND excluded."timestamp" = latest_metrics."timestamp" '
    'AND excluded."value" > latest_metrics."value")'
)
_INSERT_PARAM = (
    'INSERT INTO params (run_uuid, "key", "value") VALUES (:run_uuid, :key, :value) '
    'ON CONFLICT (run_uuid, "key") DO NOTHING'
)
_SELECT_PARAM = 'SELECT "value" FROM params WHERE run_uuid = :run_uuid AND "key" = :key'
_UPSERT_TAG = (
    'INSERT INTO tags (run_uuid, "key", "value") VALUES (:run_uuid, :key, :value) '
    'ON CONFLICT (run_uuid, "key") DO UPDATE SET "value" = excluded."value"'
)
_RENAME_RUN = "UPDATE runs SET name = :name WHERE run_uuid = :run_uuid"
_INSERT_RUN = (
    "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, end_time, "
    "lifecycle_stage, artifact_uri) VALUES (:run_uuid, :experiment_id, :name, :user_id, :status, "
    ":start_time, NULL, :lifecycle_stage, :artifact_uri)"
)
_SELECT_EXPERIMENT = (
    "SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = :experiment_id"
)
_SELECT_RUN = (
    "SELECT run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, "
    "artifact_uri FROM runs WHERE run_uuid = :run_uuid"
)

RUN_NAME_TAG = "mlflow.runName"

_MetricRow = tuple[str, str, float, int, int, bool]  # run_uuid, key, value, timestamp, step, is_nan


class ValueWriter:
    """The statements above, in the parameter style of one database's driver."""

    def __init__(self, is_sqlite: bool) -> None:
        self.convert = _same if is_sqlite else _to_pyformat
        convert = self.convert
        self.select_stage = convert(_SELECT_STAGE)
        self.insert_metric = _INSERT_METRIC if is_sqlite else _INSERT_METRIC.replace("?", "%s")
        self.insert_metric_chunk = _INSERT_METRIC_CHUNK if is_sqlite else None
        self.upsert_latest = convert(_UPSERT_LATEST)
        self.insert_param = convert(_INSERT_PARAM)
        self.select_param = convert(_SELECT_PARAM)
        self.upsert_tag = convert(_UPSERT_TAG)
        self.rename_run = convert(_RENAME_RUN)
        self.insert_run = convert(_INSERT_RUN)
        self.select_experiment = convert(_SELECT_EXPERIMENT)
        self.select_run = convert(_SELECT_RUN)

    def require_active_run(self, cursor: Any, run_id: str) -> None:
        cursor.execute(self.select_stage, {"run_uuid": run_id})
        row = cursor.fetchone()
        if row is None:
            raise HeronError.not_found(f"Run with id={run_id} not found")
        if row[0] != LifecycleStage.ACTIVE:
            raise HeronError.invalid(
                f"The run {run_id} must be in the 'active' state. Current state is {row[0]}."
            )

    def require_active_experiment(self, cursor: Any, experiment_id: int) -> str:
        """The experiment's artifact location; raises if it is missing or deleted."""
        cursor.execute(self.select_experiment, {"experiment_id": experiment_id})
        row = cursor.fetchone()
        if row is None:
            raise HeronError.not_found(f"No Experiment with id={experiment_id} exists.")
        if row[0] != LifecycleStage.ACTIVE:
            raise HeronError.invalid(
                f"The experiment {experiment_id} must be in the 'active' state. Current state is {row[0]}."
            )
        return str(row[1])

    def write_batch(
        self,
        cursor: Any,
        run_id: str,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
    ) -> None:
        """Write validated values for an active run; raises (and so rolls back) on a changed param."""
        if params:
            self._write_params(cursor, run_id, params)
        if metrics:
            self._write_metrics(cursor, run_id, metrics)
        if tags:
            self.write_tags(cursor, run_id, tags)
            for t in tags:
                if t.key == RUN_NAME_TAG:
                    cursor.execute(self.rename_run, {"run_uuid": run_id, "name": t.value})

    def write_tags(self, cursor: Any, run_id: str, tags: Sequence[RunTag]) -> None:
        """Set validated tags, without renaming the run for ``mlflow.runName`` (``write_batch`` does)."""
        rows = [{"run_uuid": run_id, "key": t.key, "value": t.value} for t in tags]
        if len(rows) == 1:
            cursor.execute(self.upsert_tag, rows[0])
        else:
            cursor.executemany(self.upsert_tag, rows)

    def _write_params(self, cursor: Any, run_id: str, params: Sequence[Param]) -> None:
        for p in params:
            row = {"run_uuid": run_id, "key": p.key, "value": p.value}
            cursor.execute(self.insert_param, row)
            if cursor.rowcount == 1:
                continue
            cursor.execute(self.select_param, row)
            old = cursor.fetchone()[0]
            if old != p.value:
                raise HeronError(
                    f"Changing param values is not allowed. Param with key='{p.key}' was already logged with "
                    f"value='{old}' for run ID='{run_id}'. Attempted logging new value '{p.value}'.",
                    INVALID_PARAMETER_VALUE,
                )

    def _write_metrics(self, cursor: Any, run_id: str, metrics: Sequence[Metric]) -> None:
        rows: list[_MetricRow] = []
        latest: dict[str, _MetricRow] = {}
        isnan = math.isnan
        for m in metrics:
            nan = isnan(m.value)
            row = (run_id, m.key, 0.0 if nan else m.value, m.timestamp, m.step, nan)
            rows.append(row)
            prev = latest.get(m.key)
            if prev is None or (row[4], row[3], row[2]) > (prev[4], prev[3], prev[2]):
                latest[m.key] = row
        self._insert_metric_rows(cursor, rows)
        # One upsert per key: PostgreSQL refuses to change one row twice in a statement.
        upserts = [
            {"run_uuid": r[0], "key": r[1], "value": r[2], "timestamp": r[3], "step": r[4], "is_nan": r[5]}
            for r in latest.values()
        ]
        if len(upserts) == 1:
            cursor.execute(self.upsert_latest, upserts[0])
        else:
            cursor.executemany(self.upsert_latest, upserts)

    def _insert_metric_rows(self, cursor: Any, rows: list[_MetricRow]) -> None:
        if len(rows) == 1:
            cursor.execute(self.insert_metric, rows[0])
            return
        done = 0
        if self.insert_metric_chunk is not None:
            done = len(rows) - len(rows) % _ROWS_PER_STATEMENT
            for start in range(0, done, _ROWS_PER_STATEMENT):
                chunk = rows[start : start + _ROWS_PER_STATEMENT]
                cursor.execute(self.insert_metric_chunk, list(chain.from_iterable(chunk)))
        if done < len(rows):
            cursor.executemany(self.insert_metric, rows[done:])


def _same(sql: str) -> str:
    return sql


def _to_pyformat(sql: str) -> str:
    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", sql)
