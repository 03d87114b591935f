"""``heron users``, ``heron tokens`` and ``heron permissions``: manage who may use a ``heron server
--auth``, directly in its database (a thin shell over :class:`heron.auth.SqlAuthStore`).

They take the server's ``--backend-store-uri`` (default: ``HERON_SERVER_BACKEND_STORE_URI``, else
``./heron.db``), so the first admin can be created before the server starts.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click

from heron import config
from heron.errors import HeronError
from heron.tracking.uri import resolve

if TYPE_CHECKING:
    from heron.auth.sqlstore import SqlAuthStore

__all__ = ["permissions", "tokens", "users"]

_store_option = click.option(
    "--backend-store-uri",
    default=None,
    help=f"The server's database [env {config.SERVER_BACKEND_STORE_URI.name}; default: sqlite:///./heron.db].",
)


def _store(uri: str | None) -> SqlAuthStore:
    from heron.auth.sqlstore import SqlAuthStore  # SQLAlchemy: only when a command runs
    from heron.tracking.store.db import Database

    uri = uri or config.SERVER_BACKEND_STORE_URI.get() or "sqlite:///heron.db"
    location = resolve(uri)
    if location.kind != "sql":
        raise HeronError.invalid(f"--backend-store-uri {uri!r} is not a database: expected sqlite:///FILE or postgresql://...")
    return SqlAuthStore(Database(location.db_url, location.artifact_root))


def _time(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


# -------------------------------------------------------------------------------------------- users


@click.group()
def users() -> None:
    """Create, delete and list the users of `heron server --auth`."""


@users.command("create")
@_store_option
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 8 characters (asked for when not given).")
@click.option("--admin", is_flag=True, help="An admin may do everything, including managing users.")
def users_create(backend_store_uri: str | None, username: str, password: str, admin: bool) -> None:
    """Create the user USERNAME."""
    user = _store(backend_store_uri).create_user(username, password, is_admin=admin)
    click.echo(f"Created {'admin' if user.is_admin else 'user'} {user.username}.")


@users.command("delete")
@_store_option
@click.argument("username")
def users_delete(backend_store_uri: str | None, username: str) -> None:
    """Delete the user USERNAME with their tokens and permissions."""
    _store(backend_store_uri).delete_user(username)
    click.echo(f"Deleted user {username}.")


@users.command("list")
@_store_option
def users_list(backend_store_uri: str | None) -> None:
    """List users: name, admin or not, created."""
    for user in _store(backend_store_uri).list_users():
        click.echo(f"{user.username}\t{'admin' if user.is_admin else 'user'}\t{_time(user.creation_time)}")


# ------------------------------------------------------------------------------------------- tokens


@click.group()
def tokens() -> None:
    """Create, revoke and list API tokens (sent as 'Authorization: Bearer <token>')."""


@tokens.command("create")
@_store_option
@click.argument("username")
@click.option("--name", "-n", required=True, help="What the token is for, e.g. 'ci'; unique per user.")
def tokens_create(backend_store_uri: str | None, username: str, name: str) -> None:
    """Create a token for USERNAME and print it (this once: only its hash is kept)."""
    _, secret = _store(backend_store_uri).create_token(username, name)
    click.echo(secret)
    click.echo(f"Token {name!r} of {username}: shown once, store it now (e.g. as HERON_TRACKING_TOKEN).", err=True)


@tokens.command("revoke")
@_store_option
@click.argument("username")
@click.option("--name", "-n", required=True)
def tokens_revoke(backend_store_uri: str | None, username: str, name: str) -> None:
    """Revoke USERNAME's token NAME: requests with it get 401 from then on."""
    _store(backend_store_uri).revoke_token(username, name)
    click.echo(f"Revoked token {name!r} of {username}.")


@tokens.command("list")
@_store_option
@click.argument("username", required=False)
def tokens_list(backend_store_uri: str | None, username: str | None) -> None:
    """List tokens (of USERNAME, or everyone's): user, name, created, last used, revoked."""
    for t in _store(backend_store_uri).list_tokens(username):
        click.echo(f"{t.username}\t{t.name}\t{_time(t.creation_time)}\t{_time(t.last_used_time)}\t"
                   f"{'revoked ' + _time(t.revoked_time) if t.revoked else 'active'}")


# -------------------------------------------------------------------------------------- permissions


@click.group()
def permissions() -> None:
    """Grant, revoke and list roles (READ, EDIT, MANAGE) of users on experiments and registered names."""


def _resource(experiment_id: str | None, name: str | None) -> tuple[str, str]:
    if (experiment_id is None) == (name is None):
        raise click.UsageError("Give exactly one of --experiment-id and --name.")
    return ("experiment", experiment_id) if experiment_id is not None else ("registered_model", name or "")


@permissions.command("grant")
@_store_option
@click.argument("username")
@click.argument("permission", type=click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"], case_sensitive=False))
@click.option("--experiment-id", "-x", default=None)
@click.option("--name", "-n", default=None, help="A registered model or prompt name.")
def permissions_grant(backend_store_uri: str | None, username: str, permission: str, experiment_id: str | None,
                      name: str | None) -> None:
    """Give USERNAME the role PERMISSION on an experiment or a registered name (replacing any other)."""
    kind, key = _resource(experiment_id, name)
    store = _store(backend_store_uri)
    try:
        store.create_permission(kind, key, username, permission)
    except HeronError as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        store.update_permission(kind, key, username, permission)
    click.echo(f"{username} has {permission.upper()} on {kind.replace('_', ' ')} {key}.")


@permissions.command("revoke")
@_store_option
@click.argument("username")
@click.option("--experiment-id", "-x", default=None)
@click.option("--name", "-n", default=None)
def permissions_revoke(backend_store_uri: str | None, username: str, experiment_id: str | None,
                       name: str | None) -> None:
    """Remove USERNAME's role on an experiment or name (the server's default permission applies again)."""
    kind, key = _resource(experiment_id, name)
    _store(backend_store_uri).delete_permission(kind, key, username)
    click.echo(f"Removed {username}'s permission on {kind.replace('_', ' ')} {key}.")


@permissions.command("list")
@_store_option
@click.argument("username")
def permissions_list(backend_store_uri: str | None, username: str) -> None:
    """List the roles given to USERNAME."""
    store = _store(backend_store_uri)
    user = store.get_user(username)
    for kind in ("experiment", "registered_model"):
        for key, role in sorted(store.roles_of(kind, user.id).items()):
            click.echo(f"{kind}\t{key}\t{role.name}")


