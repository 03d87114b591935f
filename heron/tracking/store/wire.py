"""MLflow's REST JSON for tracking records, both ways: what the server answers and the REST store reads.

The shapes are those of MLflow's protobuf messages printed as JSON (``mlflow/protos/service.proto``):
snake_case names, 64-bit integers as JSON numbers, NaN and ±infinity as the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"``, empty lists and unset fields left out. Plain dicts and lists only,
so this module imports nothing heavy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from heron.errors import HeronError
from heron.tracking.entities import Experiment, Metric, Run, RunData, RunInfo, ViewType

__all__ = [
    "RUN_STATUSES",
    "VIEW_TYPES",
    "experiment_from_json",
    "experiment_to_json",
    "key_values",
    "metric_from_json",
    "metric_to_json",
    "metric_value",
    "metric_value_to_json",
    "run_from_json",
    "run_info_from_json",
    "run_info_to_json",
    "run_to_json",
    "view_type_name",
]

# Protobuf enum values, for clients that send numbers instead of names.
RUN_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
VIEW_TYPES = {"ACTIVE_ONLY": ViewType.ACTIVE_ONLY, "DELETED_ONLY": ViewType.DELETED_ONLY, "ALL": ViewType.ALL}
_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def view_type_name(view_type: int) -> str:
    for name, value in VIEW_TYPES.items():
        if value == view_type:
            return name
    raise HeronError.invalid(f"Invalid view type {view_type!r}: expected 1 (ACTIVE_ONLY), 2 (DELETED_ONLY) or 3 (ALL).")


# ------------------------------------------------------------------------------------------- metrics


def metric_value_to_json(value: float) -> float | str:
    """A metric value as JSON can hold it: finite numbers as numbers, NaN and ±inf as strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def metric_value(raw: object) -> float:
    """A metric value from JSON: a number, or ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (or a numeric string)."""
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got the boolean {raw!r}")
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        special = _SPECIAL.get(raw)
        if special is not None:
            return special
        try:
            return float(raw)
        except ValueError:
            pass
    raise ValueError(f"expected a number or one of 'NaN', 'Infinity', '-Infinity', got {raw!r}")


def metric_to_json(metric: Metric) -> dict[str, Any]:
    return {
        "key": metric.key,
        "value": metric_value_to_json(metric.value),
        "timestamp": metric.timestamp,
        "step": metric.step,
    }


def metric_from_json(raw: Mapping[str, Any], run_id: str | None = None) -> Metric:
    return Metric(
        str(raw["key"]),
        metric_value(raw.get("value", 0.0)),
        int(raw.get("timestamp", 0)),
        int(raw.get("step", 0)),
        run_id,
    )


def key_values(pairs: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in pairs.items()]


def _pairs(raw: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(p["key"]): str(p.get("value", "")) for p in raw or ()}


# --------------------------------------------------------------------------------------- experiments


def experiment_to_json(e: Experiment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "artifact_location": e.artifact_location,
        "lifecycle_stage": e.lifecycle_stage,
    }
    if e.last_update_time is not None:
        out["last_update_time"] = e.last_update_time
    if e.creation_time is not None:
        out["creation_time"] = e.creation_time
    if e.tags:
        out["tags"] = key_values(e.tags)
    return out


def experiment_from_json(raw: Mapping[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=str(raw["experiment_id"]),
        name=str(raw.get("name", "")),
        artifact_location=str(raw.get("artifact_location", "")),
        lifecycle_stage=str(raw.get("lifecycle_stage", "active")),
        tags=_pairs(raw.get("tags")),
        creation_time=_opt_int(raw.get("creation_time")),
        last_update_time=_opt_int(raw.get("last_update_time")),
    )


# ---------------------------------------------------------------------------------------------- runs


def run_info_to_json(info: RunInfo) -> dict[str, Any]:
    # MLflow's field order; run_uuid is the deprecated twin of run_id and still sent.
    out: dict[str, Any] = {
        "run_uuid": info.run_id,
        "experiment_id": info.experiment_id,
        "run_name": info.run_name,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
    }
    if info.end_time is not None:
        out["end_time"] = info.end_time
    out["artifact_uri"] = info.artifact_uri
    out["lifecycle_stage"] = info.lifecycle_stage
    out["run_id"] = info.run_id
    return out


def run_to_json(run: Run) -> dict[str, Any]:
    """A run as MLflow answers it. Latest metrics carry key and value only: the store keeps their
    step and timestamp in the metric history (metrics/get-history), not in the run."""
    data: dict[str, Any] = {}
    if run.data.metrics:
        data["metrics"] = [{"key": k, "value": metric_value_to_json(v)} for k, v in run.data.metrics.items()]
    if run.data.params:
        data["params"] = key_values(run.data.params)
    if run.data.tags:
        data["tags"] = key_values(run.data.tags)
    return {"info": run_info_to_json(run.info), "data": data, "inputs": {}, "outputs": {}}


def run_info_from_json(raw: Mapping[str, Any]) -> RunInfo:
    status = raw.get("status", "RUNNING")
    return RunInfo(
        run_id=str(raw.get("run_id") or raw.get("run_uuid") or ""),
        experiment_id=str(raw.get("experiment_id", "")),
        run_name=str(raw.get("run_name", "")),
        user_id=str(raw.get("user_id", "")),
        status=RUN_STATUSES.get(status, str(status)) if isinstance(status, int) else str(status),
        start_time=int(raw.get("start_time", 0)),
        end_time=_opt_int(raw.get("end_time")),
        artifact_uri=str(raw.get("artifact_uri", "")),
        lifecycle_stage=str(raw.get("lifecycle_stage", "active")),
    )


def run_from_json(raw: Mapping[str, Any]) -> Run:
    data = raw.get("data") or {}
    return Run(
        run_info_from_json(raw["info"]),
        RunData(
            metrics={str(m["key"]): metric_value(m.get("value", 0.0)) for m in data.get("metrics") or ()},
            params=_pairs(data.get("params")),
            tags=_pairs(data.get("tags")),
        ),
    )


def _opt_int(raw: object) -> int | None:
    if raw is None or raw == "":
        return None
    return int(raw)  # type: ignore[call-overload,no-any-return]
