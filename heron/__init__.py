"""Heron: GenAI-first tracing, tracking, registry and evaluation with MLflow's API.

``import heron`` is cheap and does nothing: every name below is imported on first use, so that neither
SQLAlchemy, pandas nor any integration loads until it is needed. ``import heron as mlflow`` runs
MLflow tracking code unchanged.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # tracking URI and experiments
    "set_tracking_uri": "heron.tracking.fluent",
    "get_tracking_uri": "heron.tracking.fluent",
    "set_experiment": "heron.tracking.fluent",
    "create_experiment": "heron.tracking.fluent",
    "get_experiment": "heron.tracking.fluent",
    "get_experiment_by_name": "heron.tracking.fluent",
    "delete_experiment": "heron.tracking.fluent",
    "search_experiments": "heron.tracking.fluent",
    "set_experiment_tag": "heron.tracking.fluent",
    "set_experiment_tags": "heron.tracking.fluent",
    # runs
    "start_run": "heron.tracking.fluent",
    "end_run": "heron.tracking.fluent",
    "active_run": "heron.tracking.fluent",
    "last_active_run": "heron.tracking.fluent",
    "get_run": "heron.tracking.fluent",
    "get_parent_run": "heron.tracking.fluent",
    "delete_run": "heron.tracking.fluent",
    "search_runs": "heron.tracking.fluent",
    "ActiveRun": "heron.tracking.fluent",
    # params, metrics, tags
    "log_metric": "heron.tracking.fluent",
    "log_metrics": "heron.tracking.fluent",
    "log_param": "heron.tracking.fluent",
    "log_params": "heron.tracking.fluent",
    "set_tag": "heron.tracking.fluent",
    "set_tags": "heron.tracking.fluent",
    "delete_tag": "heron.tracking.fluent",
    # artifacts
    "log_artifact": "heron.tracking.artifacts_fluent",
    "log_artifacts": "heron.tracking.artifacts_fluent",
    "log_text": "heron.tracking.artifacts_fluent",
    "log_dict": "heron.tracking.artifacts_fluent",
    "log_figure": "heron.tracking.artifacts_fluent",
    "log_image": "heron.tracking.artifacts_fluent",
    "log_table": "heron.tracking.artifacts_fluent",
    "load_table": "heron.tracking.artifacts_fluent",
    "get_artifact_uri": "heron.tracking.artifacts_fluent",
    # tracing
    "trace": "heron.tracing",
    "start_span": "heron.tracing",
    "get_current_active_span": "heron.tracing",
    "update_current_trace": "heron.tracing",
    "get_last_active_trace_id": "heron.tracing",
    "flush_traces": "heron.tracing",
    "get_trace": "heron.tracing",
    "search_traces": "heron.tracing",
    "delete_traces": "heron.tracing",
    "log_assessment": "heron.tracing",
    "log_feedback": "heron.tracing",
    "log_expectation": "heron.tracing",
    "SpanType": "heron.tracing",
    "autolog": "heron.tracing.autolog",
    # model registry
    "register_model": "heron.registry.fluent",
    "search_registered_models": "heron.registry.fluent",
    "search_model_versions": "heron.registry.fluent",
    # prompt registry
    "register_prompt": "heron.prompts.fluent",
    "load_prompt": "heron.prompts.fluent",
    "search_prompts": "heron.prompts.fluent",
    "set_prompt_alias": "heron.prompts.fluent",
    "delete_prompt_alias": "heron.prompts.fluent",
    "delete_prompt_version": "heron.prompts.fluent",
    "delete_prompt": "heron.prompts.fluent",
    # clients and errors (the client with tracking, model registry and prompt registry methods)
    "Client": "heron.prompts.client",
    "MlflowClient": "heron.prompts.client",
    "HeronError": "heron.errors",
    "MlflowException": "heron.errors",
}

_SUBMODULES = (
    "artifacts", "config", "entities", "errors", "exceptions", "genai", "langchain", "openai", "prompts",
    "registry", "tracing", "tracking",
)

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"heron.{name}")
    raise AttributeError(f"module 'heron' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # for type checkers and IDEs; never executed
    from heron import (
        artifacts,
        config,
        entities,
        errors,
        exceptions,
        langchain,
        prompts,
        registry,
        tracing,
        tracking,
    )
    from heron.errors import HeronError, MlflowException
    from heron.prompts.client import Client, MlflowClient
    from heron.prompts.fluent import (
        delete_prompt,
        delete_prompt_alias,
        delete_prompt_version,
        load_prompt,
        register_prompt,
        search_prompts,
        set_prompt_alias,
    )
    from heron.registry.fluent import register_model, search_model_versions, search_registered_models
    from heron.tracing import (
        SpanType,
        delete_traces,
        flush_traces,
        get_current_active_span,
        get_last_active_trace_id,
        get_trace,
        log_assessment,
        log_expectation,
        log_feedback,
        search_traces,
        start_span,
        trace,
        update_current_trace,
    )
    from heron.tracing.autolog import autolog
    from heron.tracking.artifacts_fluent import (
        get_artifact_uri,
        load_table,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_image,
        log_table,
        log_text,
    )
    from heron.tracking.fluent import (
        ActiveRun,
        active_run,
        create_experiment,
        delete_experiment,
        delete_run,
        delete_tag,
        end_run,
        get_experiment,
        get_experiment_by_name,
        get_parent_run,
        get_run,
        get_tracking_uri,
        last_active_run,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        search_experiments,
        search_runs,
        set_experiment,
        set_experiment_tag,
        set_experiment_tags,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )
