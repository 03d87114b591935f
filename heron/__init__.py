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


if TYPE_CHECKING:  # for type checkers and IDEs; never executed. `name as name` marks each as exported
    # (mypy --strict, pyright), since they cannot evaluate the computed __all__ above.
    from heron import (
        artifacts as artifacts,
    )
    from heron import (
        config as config,
    )
    from heron import (
        entities as entities,
    )
    from heron import (
        errors as errors,
    )
    from heron import (
        exceptions as exceptions,
    )
    from heron import (
        langchain as langchain,
    )
    from heron import (
        prompts as prompts,
    )
    from heron import (
        registry as registry,
    )
    from heron import (
        tracing as tracing,
    )
    from heron import (
        tracking as tracking,
    )
    from heron.errors import HeronError as HeronError
    from heron.errors import MlflowException as MlflowException
    from heron.prompts.client import Client as Client
    from heron.prompts.client import MlflowClient as MlflowClient
    from heron.prompts.fluent import (
        delete_prompt as delete_prompt,
    )
    from heron.prompts.fluent import (
        delete_prompt_alias as delete_prompt_alias,
    )
    from heron.prompts.fluent import (
        delete_prompt_version as delete_prompt_version,
    )
    from heron.prompts.fluent import (
        load_prompt as load_prompt,
    )
    from heron.prompts.fluent import (
        register_prompt as register_prompt,
    )
    from heron.prompts.fluent import (
        search_prompts as search_prompts,
    )
    from heron.prompts.fluent import (
        set_prompt_alias as set_prompt_alias,
    )
    from heron.registry.fluent import register_model as register_model
    from heron.registry.fluent import search_model_versions as search_model_versions
    from heron.registry.fluent import search_registered_models as search_registered_models
    from heron.tracing import (
        SpanType as SpanType,
    )
    from heron.tracing import (
        delete_traces as delete_traces,
    )
    from heron.tracing import (
        flush_traces as flush_traces,
    )
    from heron.tracing import (
        get_current_active_span as get_current_active_span,
    )
    from heron.tracing import (
        get_last_active_trace_id as get_last_active_trace_id,
    )
    from heron.tracing import (
        get_trace as get_trace,
    )
    from heron.tracing import (
        log_assessment as log_assessment,
    )
    from heron.tracing import (
        log_expectation as log_expectation,
    )
    from heron.tracing import (
        log_feedback as log_feedback,
    )
    from heron.tracing import (
        search_traces as search_traces,
    )
    from heron.tracing import (
        start_span as start_span,
    )
    from heron.tracing import (
        trace as trace,
    )
    from heron.tracing import (
        update_current_trace as update_current_trace,
    )
    from heron.tracing.autolog import autolog as autolog
    from heron.tracking.artifacts_fluent import (
        get_artifact_uri as get_artifact_uri,
    )
    from heron.tracking.artifacts_fluent import (
        load_table as load_table,
    )
    from heron.tracking.artifacts_fluent import (
        log_artifact as log_artifact,
    )
    from heron.tracking.artifacts_fluent import (
        log_artifacts as log_artifacts,
    )
    from heron.tracking.artifacts_fluent import (
        log_dict as log_dict,
    )
    from heron.tracking.artifacts_fluent import (
        log_figure as log_figure,
    )
    from heron.tracking.artifacts_fluent import (
        log_image as log_image,
    )
    from heron.tracking.artifacts_fluent import (
        log_table as log_table,
    )
    from heron.tracking.artifacts_fluent import (
        log_text as log_text,
    )
    from heron.tracking.fluent import (
        ActiveRun as ActiveRun,
    )
    from heron.tracking.fluent import (
        active_run as active_run,
    )
    from heron.tracking.fluent import (
        create_experiment as create_experiment,
    )
    from heron.tracking.fluent import (
        delete_experiment as delete_experiment,
    )
    from heron.tracking.fluent import (
        delete_run as delete_run,
    )
    from heron.tracking.fluent import (
        delete_tag as delete_tag,
    )
    from heron.tracking.fluent import (
        end_run as end_run,
    )
    from heron.tracking.fluent import (
        get_experiment as get_experiment,
    )
    from heron.tracking.fluent import (
        get_experiment_by_name as get_experiment_by_name,
    )
    from heron.tracking.fluent import (
        get_parent_run as get_parent_run,
    )
    from heron.tracking.fluent import (
        get_run as get_run,
    )
    from heron.tracking.fluent import (
        get_tracking_uri as get_tracking_uri,
    )
    from heron.tracking.fluent import (
        last_active_run as last_active_run,
    )
    from heron.tracking.fluent import (
        log_metric as log_metric,
    )
    from heron.tracking.fluent import (
        log_metrics as log_metrics,
    )
    from heron.tracking.fluent import (
        log_param as log_param,
    )
    from heron.tracking.fluent import (
        log_params as log_params,
    )
    from heron.tracking.fluent import (
        search_experiments as search_experiments,
    )
    from heron.tracking.fluent import (
        search_runs as search_runs,
    )
    from heron.tracking.fluent import (
        set_experiment as set_experiment,
    )
    from heron.tracking.fluent import (
        set_experiment_tag as set_experiment_tag,
    )
    from heron.tracking.fluent import (
        set_experiment_tags as set_experiment_tags,
    )
    from heron.tracking.fluent import (
        set_tag as set_tag,
    )
    from heron.tracking.fluent import (
        set_tags as set_tags,
    )
    from heron.tracking.fluent import (
        set_tracking_uri as set_tracking_uri,
    )
    from heron.tracking.fluent import (
        start_run as start_run,
    )
