"""What the models and prompts pages show: registered names, versions, a template cut into text and
variables, and a side-by-side line diff of two prompt versions (difflib).

Plain data for the templates, which escape every value; nothing here builds HTML.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from heron.prompts.records import Prompt, PromptVersion
from heron.registry.records import ModelVersion, RegisteredModel
from heron.ui.trace_view import time_text

__all__ = [
    "DiffRow",
    "ModelRow",
    "PromptRow",
    "Segment",
    "TemplatePart",
    "VersionRow",
    "diff_rows",
    "json_text",
    "model_row",
    "model_url",
    "prompt_row",
    "prompt_url",
    "segments",
    "template_lines",
    "template_parts",
    "version_row",
]

# {{ variable }} in both formats, and Jinja2's {% statements %} (shown like variables: they are the
# parts a reader fills in or that change the output).
_DOUBLE_BRACE_RE = re.compile(r"\{\{\s*[a-zA-Z_][\w.]*\s*\}\}")
_JINJA_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def model_url(name: str) -> str:
    """The model's page (names may hold any character but '/' and '@': each is quoted)."""
    return "/models/" + quote(name, safe="")


def prompt_url(name: str) -> str:
    return "/prompts/" + quote(name, safe="")


def _aliases(aliases: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(aliases.items())


def _tags(tags: dict[str, str]) -> list[tuple[str, str]]:
    return sorted(tags.items())


@dataclass(frozen=True)
class ModelRow:
    name: str
    url: str
    description: str
    aliases: list[tuple[str, int]]
    latest_version: int | None
    tags: list[tuple[str, str]]
    updated: str


def model_row(model: RegisteredModel) -> ModelRow:
    latest = max((v.version for v in model.latest_versions), default=None)
    return ModelRow(model.name, model_url(model.name), model.description or "", _aliases(model.aliases), latest,
                    _tags(model.tags), time_text(model.last_updated_timestamp))


@dataclass(frozen=True)
class PromptRow:
    name: str
    url: str
    description: str
    aliases: list[tuple[str, int]]
    latest_version: int | None
    tags: list[tuple[str, str]]
    updated: str


def prompt_row(prompt: Prompt) -> PromptRow:
    return PromptRow(prompt.name, prompt_url(prompt.name), prompt.description or "", _aliases(prompt.aliases),
                     prompt.latest_version, _tags(prompt.tags), time_text(prompt.last_updated_timestamp or 0))


@dataclass(frozen=True)
class VersionRow:
    """One version of a model or prompt as the pages list it."""

    version: int
    url: str
    aliases: list[str]
    tags: list[tuple[str, str]]
    description: str
    created: str
    stage: str = ""
    status: str = ""
    source: str = ""
    run_id: str = ""
    run_url: str = ""
    prompt_type: str = ""


def version_row(version: ModelVersion | PromptVersion) -> VersionRow:
    if isinstance(version, PromptVersion):
        return VersionRow(version.version, f"{prompt_url(version.name)}/versions/{version.version}",
                          sorted(version.aliases), _tags(version.tags), version.commit_message or "",
                          time_text(version.creation_timestamp), prompt_type=version.prompt_type)
    run_id = version.run_id or ""
    return VersionRow(
        version.version, f"{model_url(version.name)}/versions/{version.version}", sorted(version.aliases),
        _tags(version.tags), version.description or "", time_text(version.creation_timestamp),
        stage=version.current_stage, status=version.status, source=version.source or "", run_id=run_id,
        run_url="/runs/" + quote(run_id, safe="") if run_id else "",
    )


# ------------------------------------------------------------------------------------------ templates


@dataclass(frozen=True)
class Segment:
    """A piece of template text; ``variable`` pieces are highlighted."""

    text: str
    variable: bool


@dataclass(frozen=True)
class TemplatePart:
    """A text template (``role`` empty) or one chat message of a chat template."""

    role: str
    segments: list[Segment]

    @property
    def role_class(self) -> str:
        """The role as a CSS class: one of the known roles, else ``other``."""
        role = self.role.lower()
        return role if role in _ROLES else "other"


def segments(text: str, template_format: str) -> list[Segment]:
    """``text`` cut into plain text and the variables (``{{ x }}``; also ``{% %}`` tags for jinja2)."""
    pattern = _JINJA_RE if template_format == "jinja2" else _DOUBLE_BRACE_RE
    found: list[Segment] = []
    at = 0
    for match in pattern.finditer(text):
        if match.start() > at:
            found.append(Segment(text[at:match.start()], False))
        found.append(Segment(match.group(0), True))
        at = match.end()
    if at < len(text):
        found.append(Segment(text[at:], False))
    return found


def template_parts(prompt: PromptVersion) -> list[TemplatePart]:
    if isinstance(prompt.template, str):
        return [TemplatePart("", segments(prompt.template, prompt.template_format))]
    return [TemplatePart(str(m.get("role", "")), segments(_content(m), prompt.template_format))
            for m in prompt.template]


def _content(message: dict[str, Any]) -> str:
    content = message.get("content", "")
    return content if isinstance(content, str) else json.dumps(content, indent=2, ensure_ascii=False)


def json_text(value: Any) -> str:
    """A response format or model config, pretty-printed (empty when there is none)."""
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def template_lines(prompt: PromptVersion) -> list[str]:
    """The template as lines to diff: a chat template gives a ``[role]`` line before each message."""
    if isinstance(prompt.template, str):
        return prompt.template.splitlines()
    lines: list[str] = []
    for message in prompt.template:
        lines.append(f"[{message.get('role', '')}]")
        lines.extend(_content(message).splitlines())
    return lines


# ------------------------------------------------------------------------------------------------ diff


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff. ``kind``: equal, removed (left only), added (right only) or
    changed (both sides, different); a side with no line has number None."""

    kind: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def diff_rows(old: list[str], new: list[str]) -> list[DiffRow]:
    """A side-by-side line diff of ``old`` and ``new`` (difflib's SequenceMatcher opcodes)."""
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(DiffRow("equal", i + 1, old[i], j + 1, new[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        left, right = list(range(i1, i2)), list(range(j1, j2))
        for k in range(max(len(left), len(right))):
            i = left[k] if k < len(left) else None
            j = right[k] if k < len(right) else None
            kind = "changed" if i is not None and j is not None else ("removed" if i is not None else "added")
            rows.append(DiffRow(kind, None if i is None else i + 1, "" if i is None else old[i],
                                None if j is None else j + 1, "" if j is None else new[j]))
    return rows
