"""``/api/2.0/heron/prompts/...``: Heron's prompt registry routes, over the ``MlflowClient`` users call.

A prompt is answered with a registered model's JSON shape (``{"prompt": {...}}``), a prompt version
with a model version's shape plus ``prompt`` (its template: ``text``, ``template_type``,
``template_format``, ``response_format``, ``model_config``). Every request names the prompt in
``name``. Links from a loaded prompt to traces and runs are written by the client that loads it, as
trace and run tags, through the tracking routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, JsonValue

from heron.auth.records import REGISTERED_MODEL
from heron.registry import validation
from heron.registry.records import ModelVersion
from heron.registry.wire import model_version_to_json, registered_model_to_json
from heron.server.access import AccessDep
from heron.server.context import Ctx
from heron.server.messages import ERRORS, Body, Empty, KeyValue, Text, json_response
from heron.server.registered_models import version_ref
from heron.server.registry_messages import (
    DeleteAlias,
    DeleteTag,
    DeleteVersionTag,
    ModelVersionOut,
    Name,
    NameRef,
    RegisteredModelOut,
    SearchMaxResults,
    SetAlias,
    SetTag,
    SetVersionTag,
    VersionRefBody,
)

__all__ = ["router"]

router = APIRouter(prefix="/api/2.0/heron/prompts", tags=["prompts"], responses=ERRORS)


class ChatMessage(Body):
    role: Text
    content: Text


class RegisterPrompt(Body):
    name: Name
    template: Text | Annotated[list[ChatMessage], Field(min_length=1)] = Field(
        description='A template string, or chat messages [{"role": ..., "content": ...}].'
    )
    commit_message: Text | None = None
    tags: list[KeyValue] = []
    response_format: dict[str, JsonValue] | None = None
    model_config_: dict[str, JsonValue] | None = Field(default=None, alias="model_config")
    template_format: Text | None = None


class PromptResponse(BaseModel):
    prompt: RegisteredModelOut


class SearchPromptsOut(BaseModel):
    prompts: list[RegisteredModelOut] = []
    next_page_token: str | None = None


class PromptVersionResponse(BaseModel):
    prompt_version: ModelVersionOut


class SearchPromptVersionsOut(BaseModel):
    prompt_versions: list[ModelVersionOut] = []
    next_page_token: str | None = None


def _version(version: ModelVersion) -> Response:
    return json_response({"prompt_version": model_version_to_json(version)})


def _ok() -> Response:
    return json_response({})


@router.post("/versions/create", response_model=PromptVersionResponse)
def register_prompt(body: RegisterPrompt, ctx: Ctx) -> Response:
    """Register the next version of prompt ``name`` (the prompt is created on first use)."""
    template: str | list[dict[str, Any]] = (
        body.template if isinstance(body.template, str) else [m.model_dump() for m in body.template]
    )
    created = ctx.client.register_prompt(
        body.name,
        template,
        body.commit_message,
        {t.key: t.value for t in body.tags},
        body.response_format,
        body.model_config_,
        body.template_format,
    )
    return _version(ctx.client.registry.get_model_version("prompt", created.name, created.version))


@router.get("/get", response_model=PromptResponse)
def get_prompt(ctx: Ctx, name: Annotated[Name, Query()]) -> Response:
    """The prompt with its tags, aliases and newest version; RESOURCE_DOES_NOT_EXIST if there is none."""
    return json_response({"prompt": registered_model_to_json(ctx.client.registry.get_registered_model("prompt", name))})


@router.delete("/delete", response_model=Empty)
def delete_prompt(body: NameRef, ctx: Ctx) -> Response:
    """Delete a prompt with all its versions, tags and aliases."""
    ctx.client.delete_prompt(body.name)
    return _ok()


@router.get("/search", response_model=SearchPromptsOut)
def search_prompts(
    ctx: Ctx,
    access: AccessDep,
    filter: Annotated[Text | None, Query()] = None,  # noqa: A002 - MLflow's parameter name
    max_results: Annotated[SearchMaxResults, Query()] = 100,
    order_by: Annotated[list[Text] | None, Query()] = None,
    page_token: Annotated[Text | None, Query()] = None,
) -> Response:
    """One page of prompts matching ``filter`` (``name LIKE 'qa%'``, ``tags.team = 'x'``); with auth on,
    only those the caller may READ."""
    found = ctx.client.registry.search_registered_models("prompt", filter, max_results, order_by or None, page_token)
    readable = set(access.readable(REGISTERED_MODEL, [p.name for p in found]))
    shown = [p for p in found if p.name in readable]
    out: dict[str, Any] = {}
    if shown:
        out["prompts"] = [registered_model_to_json(p) for p in shown]
    if found.token:
        out["next_page_token"] = found.token
    return json_response(out)


@router.post("/set-tag", response_model=Empty)
def set_prompt_tag(body: SetTag, ctx: Ctx) -> Response:
    ctx.client.set_prompt_tag(body.name, body.key, body.value)
    return _ok()


@router.delete("/delete-tag", response_model=Empty)
def delete_prompt_tag(body: DeleteTag, ctx: Ctx) -> Response:
    ctx.client.delete_prompt_tag(body.name, body.key)
    return _ok()


@router.get("/versions/get", response_model=PromptVersionResponse)
def get_prompt_version(ctx: Ctx, name: Annotated[Name, Query()], version: Annotated[Text, Query()]) -> Response:
    return _version(ctx.client.registry.get_model_version("prompt", name, validation.version(version)))


@router.get("/versions/load", response_model=PromptVersionResponse)
def load_prompt_version(
    ctx: Ctx,
    name: Annotated[Name, Query()],
    version: Annotated[Text | None, Query(description="A version number.")] = None,
    alias: Annotated[Text | None, Query()] = None,
) -> Response:
    """The version ``prompts:/NAME/VERSION``, ``prompts:/NAME@ALIAS`` or (neither given) ``prompts:/NAME``
    names. Read from the store on every call: the caching is the loading client's."""
    return _version(ctx.client.registry.resolve("prompt", version_ref(name, "prompt", version, alias, None)))


