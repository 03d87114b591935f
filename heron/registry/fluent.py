"""The fluent model registry API: ``heron.register_model`` and the registry searches, on the tracking
URI in force (MLflow's names and semantics)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from heron.registry import sources
from heron.registry.client import MlflowClient, tag_pairs
from heron.registry.records import ModelVersion, RegisteredModel
from heron.registry.store import NewVersion
from heron.registry.stores import get_registry_store
from heron.tracking.uri import get_tracking_uri

__all__ = ["register_model", "search_model_versions", "search_registered_models"]

DEFAULT_AWAIT_MAX_SLEEP_SECONDS = 300
_PAGE = 1000


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int | None = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
    *,
    tags: dict[str, Any] | None = None,
) -> ModelVersion:
    """Register ``model_uri`` as the next version of ``name``, creating the model on first use.

    ``runs:/<run_id>/<path>`` records the run (lineage) and the run's artifact location as the source;
    any other URI is recorded as given. Versions are READY at once, so ``await_registration_for`` has
    nothing to wait for. Safe to call from many processes at once: each gets its own version number.
    Raises RESOURCE_DOES_NOT_EXIST for an unknown run, RESOURCE_ALREADY_EXISTS if ``name`` is a prompt.
    """
    source, run_id = sources.source_for(model_uri)
    new = NewVersion(source=source, run_id=run_id, tags=tag_pairs(tags))
    return get_registry_store().create_model_version("model", name, new, create_name=True)


def search_registered_models(
    max_results: int | None = None, filter_string: str | None = None, order_by: Sequence[str] | None = None
) -> list[RegisteredModel]:
    """Every model matching ``filter_string`` (all pages), at most ``max_results``."""
    client = MlflowClient(get_tracking_uri())
    found: list[RegisteredModel] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        want = _PAGE if max_results is None else min(_PAGE, max_results - len(found))
        page = client.search_registered_models(filter_string, want, order_by, token)
        found += page
        token = page.token
        if not token:
            break
    return found


def search_model_versions(
    max_results: int | None = None, filter_string: str | None = None, order_by: Sequence[str] | None = None
) -> list[ModelVersion]:
    """Every model version matching ``filter_string`` (all pages), at most ``max_results``."""
    client = MlflowClient(get_tracking_uri())
    found: list[ModelVersion] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        want = 10_000 if max_results is None else min(10_000, max_results - len(found))
        page = client.search_model_versions(filter_string, want, order_by, token)
        found += page
        token = page.token
        if not token:
            break
    return found
