"""``/api/2.0/mlflow/model-versions/...``: MLflow's model version routes (create, get, update, delete,
search, stage transitions, tags, download URI), over the ``MlflowClient`` users call.

``create`` takes a ``runs:/`` source as well as a resolved one (MLflow's client resolves it itself);
the version is READY at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from heron.auth.records import REGISTERED_MODEL
from heron.registry.records import ModelVersion
from heron.registry.wire import model_version_to_json
from heron.server.access import AccessDep
from heron.server.context import Ctx
from heron.server.messages import ERRORS, Body, Empty, KeyValue, Text, Unused, json_response
from heron.server.registered_models import is_mlflow_prompt, split_models_only_clause
from heron.server.registry_messages import (
    DeleteVersionTag,
    ModelVersionOut,
    ModelVersionResponse,
    Name,
    SearchMaxResults,
    SetVersionTag,
    VersionRefBody,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/2.0/mlflow/model-versions", tags=["model versions"], responses=ERRORS)


class CreateModelVersion(Body):
    name: Name
    source: Text
    run_id: Text | None = None
    tags: list[KeyValue] = []
    run_link: Text | None = None
    description: Text | None = None
    model_id: Unused  # MLflow 3's logged model


class UpdateModelVersion(VersionRefBody):
    description: Text | None = None


class TransitionStage(VersionRefBody):
    stage: Text
    archive_existing_versions: bool = False


class SearchModelVersionsOut(BaseModel):
    model_versions: list[ModelVersionOut] = []
    next_page_token: str | None = None


class DownloadUriOut(BaseModel):
    artifact_uri: str


def _version(version: ModelVersion) -> Response:
    return json_response({"model_version": model_version_to_json(version)})


@router.post("/create", response_model=ModelVersionResponse)
def create_model_version(body: CreateModelVersion, ctx: Ctx) -> Response:
    """The next version (1, 2, 3 …) of an existing model; RESOURCE_DOES_NOT_EXIST if there is none."""
    tags = {t.key: t.value for t in body.tags}
    created = ctx.client.create_model_version(
        body.name, body.source, body.run_id or None, tags, body.run_link or None, body.description
    )
    return _version(created)


@router.get("/get", response_model=ModelVersionResponse)
def get_model_version(ctx: Ctx, name: Annotated[Name, Query()], version: Annotated[Text, Query()]) -> Response:
    return _version(ctx.client.get_model_version(name, version))


@router.patch("/update", response_model=ModelVersionResponse)
def update_model_version(body: UpdateModelVersion, ctx: Ctx) -> Response:
    return _version(ctx.client.update_model_version(body.name, body.version, body.description))


@router.delete("/delete", response_model=Empty)
def delete_model_version(body: VersionRefBody, ctx: Ctx) -> Response:
    """Delete a version, its tags and the aliases that point at it; its number is never reused."""
    ctx.client.delete_model_version(body.name, body.version)
    return json_response({})


@router.get("/search", response_model=SearchModelVersionsOut)
def search_model_versions(
    ctx: Ctx,
    access: AccessDep,
    filter: Annotated[Text | None, Query()] = None,  # noqa: A002 - MLflow's parameter name
    max_results: Annotated[SearchMaxResults, Query()] = 10_000,
    order_by: Annotated[list[Text] | None, Query()] = None,
    page_token: Annotated[Text | None, Query()] = None,
) -> Response:
    """One page of model versions matching ``filter`` (prompt versions never appear here). With auth on,
    only versions of names the caller may READ."""
    flt, models_only = split_models_only_clause(filter)
    found = ctx.client.search_model_versions(flt, max_results, order_by or None, page_token)
    readable = set(access.readable(REGISTERED_MODEL, {v.name: None for v in found}))
    versions = [v for v in found if v.name in readable and not (models_only and is_mlflow_prompt(v.tags))]
    out: dict[str, Any] = {}
    if versions:
        out["model_versions"] = [model_version_to_json(v) for v in versions]
    if found.token:
        out["next_page_token"] = found.token
    return json_response(out)


@router.post("/transition-stage", response_model=ModelVersionResponse)
def transition_model_version_stage(body: TransitionStage, ctx: Ctx) -> Response:
    """Move a version to None, Staging, Production or Archived; with ``archive_existing_versions`` the
    versions already in that stage move to Archived in the same transaction."""
    moved = ctx.client.transition_model_version_stage(
        body.name, body.version, body.stage, body.archive_existing_versions
    )
    return _version(moved)


@router.post("/set-tag", response_model=Empty)
def set_model_version_tag(body: SetVersionTag, ctx: Ctx) -> Response:
    ctx.client.set_model_version_tag(body.name, body.version, body.key, body.value)
    return json_response({})


@router.delete("/delete-tag", response_model=Empty)
def delete_model_version_tag(body: DeleteVersionTag, ctx: Ctx) -> Response:
    ctx.client.delete_model_version_tag(body.name, body.version, body.key)
    return json_response({})


@router.get("/get-download-uri", response_model=DownloadUriOut)
def get_model_version_download_uri(
    ctx: Ctx, name: Annotated[Name, Query()], version: Annotated[Text, Query()]
) -> Response:
    """Where the version's files are (its source, following ``models:/`` copies)."""
    return json_response({"artifact_uri": ctx.client.get_model_version_download_uri(name, version)})
