"""Who is asking and what they may do: one :class:`Access` per request, put there by the guard
(``heron.server.guard``) and reached by routes with :data:`AccessDep`.

With auth off every request gets :data:`OPEN` (everything allowed). With auth on a user's role on a
resource is: MANAGE for an admin; else the role they were given on it; else the server's default
permission (READ unless ``--default-permission`` says otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from heron.auth.records import EXPERIMENT, ResourceKind, Role, User
from heron.auth.sqlstore import SqlAuthStore
from heron.errors import PERMISSION_DENIED, HeronError

__all__ = ["OPEN", "Access", "AccessDep", "access_of"]


@dataclass(frozen=True)
class Access:
    """The signed-in ``user`` (None with auth off) and how to look up their roles."""

    user: User | None
    store: SqlAuthStore | None
    default: Role = Role.READ

    @property
    def is_admin(self) -> bool:
        return self.user is None or self.user.is_admin

    def role(self, kind: ResourceKind, key: str) -> Role:
        """The user's role on the experiment id or registered name ``key``."""
        if self.user is None or self.store is None or self.user.is_admin:
            return Role.MANAGE
        found = self.store.role_of(kind, key, self.user.id)
        return self.default if found is None else found

    def require(self, kind: ResourceKind, key: str, needed: Role) -> None:
        """PERMISSION_DENIED (403) unless the user holds ``needed`` on ``key``."""
        if self.role(kind, key) < needed:
            raise HeronError(
                f"User {self.user.username if self.user else ''!r} needs {needed.name} permission on "
                f"{kind.replace('_', ' ')} {key!r}; ask someone with MANAGE on it or an admin.",
                PERMISSION_DENIED,
            )

    def require_admin(self) -> None:
        if not self.is_admin:
            raise HeronError(
                f"User {self.user.username if self.user else ''!r} is not an admin: only admins may do this.",
                PERMISSION_DENIED,
            )

    def readable(self, kind: ResourceKind, keys: Iterable[str]) -> list[str]:
        """The keys (in order) the user may READ: all of them with auth off or for an admin."""
        keys = list(keys)
        if self.user is None or self.store is None or self.user.is_admin:
            return keys
        given = self.store.roles_of(kind, self.user.id)
        return [k for k in keys if given.get(str(k), self.default) >= Role.READ]

    def can_read_experiment(self, experiment_id: str) -> bool:
        return bool(self.readable(EXPERIMENT, [experiment_id]))


OPEN = Access(None, None, Role.MANAGE)
"""The access of every request when auth is off."""


def access_of(request: Request) -> Access:
    """The request's access (OPEN when no guard ran: auth off)."""
    found = getattr(request.state, "heron_access", None)
    return found if isinstance(found, Access) else OPEN


async def _access(request: Request) -> Access:
    return access_of(request)


AccessDep = Annotated[Access, Depends(_access)]
"""The request's :class:`Access`, as a route parameter."""
