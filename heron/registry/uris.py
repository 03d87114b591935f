"""``models:/`` and ``prompts:/`` URIs: which version of which name they mean.

    models:/NAME/3          version 3
    models:/NAME@champion   the version the alias points at
    models:/NAME/latest     the newest version
    models:/NAME/Production the newest version in a stage (models only)
    prompts:/NAME           the newest version (prompts only)

Pure parsing; the store resolves a ``VersionRef`` to a version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from heron.errors import HeronError
from heron.registry import validation
from heron.registry.records import Kind, Stage

__all__ = ["VersionRef", "parse", "scheme_of"]

Scheme = Literal["models", "prompts"]
_KINDS: dict[Scheme, Kind] = {"models": "model", "prompts": "prompt"}


@dataclass(frozen=True)
class VersionRef:
    """A name and one way to pick its version; with none of version, alias or stage: the newest."""

    name: str
    version: int | None = None
    alias: str | None = None
    stage: str | None = None

    def describe(self) -> str:
        if self.version is not None:
            return f"version {self.version}"
        if self.alias is not None:
            return f"alias '{self.alias}'"
        if self.stage is not None:
            return f"stage '{self.stage}'"
        return "latest version"

    def uri(self, scheme: Scheme) -> str:
        if self.alias is not None:
            return f"{scheme}:/{self.name}@{self.alias}"
        tail = self.version if self.version is not None else self.stage or "latest"
        return f"{scheme}:/{self.name}/{tail}"


def scheme_of(kind: Kind) -> Scheme:
    return "models" if kind == "model" else "prompts"


def parse(uri: object, scheme: Scheme = "models") -> VersionRef:
    """The ``VersionRef`` that ``uri`` names; raises HeronError(INVALID_PARAMETER_VALUE) saying which
    forms are accepted when ``uri`` is malformed."""
    kind = _KINDS[scheme]
    forms = f"{scheme}:/NAME/VERSION, {scheme}:/NAME@ALIAS or {scheme}:/NAME/latest"
    if scheme == "models":
        forms = "models:/NAME/VERSION, models:/NAME@ALIAS, models:/NAME/latest or models:/NAME/STAGE"
    prefix = f"{scheme}:/"
    if not isinstance(uri, str) or not uri.startswith(prefix) or uri.startswith(prefix + "/"):
        raise HeronError.invalid(f"Invalid {kind} URI {uri!r}: expected {forms}.")
    rest = uri[len(prefix) :]
    if "@" in rest:
        name, alias = rest.split("@", 1)
        return VersionRef(_name(name, kind, uri, forms), alias=_alias(alias, uri))
    if "/" not in rest:
        if kind == "prompt":
            return VersionRef(_name(rest, kind, uri, forms))
        raise HeronError.invalid(f"Invalid model URI {uri!r}: it names no version; expected {forms}.")
    name, tail = rest.split("/", 1)
    name = _name(name, kind, uri, forms)
    if tail.isdigit():
        return VersionRef(name, version=_version(tail, uri))
    if tail.lower() == "latest":
        return VersionRef(name)
    if kind == "model" and tail.lower() in (s.lower() for s in Stage.ALL):
        return VersionRef(name, stage=validation.stage(tail))
    expected = (
        f"a version number, 'latest' or a stage ({', '.join(Stage.ALL)})"
        if kind == "model"
        else "a version number or 'latest'"
    )
    raise HeronError.invalid(f"Invalid {kind} URI {uri!r}: {tail!r} is not {expected}; expected {forms}.")


def _name(name: str, kind: Kind, uri: str, forms: str) -> str:
    try:
        return validation.name(name, kind)
    except HeronError as e:
        raise HeronError.invalid(f"Invalid {kind} URI {uri!r}: {e.message} Expected {forms}.") from None


def _alias(alias: str, uri: str) -> str:
    try:
        return validation.alias(alias)
    except HeronError as e:
        raise HeronError.invalid(f"Invalid URI {uri!r}: {e.message}") from None


def _version(text: str, uri: str) -> int:
    try:
        return validation.version(text)
    except HeronError as e:
        raise HeronError.invalid(f"Invalid URI {uri!r}: {e.message}") from None
