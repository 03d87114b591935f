"""The REST registry store: the RegistryStore interface over a Heron server.

Models go through MLflow's routes (``/api/2.0/mlflow/registered-models/...``, ``model-versions/...``),
prompts through Heron's (``/api/2.0/heron/prompts/...``); ``models:/`` references resolve with one call
to ``/api/2.0/heron/registered-models/resolve``. The transport is the tracking REST store's
(:mod:`heron.tracking.remote`): a pooled connection per server, ``HERON_TRACKING_TOKEN`` as a bearer
token, retries with backoff for calls that are safe to repeat, and an error naming the server when it
cannot be reached. Errors come back as the HeronError the server raised. Thread-safe.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from heron.errors import NOT_IMPLEMENTED, RESOURCE_ALREADY_EXISTS, RESOURCE_DOES_NOT_EXIST, HeronError
from heron.registry import wire
from heron.registry.records import Kind, ModelVersion, PromptContent, RegisteredModel
from heron.registry.store import NewVersion
from heron.registry.uris import VersionRef
from heron.tracking.entities import PagedList
from heron.tracking.remote import RemoteServer, search_fields, server_for

__all__ = ["RestRegistryStore"]

_MLFLOW = "/api/2.0/mlflow/"
_PROMPTS = "/api/2.0/heron/prompts/"
_RESOLVE_MODEL = "/api/2.0/heron/registered-models/resolve"


def _tags(tags: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags]


def _template(prompt: PromptContent) -> dict[str, Any]:
    """A prompt version's content as ``register_prompt`` takes it (the server checks it again)."""
    body: dict[str, Any] = {
        "template": json.loads(prompt.text) if prompt.template_type == "chat" else prompt.text,
        "template_format": prompt.template_format,
    }
    if prompt.response_format is not None:
        body["response_format"] = json.loads(prompt.response_format)
    if prompt.model_config is not None:
        body["model_config"] = json.loads(prompt.model_config)
    return body


