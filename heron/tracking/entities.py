"""Tracking records: frozen dataclasses with MLflow's attribute names."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = [
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "LifecycleStage",
    "Metric",
    "PagedList",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "ViewType",
]

T = TypeVar("T")


class LifecycleStage:
    ACTIVE = "active"
    DELETED = "deleted"


class RunStatus:
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    ALL = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
    TERMINATED = ("FINISHED", "FAILED", "KILLED")

    @classmethod
    def is_terminated(cls, status: str) -> bool:
        return status in cls.TERMINATED


class ViewType:
    """Which lifecycle stages a search returns (MLflow's values)."""

    ACTIVE_ONLY = 1
    DELETED_ONLY = 2
    ALL = 3

    @classmethod
    def stages(cls, view_type: int) -> tuple[str, ...]:
        if view_type == cls.ACTIVE_ONLY:
            return (LifecycleStage.ACTIVE,)
        if view_type == cls.DELETED_ONLY:
            return (LifecycleStage.DELETED,)
        return (LifecycleStage.ACTIVE, LifecycleStage.DELETED)


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    timestamp: int
    step: int = 0
    run_id: str | None = None


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str


ExperimentTag = RunTag


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: str

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(frozen=True)
class RunData:
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData

    def to_dictionary(self) -> dict[str, Any]:
        return {
            "info": {**self.info.__dict__, "run_uuid": self.info.run_id},
            "data": {"metrics": self.data.metrics, "params": self.data.params, "tags": self.data.tags},
        }


@dataclass(frozen=True)
class FileInfo:
    path: str
    is_dir: bool
    file_size: int | None


class PagedList(list[T], Generic[T]):
    """A list of results with the token for the next page (``None`` on the last page)."""

    def __init__(self, items: Sequence[T] | Iterator[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token


def metric_value_for_storage(value: float) -> tuple[float, bool]:
    """(value, is_nan): SQLite turns NaN into NULL, so NaN is stored as a flag."""
    if math.isnan(value):
        return 0.0, True
    return value, False
