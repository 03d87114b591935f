"""Checks on registry names, versions, aliases, stages and tags before anything is read or written.

Every check raises HeronError(INVALID_PARAMETER_VALUE) whose message names what was wrong and what
would be right.
"""

from __future__ import annotations

import re

from heron.errors import HeronError
from heron.registry.records import Kind, Stage
from heron.tracking import validation as tracking_validation

__all__ = [
    "MAX_ALIAS_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "alias",
    "description",
    "name",
    "noun",
    "stage",
    "tag",
    "version",
]

MAX_NAME_LENGTH = 256
MAX_ALIAS_LENGTH = 255
MAX_TAG_VALUE_LENGTH = 5000

_ALIAS_RE = re.compile(r"^[\w\-]+$")
_VERSION_LIKE_RE = re.compile(r"^[vV]?\d+$")
_PROMPT_NAME_RE = re.compile(r"^[a-zA-Z0-9_.\-]+$")  # MLflow's rule for prompt names
_STAGES = {s.lower(): s for s in Stage.ALL}


def noun(kind: Kind) -> str:
    """How messages call a name of this kind."""
    return "Registered model" if kind == "model" else "Prompt"


def name(value: object, kind: Kind = "model") -> str:
    """A registered model or prompt name: 1 to 256 characters, no '/' or '@' (they delimit URIs).

    Prompt names follow MLflow's stricter rule: letters, digits, '_', '-' and '.'.
    """
    what = noun(kind)
    if not isinstance(value, str) or not value.strip():
        raise HeronError.invalid(f"{what} name must be a non-empty string, got {value!r}.")
    if len(value) > MAX_NAME_LENGTH:
        raise HeronError.invalid(
            f"{what} name '{value[:40]}...' is {len(value)} characters long: at most {MAX_NAME_LENGTH} are allowed."
        )
    if "/" in value or "@" in value:
        raise HeronError.invalid(
            f"Invalid {what.lower()} name {value!r}: names must not contain '/' or '@', which separate the "
            "name from the version and alias in URIs such as models:/NAME/3 and models:/NAME@champion."
        )
    if value != value.strip() or any(ord(c) < 32 for c in value):
        raise HeronError.invalid(
            f"Invalid {what.lower()} name {value!r}: names must not start or end with spaces or contain "
            "control characters."
        )
    if kind == "prompt" and not _PROMPT_NAME_RE.match(value):
        raise HeronError.invalid(
            f"Invalid prompt name {value!r}: prompt names may only contain letters, digits, "
            "underscores (_), dashes (-) and periods (.)."
        )
    return value


def version(value: object) -> int:
    """A version number: a positive integer, or a string of digits such as '3'."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise HeronError.invalid(
            f"Invalid version {value!r}: expected a version number such as 3 (a positive integer)."
        )
    if number < 1:
        raise HeronError.invalid(f"Invalid version {value!r}: version numbers start at 1.")
    return number


def alias(value: object) -> str:
    """An alias: letters, digits, '_' and '-', at most 255 characters, not 'latest' and not like a
    version number ('3', 'v3'), so that ``@alias``, ``/3`` and ``/latest`` never mean the same thing."""
    if not isinstance(value, str) or value == "":
        raise HeronError.invalid(f"Alias must be a non-empty string such as 'champion', got {value!r}.")
    if not _ALIAS_RE.match(value):
        raise HeronError.invalid(
            f"Invalid alias {value!r}: aliases may only contain letters, digits, underscores (_) and dashes (-), "
            "such as 'champion' or 'prod-eu'."
        )
    if len(value) > MAX_ALIAS_LENGTH:
        raise HeronError.invalid(
            f"Alias '{value[:40]}...' is {len(value)} characters long: at most {MAX_ALIAS_LENGTH} are allowed."
        )
    if value.lower() == "latest":
        raise HeronError.invalid(
            f"Invalid alias {value!r}: it is reserved for the newest version (models:/NAME/latest); "
            "choose another name such as 'champion'."
        )
    if _VERSION_LIKE_RE.match(value):
        raise HeronError.invalid(
            f"Invalid alias {value!r}: an alias must not look like a version number ('3' or 'v3'); "
            "choose a name such as 'champion'."
        )
    return value


def stage(value: object) -> str:
    """A stage, case-insensitive, returned in its canonical spelling ('production' -> 'Production')."""
    found = _STAGES.get(value.lower()) if isinstance(value, str) else None
    if found is None:
        raise HeronError.invalid(f"Invalid stage {value!r}: expected one of {', '.join(Stage.ALL)}.")
    return found


def tag(key: object, value: object) -> tuple[str, str]:
    """A tag: a key as for run tags, and a value of at most 5,000 characters (kept as a string)."""
    checked = tracking_validation.key("Tag", key)
    text = str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise HeronError.invalid(
            f"Tag '{checked}' value is {len(text)} characters long: at most {MAX_TAG_VALUE_LENGTH} are allowed."
        )
    return checked, text


def description(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise HeronError.invalid(f"Description must be a string, got {type(value).__name__}.")
