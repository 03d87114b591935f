"""MLflow's REST JSON for registry records, both ways: what the server answers and the REST registry store
reads.

The shapes are those of MLflow's ``model_registry.proto`` messages printed as JSON: a version number is
a string (``"version": "3"``), tags are ``[{"key", "value"}]``, aliases of a registered model are
``[{"alias", "version"}]``, unset fields are left out. A prompt version (Heron's own routes) is a model
version with a ``prompt`` object holding its template. Plain dicts and lists only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from heron.registry.records import ModelVersion, PromptContent, RegisteredModel, Stage

__all__ = [
    "model_version_from_json",
    "model_version_to_json",
    "registered_model_from_json",
    "registered_model_to_json",
]


def _key_values(pairs: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in pairs.items()]


def _pairs(raw: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(p["key"]): str(p.get("value", "")) for p in raw or ()}


def _prompt_to_json(p: PromptContent) -> dict[str, Any]:
    out: dict[str, Any] = {"text": p.text, "template_type": p.template_type, "template_format": p.template_format}
    if p.response_format is not None:
        out["response_format"] = p.response_format
    if p.model_config is not None:
        out["model_config"] = p.model_config
    return out


def _prompt_from_json(raw: Mapping[str, Any]) -> PromptContent:
    return PromptContent(
        text=str(raw["text"]),
        template_type=str(raw.get("template_type", "text")),
        template_format=str(raw.get("template_format", "double_brace")),
        response_format=_opt_str(raw.get("response_format")),
        model_config=_opt_str(raw.get("model_config")),
    )


def model_version_to_json(mv: ModelVersion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": mv.name,
        "version": str(mv.version),
        "creation_timestamp": mv.creation_timestamp,
        "last_updated_timestamp": mv.last_updated_timestamp,
    }
    optional = {
        "user_id": mv.user_id,
        "current_stage": mv.current_stage,
        "description": mv.description,
        "source": mv.source,
        "run_id": mv.run_id,
        "status": mv.status,
        "status_message": mv.status_message,
        "run_link": mv.run_link,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if mv.tags:
        out["tags"] = _key_values(mv.tags)
    if mv.aliases:
        out["aliases"] = list(mv.aliases)
    if mv.prompt is not None:
        out["prompt"] = _prompt_to_json(mv.prompt)
    return out


def model_version_from_json(raw: Mapping[str, Any]) -> ModelVersion:
    prompt = raw.get("prompt")
    return ModelVersion(
        name=str(raw["name"]),
        version=int(raw["version"]),
        creation_timestamp=int(raw.get("creation_timestamp", 0)),
        last_updated_timestamp=int(raw.get("last_updated_timestamp", 0)),
        description=_opt_str(raw.get("description")),
        user_id=_opt_str(raw.get("user_id")),
        current_stage=str(raw.get("current_stage", Stage.NONE)),
        source=_opt_str(raw.get("source")),
        run_id=_opt_str(raw.get("run_id")),
        status=str(raw.get("status", "READY")),
        status_message=_opt_str(raw.get("status_message")),
        tags=_pairs(raw.get("tags")),
        run_link=_opt_str(raw.get("run_link")),
        aliases=[str(a) for a in raw.get("aliases") or ()],
        prompt=None if not isinstance(prompt, Mapping) else _prompt_from_json(prompt),
    )


def registered_model_to_json(rm: RegisteredModel) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": rm.name,
        "creation_timestamp": rm.creation_timestamp,
        "last_updated_timestamp": rm.last_updated_timestamp,
    }
    if rm.description is not None:
        out["description"] = rm.description
    if rm.latest_versions:
        out["latest_versions"] = [model_version_to_json(v) for v in rm.latest_versions]
    if rm.tags:
        out["tags"] = _key_values(rm.tags)
    if rm.aliases:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in rm.aliases.items()]
    return out


def registered_model_from_json(raw: Mapping[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=str(raw["name"]),
        creation_timestamp=int(raw.get("creation_timestamp", 0)),
        last_updated_timestamp=int(raw.get("last_updated_timestamp", 0)),
        description=_opt_str(raw.get("description")),
        latest_versions=[model_version_from_json(v) for v in raw.get("latest_versions") or ()],
        tags=_pairs(raw.get("tags")),
        aliases={str(a["alias"]): int(a["version"]) for a in raw.get("aliases") or ()},
    )


def _opt_str(raw: object) -> str | None:
    return None if raw is None else str(raw)
