"""Frozen records of authentication: users, API tokens, and the roles a user holds on a resource."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from heron.errors import HeronError

__all__ = ["EXPERIMENT", "REGISTERED_MODEL", "ResourceKind", "Role", "Token", "User", "parse_role"]


class Role(enum.IntEnum):
    """What a user may do with one experiment or registered name; each role includes the ones below.

    READ reads; EDIT also writes (runs, metrics, traces, versions); MANAGE also deletes and grants
    permissions to others. NO_PERMISSIONS is an explicit "nothing" (MLflow's name for it).
    """

    NO_PERMISSIONS = 0
    READ = 1
    EDIT = 2
    MANAGE = 3


def parse_role(value: str, field: str = "permission") -> Role:
    """The role named ``value`` (case-insensitive); INVALID_PARAMETER_VALUE naming ``field`` otherwise."""
    try:
        return Role[value.strip().upper()]
    except (KeyError, AttributeError):
        names = ", ".join(r.name for r in Role)
        raise HeronError.invalid(f"{field} must be one of {names}, got {value!r}.") from None


ResourceKind = str
EXPERIMENT: ResourceKind = "experiment"
REGISTERED_MODEL: ResourceKind = "registered_model"
"""A registered model or prompt, by name (both live in the one registry)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    is_admin: bool
    creation_time: int


@dataclass(frozen=True)
class Token:
    """An API token's record; the secret itself is shown once, when created, and never stored."""

    id: int
    username: str
    name: str
    creation_time: int
    last_used_time: int | None
    revoked_time: int | None

    @property
    def revoked(self) -> bool:
        return self.revoked_time is not None
