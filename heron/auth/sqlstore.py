"""The SQL store of users, API tokens and permissions, in the tracking database (tables in
``heron.tracking.store.schema``). Each public method is one transaction; writes validate first, so a
failed call writes nothing. Thread-safe.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from heron.auth import secrets, validation
from heron.auth.records import (
    EXPERIMENT,
    REGISTERED_MODEL,
    ResourceKind,
    Role,
    Token,
    User,
    parse_role,
)
from heron.errors import HeronError
from heron.tracking.store.db import Database
from heron.tracking.store.schema import (
    api_tokens,
    experiment_permissions,
    experiments,
    registered_model_permissions,
    registered_models,
    runs,
    traces,
    users,
)

__all__ = ["SqlAuthStore"]

# A token's last-used time is written at most this often, so that a busy client does not turn every
# read into a write.
LAST_USED_RESOLUTION_MS = 60_000
# Checked when the username is unknown, so that an unknown user costs the same time as a wrong password.
_DUMMY_HASH = secrets.hash_password("not a password of anyone")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _user(row: Row[Any, Any, Any, Any]) -> User:
    return User(id=row[0], username=row[1], is_admin=bool(row[2]), creation_time=row[3])


_USER_COLUMNS = (users.c.id, users.c.username, users.c.is_admin, users.c.creation_time)


def _experiment_key(key: str) -> int:
    if not isinstance(key, str) or not key.isdigit() or int(key) > 2**31 - 1:
        raise HeronError.invalid(f"experiment_id must be a decimal experiment id, got {key!r}.")
    return int(key)


class SqlAuthStore:
    """Users, tokens and permissions in a Heron SQL database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------------------------------ users

    def create_user(self, username: str, password: str, is_admin: bool = False) -> User:
        """A new user; RESOURCE_ALREADY_EXISTS when the name is taken."""
        validation.check_username(username)
        password_hash = secrets.hash_password(validation.check_password(password))
        now = _now_ms()
        try:
            with self.db.write() as conn:
                new_id = conn.execute(
                    sa.insert(users)
                    .values(username=username, password_hash=password_hash, is_admin=is_admin, creation_time=now)
                    .returning(users.c.id)
                ).scalar_one()
        except IntegrityError:
            raise HeronError.exists(f"User {username!r} already exists.") from None
        return User(new_id, username, is_admin, now)

    def get_user(self, username: str) -> User:
        """The user named ``username``; RESOURCE_DOES_NOT_EXIST otherwise."""
        with self.db.read() as conn:
            return self._get_user(conn, username)

    def _get_user(self, conn: Connection, username: str) -> User:
        row = conn.execute(sa.select(*_USER_COLUMNS).where(users.c.username == username)).first()
        if row is None:
            raise HeronError.not_found(f"User {username!r} does not exist.")
        return _user(row)

    def user_by_id(self, user_id: int) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(sa.select(*_USER_COLUMNS).where(users.c.id == user_id)).first()
        return None if row is None else _user(row)

    def list_users(self) -> list[User]:
        with self.db.read() as conn:
            return [_user(r) for r in conn.execute(sa.select(*_USER_COLUMNS).order_by(users.c.username))]

    def has_admin(self) -> bool:
        with self.db.read() as conn:
            return conn.execute(sa.select(users.c.id).where(users.c.is_admin == sa.true()).limit(1)).first() is not None

    def delete_user(self, username: str) -> None:
        """Delete a user with their tokens and permissions; RESOURCE_DOES_NOT_EXIST if there is none."""
        with self.db.write() as conn:
            user = self._get_user(conn, username)
            conn.execute(sa.delete(api_tokens).where(api_tokens.c.user_id == user.id))
            conn.execute(sa.delete(experiment_permissions).where(experiment_permissions.c.user_id == user.id))
            conn.execute(
                sa.delete(registered_model_permissions).where(registered_model_permissions.c.user_id == user.id)
            )
            conn.execute(sa.delete(users).where(users.c.id == user.id))

    def set_password(self, username: str, password: str) -> None:
        password_hash = secrets.hash_password(validation.check_password(password))
        with self.db.write() as conn:
            user = self._get_user(conn, username)
            conn.execute(sa.update(users).where(users.c.id == user.id).values(password_hash=password_hash))

    def set_admin(self, username: str, is_admin: bool) -> None:
        if not isinstance(is_admin, bool):
            raise HeronError.invalid(f"is_admin must be true or false, got {is_admin!r}.")
        with self.db.write() as conn:
            user = self._get_user(conn, username)
            conn.execute(sa.update(users).where(users.c.id == user.id).values(is_admin=is_admin))

    def check_password(self, username: str, password: str) -> User | None:
        """The user when ``password`` is theirs, else None (same cost whether or not the user exists)."""
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(*_USER_COLUMNS, users.c.password_hash).where(users.c.username == username)
            ).first()
        if row is None:
            secrets.verify_password(password, _DUMMY_HASH)
            return None
        if not secrets.verify_password(password, row[4]):
            return None
        return User(row[0], row[1], bool(row[2]), row[3])

    # ----------------------------------------------------------------------------------------- tokens

    def create_token(self, username: str, name: str) -> tuple[Token, str]:
        """A new API token for ``username`` and its secret (returned once, stored only as a hash)."""
        validation.check_token_name(name)
        secret = secrets.new_token()
        now = _now_ms()
        try:
            with self.db.write() as conn:
                user = self._get_user(conn, username)
                token_id = conn.execute(
                    sa.insert(api_tokens)
                    .values(user_id=user.id, name=name, token_hash=secrets.hash_token(secret), creation_time=now)
                    .returning(api_tokens.c.id)
                ).scalar_one()
        except IntegrityError:
            raise HeronError.exists(f"User {username!r} already has a token named {name!r}.") from None
        return Token(token_id, username, name, now, None, None), secret

    def revoke_token(self, username: str, name: str) -> None:
        """Revoke ``username``'s token ``name`` (it stays listed, marked revoked)."""
        with self.db.write() as conn:
            user = self._get_user(conn, username)
            done = conn.execute(
                sa.update(api_tokens)
                .where(api_tokens.c.user_id == user.id, api_tokens.c.name == name, api_tokens.c.revoked_time.is_(None))
                .values(revoked_time=_now_ms())
            ).rowcount
            if not done:
                raise HeronError.not_found(f"User {username!r} has no active token named {name!r}.")

    def list_tokens(self, username: str | None = None) -> list[Token]:
        """Every token (of ``username`` when given), revoked ones included; never their secrets."""
        query = (
            sa.select(api_tokens.c.id, users.c.username, api_tokens.c.name, api_tokens.c.creation_time,
                      api_tokens.c.last_used_time, api_tokens.c.revoked_time)
            .join(users, users.c.id == api_tokens.c.user_id)
            .order_by(users.c.username, api_tokens.c.name)
        )
        with self.db.read() as conn:
            if username is not None:
                self._get_user(conn, username)
                query = query.where(users.c.username == username)
            return [Token(*row) for row in conn.execute(query)]

    def check_token(self, secret: str) -> User | None:
        """The owner of an active token ``secret``, else None; notes when the token was last used."""
        digest = secrets.hash_token(secret)
        with self.db.read() as conn:
            row = conn.execute(
                sa.select(*_USER_COLUMNS, api_tokens.c.id, api_tokens.c.token_hash, api_tokens.c.last_used_time)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == digest, api_tokens.c.revoked_time.is_(None))
            ).first()
        if row is None or not secrets.equal(row[5], digest):
            return None
        now = _now_ms()
        if row[6] is None or now - row[6] >= LAST_USED_RESOLUTION_MS:
            with self.db.write() as conn:
                conn.execute(sa.update(api_tokens).where(api_tokens.c.id == row[4]).values(last_used_time=now))
        return User(row[0], row[1], bool(row[2]), row[3])

    # ------------------------------------------------------------------------------------ permissions

    def create_permission(self, kind: ResourceKind, key: str, username: str, permission: str) -> None:
        """Give ``username`` the role ``permission`` on a resource; RESOURCE_ALREADY_EXISTS if they
        have one there (update it instead)."""
        role = parse_role(permission)
        table, column, value = self._resource(kind, key)
        try:
            with self.db.write() as conn:
                user = self._get_user(conn, username)
                self._check_exists(conn, kind, value)
                conn.execute(sa.insert(table).values({column.name: value, "user_id": user.id, "permission": role.name}))
        except IntegrityError:
            raise HeronError.exists(f"User {username!r} already has a permission on {kind} {key!r}.") from None

    def update_permission(self, kind: ResourceKind, key: str, username: str, permission: str) -> None:
        role = parse_role(permission)
        table, column, value = self._resource(kind, key)
        with self.db.write() as conn:
            user = self._get_user(conn, username)
            done = conn.execute(
                sa.update(table).where(column == value, table.c.user_id == user.id).values(permission=role.name)
            ).rowcount
            if not done:
                raise HeronError.not_found(f"User {username!r} has no permission on {kind} {key!r}.")

    def delete_permission(self, kind: ResourceKind, key: str, username: str) -> None:
        table, column, value = self._resource(kind, key)
        with self.db.write() as conn:
            user = self._get_user(conn, username)
            done = conn.execute(sa.delete(table).where(column == value, table.c.user_id == user.id)).rowcount
            if not done:
                raise HeronError.not_found(f"User {username!r} has no permission on {kind} {key!r}.")

    def get_permission(self, kind: ResourceKind, key: str, username: str) -> Role:
        """The role ``username`` was given on a resource; RESOURCE_DOES_NOT_EXIST when none was."""
        table, column, value = self._resource(kind, key)
        with self.db.read() as conn:
            user = self._get_user(conn, username)
            found = conn.execute(
                sa.select(table.c.permission).where(column == value, table.c.user_id == user.id)
            ).scalar()
        if found is None:
            raise HeronError.not_found(f"User {username!r} has no permission on {kind} {key!r}.")
        return Role[found]

    def grant(self, kind: ResourceKind, key: str, user_id: int, role: Role) -> None:
        """Set ``user_id``'s role on a resource, whether or not they had one (creators get MANAGE)."""
        table, column, value = self._resource(kind, key)
        with self.db.write() as conn:
            conn.execute(sa.delete(table).where(column == value, table.c.user_id == user_id))
            conn.execute(sa.insert(table).values({column.name: value, "user_id": user_id, "permission": role.name}))

    def role_of(self, kind: ResourceKind, key: str, user_id: int) -> Role | None:
        """The role explicitly given to ``user_id`` on a resource, None when none was."""
        table, column, value = self._resource(kind, key)
        with self.db.read() as conn:
            found = conn.execute(
                sa.select(table.c.permission).where(column == value, table.c.user_id == user_id)
            ).scalar()
        return None if found is None else Role[found]

    def roles_of(self, kind: ResourceKind, user_id: int) -> dict[str, Role]:
        """Every role explicitly given to ``user_id`` on resources of ``kind``, by key."""
        table, column, _ = self._resource(kind, "0")
        with self.db.read() as conn:
            rows = conn.execute(sa.select(column, table.c.permission).where(table.c.user_id == user_id))
            return {str(key): Role[permission] for key, permission in rows}

    def name_exists(self, name: str) -> bool:
        """Whether a registered model or prompt called ``name`` exists."""
        with self.db.read() as conn:
            return conn.execute(sa.select(registered_models.c.id).where(registered_models.c.name == name)).first() is not None

    def experiment_of_run(self, run_id: str) -> str:
        """The experiment id of run ``run_id``; RESOURCE_DOES_NOT_EXIST when there is no such run."""
        with self.db.read() as conn:
            found = conn.execute(sa.select(runs.c.experiment_id).where(runs.c.run_uuid == run_id)).scalar()
        if found is None:
            raise HeronError.not_found(f"Run with id={run_id} not found")
        return str(found)

    def experiment_of_trace(self, trace_id: str) -> str:
        """The experiment id of trace ``trace_id`` (32 hex digits); RESOURCE_DOES_NOT_EXIST otherwise."""
        with self.db.read() as conn:
            found = conn.execute(sa.select(traces.c.experiment_id).where(traces.c.trace_id == trace_id)).scalar()
        if found is None:
            raise HeronError.not_found(f"Trace with id {trace_id!r} not found.")
        return str(found)

    def experiment_by_name(self, name: str) -> str | None:
        """The id of the experiment called ``name``, None when there is none."""
        with self.db.read() as conn:
            found = conn.execute(sa.select(experiments.c.experiment_id).where(experiments.c.name == name)).scalar()
        return None if found is None else str(found)

    def _resource(self, kind: ResourceKind, key: str) -> tuple[sa.Table, sa.Column[object], object]:
        if kind == EXPERIMENT:
            return experiment_permissions, experiment_permissions.c.experiment_id, _experiment_key(key)
        if kind == REGISTERED_MODEL:
            if not isinstance(key, str) or not key or len(key) > 256:
                raise HeronError.invalid(f"name must be a registered model name of 1-256 characters, got {key!r}.")
            return registered_model_permissions, registered_model_permissions.c.name, key
        raise HeronError.invalid(f"Unknown resource kind {kind!r}: expected {EXPERIMENT} or {REGISTERED_MODEL}.")

    def _check_exists(self, conn: Connection, kind: ResourceKind, value: object) -> None:
        if kind == EXPERIMENT:
            found = conn.execute(sa.select(experiments.c.experiment_id).where(experiments.c.experiment_id == value)).first()
            if found is None:
                raise HeronError.not_found(f"Experiment with id {value} does not exist.")
