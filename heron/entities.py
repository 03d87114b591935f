"""Record types under MLflow's module name (``from mlflow.entities import Metric`` keeps working)."""

from heron.prompts.records import Prompt, PromptVersion
from heron.registry.records import ModelVersion, RegisteredModel
from heron.tracking.entities import (
    Experiment,
    ExperimentTag,
    FileInfo,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)

__all__ = [
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "LifecycleStage",
    "Metric",
    "ModelVersion",
    "Param",
    "Prompt",
    "PromptVersion",
    "RegisteredModel",
    "Run",
    "RunData",
    "RunInfo",
    "RunStatus",
    "RunTag",
    "ViewType",
]
