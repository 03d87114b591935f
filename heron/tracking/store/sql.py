"""The SQL tracking store (SQLite and PostgreSQL through SQLAlchemy Core).

Each public method is one transaction. Writes validate first and then write inside a single
transaction, so a failed call writes nothing.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from heron.errors import HeronError
from heron.tracking import validation
from heron.tracking.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)
from heron.tracking.names import random_run_name
from heron.tracking.store import search_sql
from heron.tracking.store.db import Database, experiment_artifact_location
from heron.tracking.store.schema import experiment_tags, experiments, runs
from heron.tracking.store.schema import metrics as metric_rows
from heron.tracking.store.schema import tags as tag_rows
from heron.tracking.store.values import RUN_NAME_TAG, ValueWriter
from heron.tracking.uri import StoreLocation

__all__ = ["SqlTrackingStore"]

_IN_CHUNK = 500  # bound on IN (...) lists: SQLite allows 32k variables, keep statements small


def _now_ms() -> int:
    return int(time.time() * 1000)


class SqlTrackingStore:
    """Experiments and runs in one SQL database. Thread-safe; usable from forked processes."""

    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        self.artifact_root = location.artifact_root
        self.db = Database(location.db_url, location.artifact_root)
        self._values = ValueWriter(self.db.is_sqlite)
        insert = sqlite.insert if self.db.is_sqlite else postgresql.insert
        exp_tag_ins = insert(experiment_tags)
        self._upsert_experiment_tag = exp_tag_ins.on_conflict_do_update(
            index_elements=[experiment_tags.c.experiment_id, experiment_tags.c.key],
            set_={"value": exp_tag_ins.excluded.value},
        )
        self._select_run_stage = sa.select(runs.c.lifecycle_stage).where(
            runs.c.run_uuid == sa.bindparam("rid")
        )

    # ----------------------------------------------------------------------------------- experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str:
        validation.experiment_name(name)
        validation.artifact_location(artifact_location)
        checked = [validation.tag(t, validation.MAX_EXPERIMENT_TAG_VALUE_LENGTH) for t in tags]
        now = _now_ms()
        try:
            with self.db.write() as conn:
                existing = conn.execute(
                    sa.select(experiments.c.lifecycle_stage).where(experiments.c.name == name)
                ).first()
                if existing is not None:
                    raise _experiment_exists(name, existing[0])
                experiment_id = conn.execute(
                    sa.insert(experiments)
                    .values(
                        name=name,
                        artifact_location=artifact_location or "",
                        lifecycle_stage=LifecycleStage.ACTIVE,
                        creation_time=now,
                        last_update_time=now,
                    )
                    .returning(experiments.c.experiment_id)
                ).scalar_one()
                if not artifact_location:
                    conn.execute(
                        sa.update(experiments)
                        .where(experiments.c.experiment_id == experiment_id)
                        .values(
                            artifact_location=experiment_artifact_location(
                                self.artifact_root, str(experiment_id)
                            )
                        )
                    )
                if checked:
                    conn.execute(
                        sa.insert(experiment_tags),
                        [{"experiment_id": experiment_id, "key": t.key, "value": t.value} for t in checked],
                    )
        except IntegrityError:
            raise _experiment_exists(name, LifecycleStage.ACTIVE) from None
        return str(experiment_id)

    def get_experiment(self, experiment_id: str) -> Experiment:
        eid = int(validation.experiment_id(experiment_id))
        with self.db.read() as conn:
            found = self._experiments_where(conn, experiments.c.experiment_id == eid)
        if not found:
            raise HeronError.not_found(f"No Experiment with id={experiment_id} exists.")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self.db.read() as conn:
            found = self._experiments_where(conn, experiments.c.name == name)
        return found[0] if found else None

    def _experiments_where(self, conn: Connection, *where: Any) -> list[Experiment]:
        rows = conn.execute(sa.select(experiments).where(*where)).all()
        return self._experiments_from_rows(conn, rows)

    def _experiments_from_rows(self, conn: Connection, rows: Sequence[Any]) -> list[Experiment]:
        ids = [r.experiment_id for r in rows]
        tag_map: dict[int, dict[str, str]] = defaultdict(dict)
        for chunk in _chunks(ids):
            for t in conn.execute(
                sa.select(experiment_tags).where(experiment_tags.c.experiment_id.in_(chunk))
            ):
                tag_map[t.experiment_id][t.key] = t.value
        return [
            Experiment(
                experiment_id=str(r.experiment_id),
                name=r.name,
                artifact_location=r.artifact_location,
                lifecycle_stage=r.lifecycle_stage,
                tags=dict(tag_map.get(r.experiment_id, {})),
                creation_time=r.creation_time,
                last_update_time=r.last_update_time,
            )
            for r in rows
        ]

    def search_experiments(
        self,
        view_type: int,
        max_results: int,
        filter_string: str | None,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> PagedList[Experiment]:
        validation.max_results(max_results)
        with self.db.read() as conn:
            ids, token = search_sql.search_experiment_ids(
                conn, view_type, max_results, filter_string, order_by, page_token
            )
            found = {
                e.experiment_id: e
                for e in self._experiments_where(conn, experiments.c.experiment_id.in_(ids))
            }
        return PagedList([found[str(i)] for i in ids if str(i) in found], token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validation.experiment_name(new_name)
        try:
            with self.db.write() as conn:
                exp = self._require_active_experiment(conn, experiment_id)
                clash = conn.execute(
                    sa.select(experiments.c.lifecycle_stage).where(
                        experiments.c.name == new_name, experiments.c.experiment_id != exp
                    )
                ).first()
                if clash is not None:
                    raise _experiment_exists(new_name, clash[0])
                conn.execute(
                    sa.update(experiments)
                    .where(experiments.c.experiment_id == exp)
                    .values(name=new_name, last_update_time=_now_ms())
                )
        except IntegrityError:
            raise _experiment_exists(new_name, LifecycleStage.ACTIVE) from None

    update_experiment = rename_experiment

    def delete_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        self._set_experiment_stage(experiment_id, LifecycleStage.ACTIVE)

    def _set_experiment_stage(self, experiment_id: str, stage: str) -> None:
        eid = int(validation.experiment_id(experiment_id))
        now = _now_ms()
        with self.db.write() as conn:
            row = conn.execute(
                sa.select(experiments.c.lifecycle_stage).where(experiments.c.experiment_id == eid)
            ).first()
            if row is None:
                raise HeronError.not_found(f"No Experiment with id={experiment_id} exists.")
            if stage == LifecycleStage.DELETED and eid == 0:
                raise HeronError.invalid("The Default experiment (id 0) cannot be deleted.")
            if row[0] == stage:
                verb = "deleted" if stage == LifecycleStage.DELETED else "active"
                raise HeronError.invalid(f"Experiment {experiment_id} is already {verb}.")
            conn.execute(
                sa.update(experiments)
                .where(experiments.c.experiment_id == eid)
                .values(lifecycle_stage=stage, last_update_time=now)
            )
            # The experiment's runs follow it, as in MLflow.
            conn.execute(
                sa.update(runs)
                .where(runs.c.experiment_id == eid)
                .values(lifecycle_stage=stage, deleted_time=now if stage == LifecycleStage.DELETED else None)
            )

    def set_experiment_tag(self, experiment_id: str, tag: RunTag) -> None:
        tag = validation.tag(tag, validation.MAX_EXPERIMENT_TAG_VALUE_LENGTH)
        with self.db.write() as conn:
            eid = self._require_active_experiment(conn, experiment_id)
            conn.execute(
                self._upsert_experiment_tag, {"experiment_id": eid, "key": tag.key, "value": tag.value}
            )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with self.db.write() as conn:
            eid = self._require_active_experiment(conn, experiment_id)
            deleted = conn.execute(
                sa.delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == eid, experiment_tags.c.key == key
                )
            ).rowcount
            if not deleted:
                raise HeronError.not_found(f"No tag with name: {key} in experiment with id {experiment_id}.")

    def _require_active_experiment(self, conn: Connection, experiment_id: str) -> int:
        eid = int(validation.experiment_id(experiment_id))
        row = conn.execute(
            sa.select(experiments.c.lifecycle_stage).where(experiments.c.experiment_id == eid)
        ).first()
        if row is None:
            raise HeronError.not_found(f"No Experiment with id={experiment_id} exists.")
        if row[0] != LifecycleStage.ACTIVE:
            raise HeronError.invalid(
                f"The experiment {experiment_id} must be in the 'active' state. Current state is {row[0]}."
            )
        return eid

    # ------------------------------------------------------------------------------------------ runs

    def create_run(
        self, experiment_id: str, user_id: str, start_time: int, tags: Sequence[RunTag], run_name: str | None
    ) -> Run:
        checked_tags = {t.key: validation.tag(t) for t in tags}
        tag_name = checked_tags.get(RUN_NAME_TAG)
        if run_name is not None and tag_name is not None and tag_name.value != run_name:
            raise HeronError.invalid(
                f"Both run_name={run_name!r} and tag '{RUN_NAME_TAG}'={tag_name.value!r} were given: "
                "they must be the same."
            )
        name = validation.run_name(run_name or (tag_name.value if tag_name else "") or random_run_name())
        checked_tags[RUN_NAME_TAG] = RunTag(RUN_NAME_TAG, name)
        validation.user_id(user_id)
        run_id = uuid.uuid4().hex
        eid = int(validation.experiment_id(experiment_id))
        with self.db.raw_write() as cursor:
            location = self._values.require_active_experiment(cursor, eid)
            artifact_uri = f"{location.rstrip('/')}/{run_id}/artifacts"
            cursor.execute(
                self._values.insert_run,
                {
                    "run_uuid": run_id,
                    "experiment_id": eid,
                    "name": name,
                    "user_id": user_id,
                    "status": RunStatus.RUNNING,
                    "start_time": start_time,
                    "lifecycle_stage": LifecycleStage.ACTIVE,
                    "artifact_uri": artifact_uri,
                },
            )
            # The run row already has its name: no rename for the mlflow.runName tag.
            self._values.write_tags(cursor, run_id, list(checked_tags.values()))
        info = RunInfo(
            run_id=run_id,
            experiment_id=str(eid),
            run_name=name,
            user_id=user_id,
            status=RunStatus.RUNNING,
            start_time=start_time,
            end_time=None,
            artifact_uri=artifact_uri,
            lifecycle_stage=LifecycleStage.ACTIVE,
        )
        return Run(info, RunData(tags={k: t.value for k, t in checked_tags.items()}))

    def get_run(self, run_id: str) -> Run:
        validation.run_id(run_id)
        found = self._load_runs([run_id])
        if not found:
            raise HeronError.not_found(f"Run with id={run_id} not found")
        return found[0]

    def _load_runs(self, run_ids: Sequence[str]) -> list[Run]:
        """Runs with their data, in the order of ``run_ids`` (missing ids are skipped).

        Plain SQL on one DBAPI cursor: loading 1,000 runs of a search is ~10,000 rows, and SQLAlchemy's
        per-row objects would cost more than the database does.
        """
        rows: dict[str, tuple[Any, ...]] = {}
        data: dict[str, tuple[dict[str, float], dict[str, str], dict[str, str]]] = {
            rid: ({}, {}, {}) for rid in run_ids
        }
        mark = "?" if self.db.is_sqlite else "%s"
        with self.db.raw_read() as cursor:
            for chunk in _chunks(run_ids):
                marks = ",".join([mark] * len(chunk))
                cursor.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_uuid IN ({marks})", chunk)
                for r in cursor.fetchall():
                    rows[r[0]] = r
                cursor.execute(
                    f'SELECT run_uuid, "key", "value", is_nan FROM latest_metrics WHERE run_uuid IN ({marks})', chunk
                )
                for rid, key, value, is_nan in cursor.fetchall():
                    data[rid][0][key] = math.nan if is_nan else value
                cursor.execute(f'SELECT run_uuid, "key", "value" FROM params WHERE run_uuid IN ({marks})', chunk)
                for rid, key, value in cursor.fetchall():
                    data[rid][1][key] = value
                cursor.execute(f'SELECT run_uuid, "key", "value" FROM tags WHERE run_uuid IN ({marks})', chunk)
                for rid, key, value in cursor.fetchall():
                    data[rid][2][key] = value
        result = []
        for rid in run_ids:
            row = rows.get(rid)
            if row is None:
                continue
            run_metrics, run_params, run_tags = data[rid]
            info = _run_info(_RunRow(*row))
            result.append(Run(info, RunData(metrics=run_metrics, params=run_params, tags=run_tags)))
        return result

    def update_run_info(
        self, run_id: str, status: str | None, end_time: int | None, run_name: str | None
    ) -> RunInfo:
        validation.run_id(run_id)
        values: dict[str, Any] = {}
        if status is not None:
            if status not in RunStatus.ALL:
                raise HeronError.invalid(
                    f"Invalid run status {status!r}: expected one of {', '.join(RunStatus.ALL)}."
                )
            values["status"] = status
        if end_time is not None:
            values["end_time"] = int(end_time)
        if run_name:
            values["name"] = validation.run_name(run_name)
        with self.db.raw_write() as cursor:
            self._values.require_active_run(cursor, run_id)
            if values:
                assignments = ", ".join(f"{column} = :{column}" for column in values)
                cursor.execute(
                    self._values.convert(f"UPDATE runs SET {assignments} WHERE run_uuid = :run_uuid"),
                    {**values, "run_uuid": run_id},
                )
            if run_name:
                cursor.execute(
                    self._values.upsert_tag, {"run_uuid": run_id, "key": RUN_NAME_TAG, "value": run_name}
                )
            cursor.execute(self._values.select_run, {"run_uuid": run_id})
            row = _RunRow(*cursor.fetchone())
        return _run_info(row)

    def delete_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_run_stage(run_id, LifecycleStage.ACTIVE)

    def _set_run_stage(self, run_id: str, stage: str) -> None:
        validation.run_id(run_id)
        with self.db.write() as conn:
            if conn.execute(self._select_run_stage, {"rid": run_id}).first() is None:
                raise HeronError.not_found(f"Run with id={run_id} not found")
            conn.execute(
                sa.update(runs)
                .where(runs.c.run_uuid == run_id)
                .values(
                    lifecycle_stage=stage, deleted_time=_now_ms() if stage == LifecycleStage.DELETED else None
                )
            )

    def _require_active_run(self, conn: Connection, run_id: str) -> None:
        row = conn.execute(self._select_run_stage, {"rid": run_id}).first()
        if row is None:
            raise HeronError.not_found(f"Run with id={run_id} not found")
        if row[0] != LifecycleStage.ACTIVE:
            raise HeronError.invalid(
                f"The run {run_id} must be in the 'active' state. Current state is {row[0]}."
            )

    # ------------------------------------------------------------------------ params, metrics, tags

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, (metric,), (), ())

    def log_param(self, run_id: str, param: Param) -> None:
        self.log_batch(run_id, (), (param,), ())

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        self.log_batch(run_id, (), (), (tag,))

    def delete_tag(self, run_id: str, key: str) -> None:
        validation.run_id(run_id)
        with self.db.write() as conn:
            self._require_active_run(conn, run_id)
            deleted = conn.execute(
                sa.delete(tag_rows).where(tag_rows.c.run_uuid == run_id, tag_rows.c.key == key)
            ).rowcount
            if not deleted:
                raise HeronError.not_found(f"No tag with name: {key} in run with id {run_id}")

    def log_batch(
        self, run_id: str, metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
    ) -> None:
        """Write metrics, params and tags in one transaction, after validating all of them."""
        validation.run_id(run_id)
        good_metrics, good_params, good_tags = validation.batch(metrics, params, tags)
        with self.db.raw_write() as cursor:
            self._values.require_active_run(cursor, run_id)
            self._values.write_batch(cursor, run_id, good_metrics, good_params, good_tags)

    def get_metric_history(
        self, run_id: str, key: str, max_results: int | None = None, page_token: str | None = None
    ) -> list[Metric]:
        validation.run_id(run_id)
        with self.db.read() as conn:
            if conn.execute(self._select_run_stage, {"rid": run_id}).first() is None:
                raise HeronError.not_found(f"Run with id={run_id} not found")
            rows = conn.execute(
                sa.select(
                    metric_rows.c.key,
                    metric_rows.c.value,
                    metric_rows.c.timestamp,
                    metric_rows.c.step,
                    metric_rows.c.is_nan,
                    metric_rows.c.copies,
                )
                .where(metric_rows.c.run_uuid == run_id, metric_rows.c.key == key)
                .order_by(
                    metric_rows.c.step, metric_rows.c.timestamp, metric_rows.c.value, metric_rows.c.is_nan
                )
            ).all()
        return [
            Metric(r.key, math.nan if r.is_nan else r.value, r.timestamp, r.step, run_id)
            for r in rows
            for _ in range(r.copies)
        ]

    # ---------------------------------------------------------------------------------------- search

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None,
        view_type: int,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> PagedList[Run]:
        validation.max_results(max_results)
        exp_ids = [int(validation.experiment_id(e)) for e in experiment_ids]
        with self.db.read() as conn:
            run_ids, token = search_sql.search_run_ids(
                conn, exp_ids, filter_string, view_type, max_results, order_by, page_token
            )
        return PagedList(self._load_runs(run_ids), token)


_RUN_COLUMNS = (
    "run_uuid, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage, artifact_uri"
)


class _RunRow(NamedTuple):
    run_uuid: str
    experiment_id: int
    name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str


def _run_info(r: Any) -> RunInfo:
    return RunInfo(
        run_id=r.run_uuid,
        experiment_id=str(r.experiment_id),
        run_name=r.name,
        user_id=r.user_id,
        status=r.status,
        start_time=r.start_time,
        end_time=r.end_time,
        artifact_uri=r.artifact_uri,
        lifecycle_stage=r.lifecycle_stage,
    )


def _experiment_exists(name: str, stage: str) -> HeronError:
    if stage == LifecycleStage.DELETED:
        return HeronError.exists(
            f"Experiment '{name}' already exists in deleted state. Restore it with restore_experiment, "
            "or delete it permanently, before creating another with this name."
        )
    return HeronError.exists(f"Experiment(name={name}) already exists.")


def _chunks(items: Sequence[Any] | Iterable[Any]) -> Iterable[list[Any]]:
    items = list(items)
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]
