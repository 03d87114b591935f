"""The REST tracking store: the TrackingStore interface over a Heron server's MLflow-compatible REST API.

``heron.set_tracking_uri("http://host:5000")`` makes every fluent and Client call go through this store.
Each method is one HTTP request (``/api/2.0/mlflow/...``) through a pooled, shared connection
(:mod:`heron.tracking.remote`), which also sends ``HERON_TRACKING_TOKEN`` and retries what is safe to
retry. Errors come back as the HeronError the server raised (same code, same message). Thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from heron.errors import RESOURCE_DOES_NOT_EXIST, HeronError
from heron.tracking import validation
from heron.tracking.entities import Experiment, Metric, PagedList, Param, Run, RunInfo, RunTag
from heron.tracking.remote import RemoteServer, search_fields, server_for
from heron.tracking.store import wire
from heron.tracking.uri import StoreLocation

__all__ = ["RestTrackingStore", "API_PREFIX"]

API_PREFIX = "/api/2.0/mlflow/"


def _tags(tags: Sequence[RunTag]) -> list[dict[str, str]]:
    return [{"key": t.key, "value": t.value} for t in tags]


class RestTrackingStore:
    """Experiments and runs kept by the Heron server at ``location.uri``.

    ``artifact_root`` is empty: the server decides where a new experiment's artifacts go (with its
    artifact proxy on, ``mlflow-artifacts:/<experiment id>``).
    """

    def __init__(self, location: StoreLocation) -> None:
        self.location = location
        self.artifact_root = ""
        self.server: RemoteServer = server_for(location.uri)

    def _get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        return self.server.call("GET", API_PREFIX + endpoint, params=params, idempotent=True)

    def _post(self, endpoint: str, body: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        return self.server.call("POST", API_PREFIX + endpoint, json=body, idempotent=idempotent)

    # ----------------------------------------------------------------------------------- experiments

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[RunTag] = ()
    ) -> str:
        body: dict[str, Any] = {"name": name}
        if artifact_location:
            body["artifact_location"] = artifact_location
        if tags:
            body["tags"] = _tags(tags)
        return str(self._post("experiments/create", body, idempotent=False)["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        return wire.experiment_from_json(self._get("experiments/get", experiment_id=experiment_id)["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            found = self._get("experiments/get-by-name", experiment_name=name)
        except HeronError as exc:
            if exc.error_code == RESOURCE_DOES_NOT_EXIST:
                return None
            raise
        return wire.experiment_from_json(found["experiment"])

    def search_experiments(
        self,
        view_type: int,
        max_results: int,
        filter_string: str | None,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> PagedList[Experiment]:
        body: dict[str, Any] = {"view_type": wire.view_type_name(view_type), "max_results": max_results,
                                **search_fields(filter_string, order_by, page_token)}
        found = self._post("experiments/search", body, idempotent=True)
        return PagedList(
            [wire.experiment_from_json(e) for e in found.get("experiments", ())],
            found.get("next_page_token") or None,
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._post("experiments/update", {"experiment_id": experiment_id, "new_name": new_name}, idempotent=True)

    def delete_experiment(self, experiment_id: str) -> None:
        self._post("experiments/delete", {"experiment_id": experiment_id}, idempotent=False)

    def restore_experiment(self, experiment_id: str) -> None:
        self._post("experiments/restore", {"experiment_id": experiment_id}, idempotent=False)

    def set_experiment_tag(self, experiment_id: str, tag: RunTag) -> None:
        self._post(
            "experiments/set-experiment-tag",
            {"experiment_id": experiment_id, "key": tag.key, "value": tag.value},
            idempotent=True,
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._post(
            "experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": key}, idempotent=False
        )

    # ------------------------------------------------------------------------------------------ runs

    def create_run(
        self, experiment_id: str, user_id: str, start_time: int, tags: Sequence[RunTag], run_name: str | None
    ) -> Run:
        body: dict[str, Any] = {
            "experiment_id": str(experiment_id),
            "user_id": user_id,
            "start_time": start_time,
            "tags": _tags(tags),
        }
        if run_name is not None:
            body["run_name"] = run_name
        return wire.run_from_json(self._post("runs/create", body, idempotent=False)["run"])

    def get_run(self, run_id: str) -> Run:
        return wire.run_from_json(self._get("runs/get", run_id=run_id)["run"])

    def update_run_info(
        self, run_id: str, status: str | None, end_time: int | None, run_name: str | None
    ) -> RunInfo:
        body: dict[str, Any] = {"run_id": run_id, "run_uuid": run_id}
        if status is not None:
            body["status"] = status
        if end_time is not None:
            body["end_time"] = end_time
        if run_name:
            body["run_name"] = run_name
        return wire.run_info_from_json(self._post("runs/update", body, idempotent=True)["run_info"])

    def delete_run(self, run_id: str) -> None:
        self._post("runs/delete", {"run_id": run_id}, idempotent=True)

    def restore_run(self, run_id: str) -> None:
        self._post("runs/restore", {"run_id": run_id}, idempotent=True)

    def log_metric(self, run_id: str, metric: Metric) -> None:
        body = {"run_id": run_id, "run_uuid": run_id, **_metric(metric)}
        self._post("runs/log-metric", body, idempotent=False)

    def log_param(self, run_id: str, param: Param) -> None:
        body = {"run_id": run_id, "run_uuid": run_id, "key": param.key, "value": param.value}
        self._post("runs/log-parameter", body, idempotent=True)

    def set_tag(self, run_id: str, tag: RunTag) -> None:
        body = {"run_id": run_id, "run_uuid": run_id, "key": tag.key, "value": tag.value}
        self._post("runs/set-tag", body, idempotent=True)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._post("runs/delete-tag", {"run_id": run_id, "key": key}, idempotent=False)

    def log_batch(
        self, run_id: str, metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
    ) -> None:
        """One request; all-or-nothing on the server. Retried after a broken connection only when it
        holds no metrics (params and tags can be written twice to the same effect; metrics cannot)."""
        body: dict[str, Any] = {"run_id": run_id}
        if metrics:
            body["metrics"] = [_metric(m) for m in metrics]
        if params:
            body["params"] = [{"key": p.key, "value": p.value} for p in params]
        if tags:
            body["tags"] = _tags(tags)
        self._post("runs/log-batch", body, idempotent=not metrics)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        history: list[Metric] = []
        token: str | None = None
        while True:
            page = self._get("metrics/get-history", run_id=run_id, metric_key=key, page_token=token)
            history.extend(wire.metric_from_json(m, run_id) for m in page.get("metrics", ()))
            token = page.get("next_page_token") or None
            if not token:
                return history

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None,
        view_type: int,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> PagedList[Run]:
        body: dict[str, Any] = {
            "experiment_ids": [str(e) for e in experiment_ids],
            "run_view_type": wire.view_type_name(view_type),
            "max_results": max_results,
            **search_fields(filter_string, order_by, page_token),
        }
        found = self._post("runs/search", body, idempotent=True)
        return PagedList([wire.run_from_json(r) for r in found.get("runs", ())], found.get("next_page_token") or None)


def _metric(m: Metric) -> dict[str, Any]:
    # Validated (and numpy numbers made plain) here, with the SQL store's messages: JSON cannot carry
    # every Python number, and a string value must not reach a server that would read it as one.
    m = validation.metric(m)
    return {"key": m.key, "value": wire.metric_value_to_json(m.value), "timestamp": m.timestamp, "step": m.step}
