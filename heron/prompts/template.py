"""Prompt templates: text or chat messages, with ``{{ variable }}`` substitution or Jinja2.

``double_brace`` (the default) replaces each ``{{ name }}`` with a value, in one pass (a value that
itself contains ``{{ x }}`` is left as is). ``jinja2`` renders with Jinja2 (conditionals, loops) in a
sandbox; it is chosen when asked for, or, as MLflow does, when the text contains ``{% ... %}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal, TypeAlias

from heron.errors import HeronError
from heron.registry.records import PromptContent

__all__ = [
    "FORMATS",
    "content",
    "format_text",
    "missing_variables",
    "template_of",
    "variables",
]

TemplateFormat: TypeAlias = Literal["double_brace", "jinja2"]
FORMATS: tuple[str, ...] = ("double_brace", "jinja2")

# MLflow's variable rule: an identifier, or dotted identifiers.
_VARIABLE_RE = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)*)\s*\}\}")


def content(
    template: object,
    template_format: str | None = None,
    response_format: object = None,
    model_config: object = None,
) -> PromptContent:
    """Check a prompt as given to ``register_prompt`` and turn it into what the store keeps.

    Raises HeronError(INVALID_PARAMETER_VALUE) saying what was expected.
    """
    if isinstance(template, str):
        if not template.strip():
            raise HeronError.invalid("A prompt template must not be empty.")
        texts, text, template_type = [template], template, "text"
    elif isinstance(template, list) and template:
        texts = [_message_content(m, i) for i, m in enumerate(template)]
        text, template_type = json.dumps(template, ensure_ascii=False), "chat"
    else:
        raise HeronError.invalid(
            f"Invalid prompt template of type {type(template).__name__}: expected a string, or a non-empty list "
            'of chat messages such as [{"role": "user", "content": "Hello {{ name }}"}].'
        )
    fmt = _template_format(template_format, texts)
    if fmt == "jinja2":
        jinja = _jinja()
        for t in texts:
            jinja.check(t)
    return PromptContent(
        text=text,
        template_type=template_type,
        template_format=fmt,
        response_format=_json_or_none("response_format", _schema(response_format)),
        model_config=_json_or_none("model_config", _config(model_config)),
    )


def template_of(prompt: PromptContent) -> str | list[dict[str, Any]]:
    """The template as users see it: the text, or a fresh list of chat messages."""
    if prompt.template_type == "chat":
        messages: list[dict[str, Any]] = json.loads(prompt.text)
        return messages
    return prompt.text


def variables(template: str | list[dict[str, Any]], template_format: str) -> set[str]:
    """The variables the template reads."""
    found: set[str] = set()
    for text in _texts(template):
        found |= _jinja().variables(text) if template_format == "jinja2" else set(_VARIABLE_RE.findall(text))
    return found


def missing_variables(template: str | list[dict[str, Any]], template_format: str, given: Mapping[str, Any]) -> list[str]:
    return sorted(v for v in variables(template, template_format) if v not in given)


def format_text(text: str, template_format: str, values: Mapping[str, Any], what: str) -> str:
    """One text filled in; missing double-brace variables are left in place (callers check first)."""
    if template_format == "jinja2":
        rendered: str = _jinja().render(text, dict(values), what)
        return rendered
    return _VARIABLE_RE.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


# --------------------------------------------------------------------------------------------- helpers


def _texts(template: str | list[dict[str, Any]]) -> list[str]:
    if isinstance(template, str):
        return [template]
    return [str(m.get("content", "")) for m in template]


def _message_content(message: object, index: int) -> str:
    if (
        not isinstance(message, dict)
        or not isinstance(message.get("role"), str)
        or not isinstance(message.get("content"), str)
    ):
        raise HeronError.invalid(
            f"Invalid chat message {index} in the prompt template: {message!r}. Expected a dict with a string "
            '"role" and a string "content", such as {"role": "system", "content": "You are {{ persona }}."}.'
        )
    return str(message["content"])


def _template_format(template_format: str | None, texts: list[str]) -> TemplateFormat:
    if template_format is None:
        return "jinja2" if any("{%" in t and "%}" in t for t in texts) else "double_brace"
    if template_format == "double_brace":
        return "double_brace"
    if template_format == "jinja2":
        return "jinja2"
    raise HeronError.invalid(
        f"Unknown template_format {template_format!r}: expected 'double_brace' ({{{{ variable }}}} substitution, "
        "the default) or 'jinja2' (Jinja2 templates with conditionals and loops)."
    )


def _schema(response_format: object) -> object:
    """A Pydantic model class becomes its JSON schema (duck-typed: Pydantic is not imported)."""
    if isinstance(response_format, type) and hasattr(response_format, "model_json_schema"):
        return response_format.model_json_schema()
    if response_format is None or isinstance(response_format, dict):
        return response_format
    raise HeronError.invalid(
        f"Invalid response_format of type {type(response_format).__name__}: expected a dict (a JSON schema) "
        "or a Pydantic model class."
    )


def _config(model_config: object) -> object:
    if model_config is None or isinstance(model_config, dict):
        return model_config
    for method in ("to_dict", "model_dump"):
        if callable(getattr(model_config, method, None)):
            return getattr(model_config, method)()
    raise HeronError.invalid(
        f"Invalid model_config of type {type(model_config).__name__}: expected a dict such as "
        '{"model_name": "gpt-4o-mini", "temperature": 0.2}.'
    )


def _json_or_none(what: str, value: object) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise HeronError.invalid(f"{what} must be JSON-serializable: {e}.") from None


def _jinja() -> Any:
    try:
        import heron.prompts.jinja as jinja  # Jinja2: only for jinja2 templates
    except ImportError:
        raise HeronError.invalid(
            "This prompt uses template_format='jinja2', which needs Jinja2: pip install jinja2."
        ) from None
    return jinja
