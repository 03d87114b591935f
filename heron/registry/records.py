"""Registry records: frozen dataclasses with MLflow's attribute names.

A model version and a prompt version are the same row; a prompt version also carries its template
(``PromptContent``), which the prompt registry turns into a ``PromptVersion``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "Kind",
    "ModelVersion",
    "ModelVersionStatus",
    "PromptContent",
    "RegisteredModel",
    "Stage",
]

Kind: TypeAlias = Literal["model", "prompt"]


class Stage:
    """The deprecated model version stages, kept because the guides' code still uses them."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"

    ALL = ("None", "Staging", "Production", "Archived")


class ModelVersionStatus:
    """Versions are READY when created: Heron copies no files when registering."""

    READY = "READY"


@dataclass(frozen=True)
class PromptContent:
    """What a prompt version holds besides the version fields.

    ``text`` is the template text, or the chat messages as JSON; ``template_type`` is ``text`` or
    ``chat``; ``template_format`` is ``double_brace`` or ``jinja2``; the last two are JSON or None.
    """

    text: str
    template_type: str
    template_format: str
    response_format: str | None = None
    model_config: str | None = None


@dataclass(frozen=True)
class ModelVersion:
    """One immutable version of a registered model (or prompt)."""

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None = None
    user_id: str | None = None
    current_stage: str = Stage.NONE
    source: str | None = None
    run_id: str | None = None
    status: str = ModelVersionStatus.READY
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_link: str | None = None
    aliases: list[str] = field(default_factory=list)
    prompt: PromptContent | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RegisteredModel:
    """A registered name. ``aliases`` maps alias -> version; ``latest_versions`` is the newest version in
    each stage, as in MLflow."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None = None
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
