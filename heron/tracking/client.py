"""``Client``: the explicit-ids tracking API, with MLflow's ``MlflowClient`` method names.

Every method names its run or experiment; nothing here reads the active run (that is ``fluent``).
Thread-safe: one Client may be shared by threads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from heron.tracking import system_tags, uri
from heron.tracking.artifact_api import ArtifactMethods
from heron.tracking.entities import (
    Experiment,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from heron.tracking.stores import get_tracking_store

if TYPE_CHECKING:
    from heron.tracking.store.base import TrackingStore

__all__ = ["Client", "MlflowClient"]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _tags(tags: dict[str, Any] | Sequence[RunTag] | None) -> list[RunTag]:
    if not tags:
        return []
    if isinstance(tags, dict):
        return [RunTag(str(k), str(v)) for k, v in tags.items()]
    return list(tags)


class Client(ArtifactMethods):
    """A client of one tracking store.

    ``tracking_uri`` defaults to the URI in force when the client is made (``set_tracking_uri``,
    ``HERON_TRACKING_URI``, else ``./heron.db``). The store opens on first use.
    """

    def __init__(self, tracking_uri: str | None = None, registry_uri: str | None = None) -> None:
        self._tracking_uri = uri.resolve(tracking_uri).uri
        self._registry_uri = registry_uri or self._tracking_uri

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def _store(self) -> TrackingStore:
        # Looked up each time (a dict hit) so a client never keeps a store that was closed.
        return get_tracking_store(self._tracking_uri)

    # ----------------------------------------------------------------------------------- experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
    ) -> str:
        """Create an experiment; raises RESOURCE_ALREADY_EXISTS if the name is taken."""
        return self._store.create_experiment(name, artifact_location, _tags(tags))

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._store.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Experiment]:
        return self._store.search_experiments(view_type, max_results, filter_string, order_by, page_token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._store.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._store.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self._store.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self._store.set_experiment_tag(str(experiment_id), RunTag(key, str(value)))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._store.delete_experiment_tag(str(experiment_id), key)

    # ------------------------------------------------------------------------------------------ runs

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run. The user tag is added when ``tags`` do not set it."""
        all_tags = {system_tags.USER: system_tags.user(), **{t.key: t.value for t in _tags(tags)}}
        return self._store.create_run(
            str(experiment_id),
            user_id=all_tags[system_tags.USER],
            start_time=_now_ms() if start_time is None else int(start_time),
            tags=[RunTag(k, v) for k, v in all_tags.items()],
            run_name=run_name,
        )

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params and tags; raises RESOURCE_DOES_NOT_EXIST."""
        return self._store.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        parent = self.get_run(run_id).data.tags.get(system_tags.PARENT_RUN_ID)
        return None if parent is None else self.get_run(parent)

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        end_time = _now_ms() if status is not None and RunStatus.is_terminated(status) else None
        self._store.update_run_info(run_id, status, end_time, name)

    def set_terminated(self, run_id: str, status: str | None = None, end_time: int | None = None) -> RunInfo:
        """Mark the run ended (FINISHED unless ``status`` says otherwise)."""
        return self._store.update_run_info(
            run_id, status or RunStatus.FINISHED, _now_ms() if end_time is None else end_time, None
        )

    def delete_run(self, run_id: str) -> None:
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._store.restore_run(run_id)

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: int = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList[Run]:
        """One page of runs matching ``filter_string``; ``.token`` gives the next page."""
        ids = [experiment_ids] if isinstance(experiment_ids, str | int) else list(experiment_ids)
        return self._store.search_runs(
            [str(i) for i in ids], filter_string or None, run_view_type, max_results, order_by, page_token
        )

    # ------------------------------------------------------------------------ params, metrics, tags

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        **_: Any,
    ) -> None:
        """Log one metric value; NaN and ±inf are kept. Blocks until written."""
        self._store.log_metric(
            run_id,
            Metric(key, value, _now_ms() if timestamp is None else timestamp, 0 if step is None else step),
        )

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a param; logging a different value for a logged key raises INVALID_PARAMETER_VALUE."""
        self._store.log_param(run_id, Param(key, _param_value(value)))
        return value

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        self._store.set_tag(run_id, RunTag(key, str(value)))

    def delete_tag(self, run_id: str, key: str) -> None:
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        """Log many values in one transaction: all are validated first, and a bad one writes nothing."""
        self._store.log_batch(run_id, list(metrics), list(params), list(tags))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every value logged for ``key``, ordered by step then time."""
        return self._store.get_metric_history(run_id, key)


def _param_value(value: Any) -> str:
    return str(value)


MlflowClient = Client