@router.get("/versions/search", response_model=SearchPromptVersionsOut)
def search_prompt_versions(
    ctx: Ctx,
    access: AccessDep,
    filter: Annotated[Text | None, Query()] = None,  # noqa: A002 - MLflow's parameter name
    max_results: Annotated[SearchMaxResults, Query()] = 1000,
    order_by: Annotated[list[Text] | None, Query()] = None,
    page_token: Annotated[Text | None, Query()] = None,
) -> Response:
    """One page of prompt versions matching ``filter`` (``name = 'qa'``), newest first within a name."""
    found = ctx.client.registry.search_model_versions("prompt", filter, max_results, order_by or None, page_token)
    readable = set(access.readable(REGISTERED_MODEL, {v.name: None for v in found}))
    shown = [v for v in found if v.name in readable]
    out: dict[str, Any] = {}
    if shown:
        out["prompt_versions"] = [model_version_to_json(v) for v in shown]
    if found.token:
        out["next_page_token"] = found.token
    return json_response(out)


@router.delete("/versions/delete", response_model=Empty)
def delete_prompt_version(body: VersionRefBody, ctx: Ctx) -> Response:
    """Delete a version and the aliases pointing at it; its number is never reused."""
    ctx.client.delete_prompt_version(body.name, body.version)
    return _ok()


@router.post("/versions/set-tag", response_model=Empty)
def set_prompt_version_tag(body: SetVersionTag, ctx: Ctx) -> Response:
    ctx.client.set_prompt_version_tag(body.name, body.version, body.key, body.value)
    return _ok()


@router.delete("/versions/delete-tag", response_model=Empty)
def delete_prompt_version_tag(body: DeleteVersionTag, ctx: Ctx) -> Response:
    ctx.client.delete_prompt_version_tag(body.name, body.version, body.key)
    return _ok()


@router.post("/alias", response_model=Empty)
def set_prompt_alias(body: SetAlias, ctx: Ctx) -> Response:
    """Point ``alias`` (e.g. 'production') at ``version``, moving it atomically."""
    ctx.client.set_prompt_alias(body.name, body.alias, body.version)
    return _ok()


@router.delete("/alias", response_model=Empty)
def delete_prompt_alias(body: DeleteAlias, ctx: Ctx) -> Response:
    ctx.client.delete_prompt_alias(body.name, body.alias)
    return _ok()
