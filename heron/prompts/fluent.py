"""The fluent prompt registry API (``heron.register_prompt``, ``heron.load_prompt`` …) on the tracking
URI in force: MLflow 3's ``mlflow.genai`` prompt functions, same names and arguments."""

from __future__ import annotations

import threading
from typing import Any

from heron.prompts.client import MlflowClient
from heron.prompts.records import Prompt, PromptVersion
from heron.tracking.entities import PagedList
from heron.tracking.uri import get_tracking_uri

__all__ = [
    "delete_prompt",
    "delete_prompt_alias",
    "delete_prompt_tag",
    "delete_prompt_version",
    "delete_prompt_version_tag",
    "get_prompt",
    "load_prompt",
    "register_prompt",
    "search_prompts",
    "set_prompt_alias",
    "set_prompt_tag",
    "set_prompt_version_tag",
]

_lock = threading.Lock()
_client_cache: tuple[str, MlflowClient] | None = None


def _client() -> MlflowClient:
    """A client for the tracking URI in force (rebuilt when the URI changes): load_prompt's hot path."""
    global _client_cache
    current = get_tracking_uri()
    cached = _client_cache
    if cached is not None and cached[0] == current:
        return cached[1]
    with _lock:
        _client_cache = (current, MlflowClient(current))
        return _client_cache[1]


def register_prompt(
    name: str,
    template: str | list[dict[str, Any]],
    commit_message: str | None = None,
    tags: dict[str, Any] | None = None,
    response_format: Any = None,
    model_config: Any = None,
    template_format: str | None = None,
) -> PromptVersion:
    """Register the next version of prompt ``name``; see ``MlflowClient.register_prompt``."""
    return _client().register_prompt(name, template, commit_message, tags, response_format, model_config, template_format)


def load_prompt(
    name_or_uri: str,
    version: int | str | None = None,
    allow_missing: bool = False,
    link_to_model: bool = True,
    model_id: str | None = None,
    cache_ttl_seconds: float | None = None,
) -> PromptVersion | None:
    """Load a prompt version by URI or name (cached for ``HERON_PROMPT_CACHE_TTL_SECONDS``); see
    ``MlflowClient.load_prompt``."""
    return _client().load_prompt(name_or_uri, version, allow_missing, link_to_model, model_id, cache_ttl_seconds)


def search_prompts(filter_string: str | None = None, max_results: int | None = None) -> PagedList[Prompt]:
    """Every prompt matching ``filter_string`` (all pages), at most ``max_results``."""
    client = _client()
    found: list[Prompt] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        want = 1000 if max_results is None else min(1000, max_results - len(found))
        page = client.search_prompts(filter_string, want, token)
        found += page
        token = page.token
        if not token:
            break
    return PagedList(found, token)


def get_prompt(name: str) -> Prompt | None:
    return _client().get_prompt(name)


def set_prompt_alias(name: str, alias: str, version: int | str) -> None:
    _client().set_prompt_alias(name, alias, version)


def delete_prompt_alias(name: str, alias: str) -> None:
    _client().delete_prompt_alias(name, alias)


def delete_prompt_version(name: str, version: int | str) -> None:
    _client().delete_prompt_version(name, version)


def delete_prompt(name: str) -> None:
    _client().delete_prompt(name)


def set_prompt_tag(name: str, key: str, value: Any) -> None:
    _client().set_prompt_tag(name, key, value)


def delete_prompt_tag(name: str, key: str) -> None:
    _client().delete_prompt_tag(name, key)


def set_prompt_version_tag(name: str, version: int | str, key: str, value: Any) -> None:
    _client().set_prompt_version_tag(name, version, key, value)


def delete_prompt_version_tag(name: str, version: int | str, key: str) -> None:
    _client().delete_prompt_version_tag(name, version, key)
