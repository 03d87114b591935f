"""Request fields and documented answers shared by the registry routes (registered models, model
versions, prompts): the HTTP edge only.

Every registry request carries the registered name in ``name`` (MLflow's field), so that a permission
check can find it. Names, versions, aliases and tags are checked by the registry itself, so the server
and the embedded store refuse the same things with the same messages; here only types are checked.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, Strict, WithJsonSchema

from heron.server.messages import NO_NUL, Body, KeyValueOut, Text

__all__ = [
    "AliasOut",
    "DeleteAlias",
    "DeleteTag",
    "DeleteVersionTag",
    "MAX_SEARCH_RESULTS",
    "ModelVersionOut",
    "ModelVersionResponse",
    "Name",
    "NameRef",
    "PromptContentOut",
    "RegisteredModelOut",
    "SearchMaxResults",
    "SetAlias",
    "SetTag",
    "SetVersionTag",
    "VersionField",
    "VersionRefBody",
]

MAX_SEARCH_RESULTS = 200_000
"""A bound on ``max_results`` of a search, beyond what any page should hold."""

Name = Annotated[str, Field(pattern=NO_NUL, description="The registered model or prompt name.")]

VersionField = Annotated[
    Annotated[str, Field(pattern=NO_NUL)] | Annotated[int, Strict()],
    Field(union_mode="left_to_right"),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string"}, {"type": "integer"}],
            "description": 'A version number: "3" (MLflow sends strings) or 3.',
        }
    ),
]

SearchMaxResults = Annotated[int, Field(ge=1, le=MAX_SEARCH_RESULTS)]


class AliasOut(BaseModel):
    alias: str
    version: str


class PromptContentOut(BaseModel):
    text: str
    template_type: str
    template_format: str
    response_format: str | None = None
    model_config_json: str | None = Field(default=None, alias="model_config")


class ModelVersionOut(BaseModel):
    name: str
    version: str
    creation_timestamp: int
    last_updated_timestamp: int
    user_id: str | None = None
    current_stage: str | None = None
    description: str | None = None
    source: str | None = None
    run_id: str | None = None
    status: str | None = None
    status_message: str | None = None
    tags: list[KeyValueOut] = []
    run_link: str | None = None
    aliases: list[str] = []
    prompt: PromptContentOut | None = Field(default=None, description="Prompt versions only: the template.")


class RegisteredModelOut(BaseModel):
    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None = None
    latest_versions: list[ModelVersionOut] = []
    tags: list[KeyValueOut] = []
    aliases: list[AliasOut] = []


# Request bodies shared by the registered-model, model-version and prompt routes.


class NameRef(Body):
    name: Name


class SetTag(Body):
    name: Name
    key: Text
    value: Text


class DeleteTag(Body):
    name: Name
    key: Text


class SetAlias(Body):
    name: Name
    alias: Text
    version: VersionField


class DeleteAlias(Body):
    name: Name
    alias: Text


class VersionRefBody(Body):
    name: Name
    version: VersionField


class SetVersionTag(VersionRefBody):
    key: Text
    value: Text


class DeleteVersionTag(VersionRefBody):
    key: Text


class ModelVersionResponse(BaseModel):
    model_version: ModelVersionOut
