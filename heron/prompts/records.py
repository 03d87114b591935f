"""Prompt registry records: ``PromptVersion`` (a template you can ``format``) and ``Prompt`` (a name),
with MLflow 3's attribute names."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from heron.errors import HeronError
from heron.prompts import template as templates
from heron.registry.records import ModelVersion, RegisteredModel

__all__ = ["Prompt", "PromptVersion"]


@dataclass(frozen=True)
class PromptVersion:
    """One immutable version of a prompt.

    ``template`` is a string, or a list of chat messages (``{"role": ..., "content": ...}``);
    ``template_format`` is ``double_brace`` (``{{ variable }}``) or ``jinja2``. ``tags`` are the
    version's tags; ``aliases`` the aliases pointing at it when it was loaded.
    """

    name: str
    version: int
    template: str | list[dict[str, Any]]
    commit_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    response_format: dict[str, Any] | None = None
    model_config: dict[str, Any] | None = None
    template_format: str = "double_brace"
    creation_timestamp: int = 0
    last_updated_timestamp: int | None = None
    user_id: str | None = None

    @classmethod
    def from_model_version(cls, mv: ModelVersion) -> PromptVersion:
        if mv.prompt is None:
            raise HeronError.invalid(f"Version {mv.version} of '{mv.name}' is a model version, not a prompt.")
        return cls(
            name=mv.name,
            version=mv.version,
            template=templates.template_of(mv.prompt),
            commit_message=mv.description,
            tags=dict(mv.tags),
            aliases=list(mv.aliases),
            response_format=None if mv.prompt.response_format is None else json.loads(mv.prompt.response_format),
            model_config=None if mv.prompt.model_config is None else json.loads(mv.prompt.model_config),
            template_format=mv.prompt.template_format,
            creation_timestamp=mv.creation_timestamp,
            last_updated_timestamp=mv.last_updated_timestamp,
            user_id=mv.user_id,
        )

    @property
    def description(self) -> str | None:
        """The commit message (MLflow's other name for it)."""
        return self.commit_message

    @property
    def uri(self) -> str:
        return f"prompts:/{self.name}/{self.version}"

    @property
    def is_text_prompt(self) -> bool:
        return isinstance(self.template, str)

    @property
    def prompt_type(self) -> str:
        """``text`` or ``chat``."""
        return "text" if isinstance(self.template, str) else "chat"

    @functools.cached_property
    def variables(self) -> set[str]:
        """The variables ``format`` fills in."""
        return templates.variables(self.template, self.template_format)

    def format(self, allow_partial: bool = False, **kwargs: Any) -> Any:
        """The template filled in with ``kwargs``: a string for a text prompt, a list of messages for a
        chat prompt.

        A missing variable raises HeronError(INVALID_PARAMETER_VALUE) naming it. With
        ``allow_partial=True`` (``{{ }}`` templates only) the given variables are filled in and a new
        PromptVersion with the rest still to fill is returned. Pure; thread-safe.
        """
        what = f"Prompt '{self.name}' version {self.version}"
        missing: list[str] = []
        if self.template_format == "jinja2":
            if allow_partial:
                raise HeronError.invalid(
                    f"{what} is a jinja2 template: allow_partial is only for {{{{ variable }}}} templates; "
                    "give every variable."
                )
        else:
            missing = templates.missing_variables(self.template, self.template_format, kwargs)
            if missing and not allow_partial:
                raise HeronError.invalid(_missing_message(what, missing))
        if isinstance(self.template, str):
            filled: str | list[dict[str, Any]] = templates.format_text(self.template, self.template_format, kwargs, what)
        else:
            filled = [
                {**m, "content": templates.format_text(str(m["content"]), self.template_format, kwargs, what)}
                for m in self.template
            ]
        return dataclasses.replace(self, template=filled) if missing else filled

    def to_single_brace_format(self) -> str | list[dict[str, Any]]:
        """The template with ``{{ var }}`` written ``{var}`` (LangChain's and str.format's style)."""

        def convert(text: str) -> str:
            return re.sub(r"\{\{\s*([a-zA-Z_][\w.]*)\s*\}\}", r"{\1}", text)

        if isinstance(self.template, str):
            return convert(self.template)
        return [{**m, "content": convert(str(m["content"]))} for m in self.template]


def _missing_message(what: str, missing: list[str]) -> str:
    names = ", ".join(f"'{m}'" for m in missing)
    call = ", ".join(f"{m}=..." for m in missing)
    plural = "s" if len(missing) > 1 else ""
    were = "were" if len(missing) > 1 else "was"
    return (
        f"{what} needs the variable{plural} {names}, which {were} not given: call format({call}) "
        "(or format(allow_partial=True, ...) to fill in only some)."
    )


@dataclass(frozen=True)
class Prompt:
    """A prompt name: its description, tags, aliases (alias -> version) and newest version."""

    name: str
    description: str | None = None
    creation_timestamp: int = 0
    last_updated_timestamp: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_version: int | None = None

    @classmethod
    def from_registered_model(cls, rm: RegisteredModel) -> Prompt:
        return cls(
            name=rm.name,
            description=rm.description,
            creation_timestamp=rm.creation_timestamp,
            last_updated_timestamp=rm.last_updated_timestamp,
            tags=dict(rm.tags),
            aliases=dict(rm.aliases),
            latest_version=max((v.version for v in rm.latest_versions), default=None),
        )
