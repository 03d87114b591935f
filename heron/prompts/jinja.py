"""Jinja2 prompt templates: a sandboxed environment where an undefined variable is an error.

Imported only when a jinja2 template is registered or formatted (Jinja2 is not needed otherwise).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from heron.errors import HeronError

__all__ = ["check", "render", "variables"]

# A prompt is text for a model, not HTML: no autoescaping. The sandbox keeps a template from reaching
# Python internals (attributes starting with '_', unsafe callables).
_env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
_UNDEFINED_RE = re.compile(r"^'([^']+)' is undefined$")


@functools.lru_cache(maxsize=512)
def _compiled(text: str) -> jinja2.Template:
    return _env.from_string(text)


def check(text: str) -> None:
    """Raise HeronError(INVALID_PARAMETER_VALUE) if ``text`` is not a valid Jinja2 template."""
    try:
        _compiled(text)
    except jinja2.TemplateSyntaxError as e:
        raise HeronError.invalid(f"Invalid jinja2 template: {e.message} (line {e.lineno}).") from None


def variables(text: str) -> set[str]:
    """The variables ``text`` reads from its context (not those it sets itself)."""
    return set(meta.find_undeclared_variables(_env.parse(text)))


def render(text: str, values: dict[str, Any], what: str) -> str:
    """``text`` rendered with ``values``; ``what`` names the prompt in errors ("Prompt 'qa' version 2").

    Raises HeronError(INVALID_PARAMETER_VALUE) naming a missing variable, or saying what the sandbox
    refused.
    """
    try:
        return _compiled(text).render(**values)
    except jinja2.UndefinedError as e:
        missing = _UNDEFINED_RE.match(str(e.message))
        if missing:
            name = missing.group(1)
            raise HeronError.invalid(
                f"{what} needs the variable '{name}', which was not given: call format({name}=...)."
            ) from None
        raise HeronError.invalid(f"{what} could not be formatted: {e.message}.") from None
    except SecurityError as e:
        raise HeronError.invalid(f"{what} could not be formatted: the template sandbox refused it ({e}).") from None
