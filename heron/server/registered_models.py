"""``/api/2.0/mlflow/registered-models/...``: MLflow's registered model routes (names, tags, aliases,
latest versions per stage), over the ``MlflowClient`` users call, plus Heron's one-call version lookup
(``/api/2.0/heron/registered-models/resolve``) behind ``models:/`` URIs."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from heron.auth.records import REGISTERED_MODEL
from heron.errors import HeronError
from heron.registry import uris, validation
from heron.registry.records import Kind, ModelVersion, RegisteredModel
from heron.registry.wire import model_version_to_json, registered_model_to_json
from heron.server.access import AccessDep
from heron.server.context import Ctx
from heron.server.messages import ERRORS, Body, Empty, KeyValue, Text, Unused, json_response
from heron.server.registry_messages import (
    DeleteAlias,
    DeleteTag,
    ModelVersionOut,
    ModelVersionResponse,
    Name,
    NameRef,
    RegisteredModelOut,
    SearchMaxResults,
    SetAlias,
    SetTag,
)

__all__ = ["heron_router", "router", "version_ref", "is_mlflow_prompt", "split_models_only_clause"]

router = APIRouter(prefix="/api/2.0/mlflow/registered-models", tags=["registered models"], responses=ERRORS)
heron_router = APIRouter(prefix="/api/2.0/heron/registered-models", tags=["registered models"], responses=ERRORS)


class CreateRegisteredModel(Body):
    name: Name
    tags: list[KeyValue] = []
    description: Text | None = None
    deployment_job_id: Unused  # MLflow 3 (Databricks deployment jobs)


class RenameRegisteredModel(Body):
    name: Name
    new_name: Name


class UpdateRegisteredModel(Body):
    name: Name
    description: Text | None = None
    deployment_job_id: Unused  # MLflow 3 (Databricks deployment jobs)


class GetLatestVersions(Body):
    name: Name
    stages: list[Text] = []


class RegisteredModelResponse(BaseModel):
    registered_model: RegisteredModelOut


class SearchRegisteredModelsOut(BaseModel):
    registered_models: list[RegisteredModelOut] = []
    next_page_token: str | None = None


class ModelVersionsOut(BaseModel):
    model_versions: list[ModelVersionOut] = []


def _model(model: RegisteredModel) -> Response:
    return json_response({"registered_model": registered_model_to_json(model)})


def _version(version: ModelVersion) -> Response:
    return json_response({"model_version": model_version_to_json(version)})


def _versions(versions: list[ModelVersion]) -> Response:
    return json_response({"model_versions": [model_version_to_json(v) for v in versions]} if versions else {})


@router.post("/create", response_model=RegisteredModelResponse)
def create_registered_model(body: CreateRegisteredModel, ctx: Ctx) -> Response:
    """Create an empty registered model; RESOURCE_ALREADY_EXISTS if the name is taken (by a model or a prompt)."""
    tags = {t.key: t.value for t in body.tags}
    return _model(ctx.client.create_registered_model(body.name, tags, body.description))


@router.get("/get", response_model=RegisteredModelResponse)
def get_registered_model(ctx: Ctx, name: Annotated[Name, Query()]) -> Response:
    return _model(ctx.client.get_registered_model(name))


@router.post("/rename", response_model=RegisteredModelResponse)
def rename_registered_model(body: RenameRegisteredModel, ctx: Ctx) -> Response:
    return _model(ctx.client.rename_registered_model(body.name, body.new_name))


@router.patch("/update", response_model=RegisteredModelResponse)
def update_registered_model(body: UpdateRegisteredModel, ctx: Ctx) -> Response:
    return _model(ctx.client.update_registered_model(body.name, body.description))


@router.delete("/delete", response_model=Empty)
def delete_registered_model(body: NameRef, ctx: Ctx) -> Response:
    """Delete a model with all its versions, tags and aliases."""
    ctx.client.delete_registered_model(body.name)
    return json_response({})


@router.get("/search", response_model=SearchRegisteredModelsOut)
def search_registered_models(
    ctx: Ctx,
    access: AccessDep,
    filter: Annotated[Text | None, Query()] = None,  # noqa: A002 - MLflow's parameter name
    max_results: Annotated[SearchMaxResults, Query()] = 100,
    order_by: Annotated[list[Text] | None, Query()] = None,
    page_token: Annotated[Text | None, Query()] = None,
) -> Response:
    """One page of registered models matching ``filter`` (prompts never appear here). With auth on, only
    the names the caller may READ: a page may then hold fewer than ``max_results``."""
    flt, models_only = split_models_only_clause(filter)
    found = ctx.client.search_registered_models(flt, max_results, order_by or None, page_token)
    readable = set(access.readable(REGISTERED_MODEL, [m.name for m in found]))
    models = [m for m in found if m.name in readable and not (models_only and is_mlflow_prompt(m.tags))]
    out: dict[str, Any] = {}
    if models:
        out["registered_models"] = [registered_model_to_json(m) for m in models]
    if found.token:
        out["next_page_token"] = found.token
    return json_response(out)


@router.post("/get-latest-versions", response_model=ModelVersionsOut)
def get_latest_versions(body: GetLatestVersions, ctx: Ctx) -> Response:
    """The newest version in each of ``stages`` (every stage when empty)."""
    return _versions(ctx.client.get_latest_versions(body.name, body.stages or None))


@router.get("/get-latest-versions", response_model=ModelVersionsOut)
def get_latest_versions_get(
    ctx: Ctx, name: Annotated[Name, Query()], stages: Annotated[list[Text] | None, Query()] = None
) -> Response:
    return _versions(ctx.client.get_latest_versions(name, stages or None))


@router.post("/set-tag", response_model=Empty)
def set_registered_model_tag(body: SetTag, ctx: Ctx) -> Response:
    ctx.client.set_registered_model_tag(body.name, body.key, body.value)
    return json_response({})


@router.delete("/delete-tag", response_model=Empty)
def delete_registered_model_tag(body: DeleteTag, ctx: Ctx) -> Response:
    ctx.client.delete_registered_model_tag(body.name, body.key)
    return json_response({})


@router.post("/alias", response_model=Empty)
def set_registered_model_alias(body: SetAlias, ctx: Ctx) -> Response:
    """Point ``alias`` at ``version``, moving it atomically if it pointed elsewhere."""
    ctx.client.set_registered_model_alias(body.name, body.alias, body.version)
    return json_response({})


@router.delete("/alias", response_model=Empty)
def delete_registered_model_alias(body: DeleteAlias, ctx: Ctx) -> Response:
    ctx.client.delete_registered_model_alias(body.name, body.alias)
    return json_response({})


@router.get("/alias", response_model=ModelVersionResponse)
def get_model_version_by_alias(
    ctx: Ctx, name: Annotated[Name, Query()], alias: Annotated[Text, Query()]
) -> Response:
    return _version(ctx.client.get_model_version_by_alias(name, alias))


@heron_router.get("/resolve", response_model=ModelVersionResponse)
def resolve_model_version(
    ctx: Ctx,
    name: Annotated[Name, Query()],
    version: Annotated[Text | None, Query(description="A version number.")] = None,
    alias: Annotated[Text | None, Query()] = None,
    stage: Annotated[Text | None, Query(description="None, Staging, Production or Archived.")] = None,
) -> Response:
    """The version that ``models:/NAME/VERSION``, ``@ALIAS``, ``/STAGE`` or (none given) ``/latest`` names."""
    return _version(ctx.client.registry.resolve("model", version_ref(name, "model", version, alias, stage)))


# MLflow's client appends this clause to every model search, to leave out the prompts its own prompt API
# keeps as models tagged `mlflow.prompt.is_prompt`. MLflow's store reads it as "has no such tag, or not
# 'true'"; Heron's filter language would need the tag to exist, so the route drops the clause and
# leaves those models out itself.
_IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
_MODELS_ONLY = re.compile(
    r"(?:^|\s+AND\s+)tags?\.`mlflow\.prompt\.is_prompt`\s*(?:!=\s*'true'|=\s*'false')\s*$", re.IGNORECASE
)


def split_models_only_clause(filter_string: str | None) -> tuple[str | None, bool]:
    """``filter_string`` without the trailing "not a prompt" clause MLflow's client adds, and whether
    it was there."""
    if not filter_string:
        return filter_string, False
    rest = _MODELS_ONLY.sub("", filter_string)
    return (rest or None), rest != filter_string


def is_mlflow_prompt(tags: dict[str, str]) -> bool:
    """Whether MLflow's prompt API stored this registered model (or version) as a prompt."""
    return tags.get(_IS_PROMPT_TAG, "").lower() == "true"


def version_ref(
    name: str, kind: Kind, version: str | None, alias: str | None, stage: str | None
) -> uris.VersionRef:
    """The reference the query names: at most one of version, alias and stage, all checked."""
    given = [k for k, v in (("version", version), ("alias", alias), ("stage", stage)) if v is not None]
    if len(given) > 1:
        raise HeronError.invalid(
            f"Give at most one of version, alias and stage (got {' and '.join(given)}); none means the newest version."
        )
    return uris.VersionRef(
        validation.name(name, kind),
        version=None if version is None else validation.version(version),
        alias=None if alias is None else validation.alias(alias),
        stage=None if stage is None else validation.stage(stage),
    )
