"""Users, API tokens and permissions over HTTP: MLflow's auth paths (``/api/2.0/mlflow/users/...``,
``.../experiments/permissions/...``, ``.../registered-models/permissions/...``) and Heron's own
``/api/2.0/heron/tokens/...``. Who may call which is in :mod:`heron.server.policy`; the work is done by
the same :class:`heron.auth.SqlAuthStore` the ``heron users|tokens|permissions`` commands use.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import StrictBool

from heron.auth.records import EXPERIMENT, REGISTERED_MODEL, Token, User
from heron.auth.sqlstore import SqlAuthStore
from heron.errors import HeronError
from heron.server.access import AccessDep
from heron.server.context import Ctx, ServerContext
from heron.server.guard import AuthState
from heron.server.messages import ERRORS, Body, ExperimentId, Text, json_response

__all__ = ["router"]

router = APIRouter(tags=["auth"], responses=ERRORS)

_USERS = "/api/2.0/mlflow/users"
_EXP = "/api/2.0/mlflow/experiments/permissions"
_RM = "/api/2.0/mlflow/registered-models/permissions"
_TOKENS = "/api/2.0/heron/tokens"


class Credentials(Body):
    username: Text
    password: Text


class UserRef(Body):
    username: Text


class UpdateAdmin(Body):
    username: Text
    is_admin: StrictBool


class ExperimentPermission(Body):
    experiment_id: ExperimentId
    username: Text
    permission: Text


class ExperimentPermissionRef(Body):
    experiment_id: ExperimentId
    username: Text


class NamePermission(Body):
    name: Text
    username: Text
    permission: Text


class NamePermissionRef(Body):
    name: Text
    username: Text


class TokenIn(Body):
    name: Text
    username: Text | None = None


def _store(ctx: ServerContext) -> SqlAuthStore:
    return SqlAuthStore(ctx.store.db)


def _forget_passwords(request: Request) -> None:
    state = getattr(request.app.state, "heron_auth", None)
    if isinstance(state, AuthState):
        state.forget_passwords()


def _user_json(store: SqlAuthStore, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "is_admin": user.is_admin,
        "experiment_permissions": [
            {"experiment_id": key, "user_id": user.id, "permission": role.name}
            for key, role in sorted(store.roles_of(EXPERIMENT, user.id).items())
        ],
        "registered_model_permissions": [
            {"name": key, "user_id": user.id, "permission": role.name}
            for key, role in sorted(store.roles_of(REGISTERED_MODEL, user.id).items())
        ],
    }


@router.post(f"{_USERS}/create")
def create_user(body: Credentials, ctx: Ctx) -> Response:
    """Create a (non-admin) user; admins only."""
    store = _store(ctx)
    return json_response({"user": _user_json(store, store.create_user(body.username, body.password))})


@router.get(f"{_USERS}/get")
def get_user(username: Annotated[Text, Query()], ctx: Ctx) -> Response:
    store = _store(ctx)
    return json_response({"user": _user_json(store, store.get_user(username))})


@router.patch(f"{_USERS}/update-password")
def update_password(body: Credentials, request: Request, ctx: Ctx) -> Response:
    _store(ctx).set_password(body.username, body.password)
    _forget_passwords(request)
    return json_response({})


@router.patch(f"{_USERS}/update-admin")
def update_admin(body: UpdateAdmin, ctx: Ctx) -> Response:
    _store(ctx).set_admin(body.username, body.is_admin)
    return json_response({})


@router.delete(f"{_USERS}/delete")
def delete_user(body: UserRef, request: Request, ctx: Ctx) -> Response:
    _store(ctx).delete_user(body.username)
    _forget_passwords(request)
    return json_response({})


def _experiment_permission(experiment_id: str, store: SqlAuthStore, username: str) -> Response:
    role = store.get_permission(EXPERIMENT, experiment_id, username)
    user = store.get_user(username)
    return json_response(
        {"experiment_permission": {"experiment_id": experiment_id, "user_id": user.id, "permission": role.name}}
    )


@router.post(f"{_EXP}/create")
def create_experiment_permission(body: ExperimentPermission, ctx: Ctx) -> Response:
    store = _store(ctx)
    store.create_permission(EXPERIMENT, body.experiment_id, body.username, body.permission)
    return _experiment_permission(body.experiment_id, store, body.username)


@router.get(f"{_EXP}/get")
def get_experiment_permission(
    experiment_id: Annotated[ExperimentId, Query()], username: Annotated[Text, Query()], ctx: Ctx
) -> Response:
    return _experiment_permission(experiment_id, _store(ctx), username)


@router.patch(f"{_EXP}/update")
def update_experiment_permission(body: ExperimentPermission, ctx: Ctx) -> Response:
    _store(ctx).update_permission(EXPERIMENT, body.experiment_id, body.username, body.permission)
    return json_response({})


@router.delete(f"{_EXP}/delete")
def delete_experiment_permission(body: ExperimentPermissionRef, ctx: Ctx) -> Response:
    _store(ctx).delete_permission(EXPERIMENT, body.experiment_id, body.username)
    return json_response({})


def _name_permission(name: str, store: SqlAuthStore, username: str) -> Response:
    role = store.get_permission(REGISTERED_MODEL, name, username)
    user = store.get_user(username)
    return json_response({"registered_model_permission": {"name": name, "user_id": user.id, "permission": role.name}})


@router.post(f"{_RM}/create")
def create_name_permission(body: NamePermission, ctx: Ctx) -> Response:
    store = _store(ctx)
    store.create_permission(REGISTERED_MODEL, body.name, body.username, body.permission)
    return _name_permission(body.name, store, body.username)


@router.get(f"{_RM}/get")
def get_name_permission(name: Annotated[Text, Query()], username: Annotated[Text, Query()], ctx: Ctx) -> Response:
    return _name_permission(name, _store(ctx), username)


@router.patch(f"{_RM}/update")
def update_name_permission(body: NamePermission, ctx: Ctx) -> Response:
    _store(ctx).update_permission(REGISTERED_MODEL, body.name, body.username, body.permission)
    return json_response({})


@router.delete(f"{_RM}/delete")
def delete_name_permission(body: NamePermissionRef, ctx: Ctx) -> Response:
    _store(ctx).delete_permission(REGISTERED_MODEL, body.name, body.username)
    return json_response({})


def _token_owner(access: AccessDep, username: str | None) -> str:
    """Whose tokens a request handles: the caller's own, or anyone's for an admin."""
    own = access.user.username if access.user is not None else None
    wanted = username or own
    if wanted is None:
        raise HeronError.invalid("Missing value for required parameter 'username' (the server runs without auth).")
    if wanted != own:
        access.require_admin()
    return wanted


def _token_json(token: Token) -> dict[str, Any]:
    return {**dataclasses.asdict(token), "revoked": token.revoked}


@router.post(f"{_TOKENS}/create")
def create_token(body: TokenIn, access: AccessDep, ctx: Ctx) -> Response:
    """A new API token; ``token`` in the answer is the secret, shown this once."""
    owner = _token_owner(access, body.username)
    token, secret = _store(ctx).create_token(owner, body.name)
    return json_response({"token": secret, "info": _token_json(token)})


@router.post(f"{_TOKENS}/revoke")
def revoke_token(body: TokenIn, access: AccessDep, ctx: Ctx) -> Response:
    _store(ctx).revoke_token(_token_owner(access, body.username), body.name)
    return json_response({})


@router.get(f"{_TOKENS}/list")
def list_tokens(access: AccessDep, ctx: Ctx, username: Annotated[Text | None, Query()] = None) -> Response:
    owner = _token_owner(access, username)
    return json_response({"tokens": [_token_json(t) for t in _store(ctx).list_tokens(owner)]})