class RestRegistryStore:
    """Registered models and prompts kept by the Heron server at ``uri``."""

    def __init__(self, uri: str) -> None:
        self.server: RemoteServer = server_for(uri)

    # ------------------------------------------------------------------------------------- transport

    def _call(self, method: str, kind: Kind, endpoint: str, body: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        path = (_MLFLOW if kind == "model" else _PROMPTS) + endpoint
        if method == "GET":
            return self.server.call("GET", path, params=body, idempotent=True)
        return self.server.call(method, path, json=body, idempotent=idempotent)

    def _model_or_prompt(self, kind: Kind, model_endpoint: str, prompt_endpoint: str) -> str:
        return model_endpoint if kind == "model" else prompt_endpoint

    @staticmethod
    def _unsupported(kind: Kind, what: str) -> HeronError:
        return HeronError(f"{what} is not available for {kind}s on a Heron server.", NOT_IMPLEMENTED)

    # ----------------------------------------------------------------------------------------- names

    def create_registered_model(
        self, kind: Kind, name: str, tags: Sequence[tuple[str, str]], description: str | None
    ) -> RegisteredModel:
        if kind != "model":
            raise self._unsupported(kind, "Creating an empty name")
        body: dict[str, Any] = {"name": name, "tags": _tags(tags)}
        if description is not None:
            body["description"] = description
        found = self._call("POST", kind, "registered-models/create", body, idempotent=False)
        return wire.registered_model_from_json(found["registered_model"])

    def get_registered_model(self, kind: Kind, name: str) -> RegisteredModel:
        endpoint = self._model_or_prompt(kind, "registered-models/get", "get")
        found = self._call("GET", kind, endpoint, {"name": name}, idempotent=True)
        return wire.registered_model_from_json(found["registered_model" if kind == "model" else "prompt"])

    def rename_registered_model(self, kind: Kind, name: str, new_name: str) -> RegisteredModel:
        if kind != "model":
            raise self._unsupported(kind, "Renaming")
        found = self._call("POST", kind, "registered-models/rename", {"name": name, "new_name": new_name}, idempotent=False)
        return wire.registered_model_from_json(found["registered_model"])

    def update_registered_model(self, kind: Kind, name: str, description: str | None) -> RegisteredModel:
        if kind != "model":
            raise self._unsupported(kind, "Updating the description")
        body = {"name": name, "description": description}
        found = self._call("PATCH", kind, "registered-models/update", body, idempotent=True)
        return wire.registered_model_from_json(found["registered_model"])

    def delete_registered_model(self, kind: Kind, name: str) -> None:
        endpoint = self._model_or_prompt(kind, "registered-models/delete", "delete")
        self._call("DELETE", kind, endpoint, {"name": name}, idempotent=False)

    def search_registered_models(
        self,
        kind: Kind,
        filter_string: str | None,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> PagedList[RegisteredModel]:
        query = _search_query(filter_string, max_results, order_by, page_token)
        endpoint = self._model_or_prompt(kind, "registered-models/search", "search")
        found = self._call("GET", kind, endpoint, query, idempotent=True)
        items = found.get("registered_models" if kind == "model" else "prompts", ())
        return PagedList([wire.registered_model_from_json(m) for m in items], found.get("next_page_token") or None)

    def set_registered_model_tag(self, kind: Kind, name: str, key: str, value: str) -> None:
        endpoint = self._model_or_prompt(kind, "registered-models/set-tag", "set-tag")
        self._call("POST", kind, endpoint, {"name": name, "key": key, "value": value}, idempotent=True)

    def delete_registered_model_tag(self, kind: Kind, name: str, key: str) -> None:
        endpoint = self._model_or_prompt(kind, "registered-models/delete-tag", "delete-tag")
        self._call("DELETE", kind, endpoint, {"name": name, "key": key}, idempotent=True)

    # -------------------------------------------------------------------------------------- versions

    def create_model_version(
        self, kind: Kind, name: str, new: NewVersion, create_name: bool = False
    ) -> ModelVersion:
        """The next version of ``name``. Not retried once sent: a repeat would add a second version."""
        if kind == "prompt":
            if new.prompt is None:
                raise HeronError.invalid("A prompt version needs a template.")
            body: dict[str, Any] = {"name": name, "tags": _tags(new.tags), **_template(new.prompt)}
            if new.description is not None:
                body["commit_message"] = new.description
            found = self._call("POST", kind, "versions/create", body, idempotent=False)
            return wire.model_version_from_json(found["prompt_version"])
        body = {"name": name, "source": new.source or "", "tags": _tags(new.tags)}
        for field in ("run_id", "run_link", "description"):
            if getattr(new, field) is not None:
                body[field] = getattr(new, field)
        exists: HeronError | None = None
        if create_name:
            # Two calls (MLflow's API has no create-if-missing); concurrent first registrations agree,
            # since the loser of the name's creation goes on to add its version.
            try:
                self.create_registered_model(kind, name, (), None)
            except HeronError as e:
                if e.error_code != RESOURCE_ALREADY_EXISTS:
                    raise
                exists = e
        try:
            found = self._call("POST", kind, "model-versions/create", body, idempotent=False)
        except HeronError as e:
            # The name exists but is not a model (a prompt): say so, as the embedded store does.
            if exists is not None and e.error_code == RESOURCE_DOES_NOT_EXIST:
                raise exists from None
            raise
        return wire.model_version_from_json(found["model_version"])

    def get_model_version(self, kind: Kind, name: str, version: int) -> ModelVersion:
        endpoint = self._model_or_prompt(kind, "model-versions/get", "versions/get")
        found = self._call("GET", kind, endpoint, {"name": name, "version": str(version)}, idempotent=True)
        return wire.model_version_from_json(found["model_version" if kind == "model" else "prompt_version"])

    def resolve(self, kind: Kind, ref: VersionRef) -> ModelVersion:
        query: dict[str, Any] = {"name": ref.name}
        if ref.version is not None:
            query["version"] = str(ref.version)
        if ref.alias is not None:
            query["alias"] = ref.alias
        if kind == "model":
            if ref.stage is not None:
                query["stage"] = ref.stage
            found = self.server.call("GET", _RESOLVE_MODEL, params=query, idempotent=True)
            return wire.model_version_from_json(found["model_version"])
        found = self._call("GET", kind, "versions/load", query, idempotent=True)
        return wire.model_version_from_json(found["prompt_version"])

    def update_model_version(self, kind: Kind, name: str, version: int, description: str | None) -> ModelVersion:
        if kind != "model":
            raise self._unsupported(kind, "Updating a version's description")
        body = {"name": name, "version": str(version), "description": description}
        found = self._call("PATCH", kind, "model-versions/update", body, idempotent=True)
        return wire.model_version_from_json(found["model_version"])

    def delete_model_version(self, kind: Kind, name: str, version: int) -> None:
        endpoint = self._model_or_prompt(kind, "model-versions/delete", "versions/delete")
        self._call("DELETE", kind, endpoint, {"name": name, "version": str(version)}, idempotent=False)

    def transition_model_version_stage(
        self, kind: Kind, name: str, version: int, stage: str, archive_existing_versions: bool
    ) -> ModelVersion:
        if kind != "model":
            raise self._unsupported(kind, "Stage transition")
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": archive_existing_versions,
        }
        found = self._call("POST", kind, "model-versions/transition-stage", body, idempotent=True)
        return wire.model_version_from_json(found["model_version"])

    def get_latest_versions(self, kind: Kind, name: str, stages: Sequence[str] | None) -> list[ModelVersion]:
        if kind != "model":
            raise self._unsupported(kind, "Latest versions per stage")
        body: dict[str, Any] = {"name": name}
        if stages:
            body["stages"] = list(stages)
        found = self._call("POST", kind, "registered-models/get-latest-versions", body, idempotent=True)
        return [wire.model_version_from_json(v) for v in found.get("model_versions", ())]

    def search_model_versions(
        self,
        kind: Kind,
        filter_string: str | None,
        max_results: int,
        order_by: Sequence[str] | None,
        page_token: str | None,
    ) -> PagedList[ModelVersion]:
        query = _search_query(filter_string, max_results, order_by, page_token)
        endpoint = self._model_or_prompt(kind, "model-versions/search", "versions/search")
        found = self._call("GET", kind, endpoint, query, idempotent=True)
        items = found.get("model_versions" if kind == "model" else "prompt_versions", ())
        return PagedList([wire.model_version_from_json(v) for v in items], found.get("next_page_token") or None)

    def set_model_version_tag(self, kind: Kind, name: str, version: int, key: str, value: str) -> None:
        endpoint = self._model_or_prompt(kind, "model-versions/set-tag", "versions/set-tag")
        body = {"name": name, "version": str(version), "key": key, "value": value}
        self._call("POST", kind, endpoint, body, idempotent=True)

    def delete_model_version_tag(self, kind: Kind, name: str, version: int, key: str) -> None:
        endpoint = self._model_or_prompt(kind, "model-versions/delete-tag", "versions/delete-tag")
        self._call("DELETE", kind, endpoint, {"name": name, "version": str(version), "key": key}, idempotent=True)

    # --------------------------------------------------------------------------------------- aliases

    def set_registered_model_alias(self, kind: Kind, name: str, alias: str, version: int) -> None:
        endpoint = self._model_or_prompt(kind, "registered-models/alias", "alias")
        self._call("POST", kind, endpoint, {"name": name, "alias": alias, "version": str(version)}, idempotent=True)

    def delete_registered_model_alias(self, kind: Kind, name: str, alias: str) -> None:
        endpoint = self._model_or_prompt(kind, "registered-models/alias", "alias")
        self._call("DELETE", kind, endpoint, {"name": name, "alias": alias}, idempotent=True)


def _search_query(
    filter_string: str | None, max_results: int, order_by: Sequence[str] | None, page_token: str | None
) -> dict[str, Any]:
    """The query string of a registry search (MLflow's field names), leaving out what is unset."""
    return {"max_results": max_results, **search_fields(filter_string, order_by, page_token)}
