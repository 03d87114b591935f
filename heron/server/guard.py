"""Enforcement of ``heron server --auth``: who is asking (HTTP basic auth or a bearer token) and whether
the route's rule in :mod:`heron.server.policy` lets them.

:func:`guard` is a dependency of the whole app, so it runs for every route before the route's own
code, and before anything is written. No or unknown credentials: 401 UNAUTHENTICATED with
``WWW-Authenticate: Basic``; a signed-in user without the role: 403 PERMISSION_DENIED.
:class:`CreatorGrant` gives the creator of an experiment or registered name MANAGE on it once the
creating request succeeded (before its answer goes out).

A verified password is remembered for :data:`PASSWORD_CACHE_S` seconds (keyed by an HMAC under a
per-process random key, never the password), so that a client sending basic auth on every request does
not pay scrypt every time. The user record itself is read on every request, so a deleted user or a
revoked admin flag takes effect at once; a changed password, within that time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heron.auth.records import EXPERIMENT, ResourceKind, Role, User
from heron.auth.sqlstore import SqlAuthStore
from heron.errors import INTERNAL_ERROR, UNAUTHENTICATED, HeronError
from heron.server import policy
from heron.server.access import Access
from heron.tracing.fluent import _normalize_id

__all__ = ["AuthState", "CreatorGrant", "PASSWORD_CACHE_S", "guard"]

PASSWORD_CACHE_S = 30.0
_CACHE_SIZE = 4096
_GRANT = "heron_grant"


class AuthState:
    """What an app with auth on keeps: the auth store, the default role, the password cache."""

    def __init__(self, store: SqlAuthStore, default: Role) -> None:
        self.store = store
        self.default = default
        self._key = os.urandom(32)
        self._verified: dict[bytes, tuple[int, float]] = {}
        self._run_experiments: dict[str, str] = {}  # a run never changes experiment
        self._lock = threading.Lock()

    def experiment_of_run(self, run_id: str) -> str:
        """The experiment of run ``run_id`` (remembered: it never changes); RESOURCE_DOES_NOT_EXIST."""
        found = self._run_experiments.get(run_id)
        if found is None:
            found = self.store.experiment_of_run(run_id)
            with self._lock:
                if len(self._run_experiments) >= _CACHE_SIZE:
                    self._run_experiments.clear()
                self._run_experiments[run_id] = found
        return found

    def authenticate(self, authorization: str | None) -> User:
        """The user the ``Authorization`` header names; UNAUTHENTICATED otherwise."""
        if not authorization:
            raise _unauthenticated("This server requires credentials: HTTP basic auth or 'Authorization: Bearer <token>'.")
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value:
            user = self.store.check_token(value)
            if user is None:
                raise _unauthenticated("Unknown or revoked API token.")
            return user
        if scheme.lower() == "basic" and value:
            try:
                username, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                sep = ""
            if sep:
                return self._check_password(username, password)
        raise _unauthenticated("Malformed Authorization header: expected 'Basic <base64 user:password>' or "
                               "'Bearer <token>'.")

    def _check_password(self, username: str, password: str) -> User:
        key = hmac.new(self._key, f"{username}\0{password}".encode(), hashlib.sha256).digest()
        now = time.monotonic()
        with self._lock:
            cached = self._verified.get(key)
        if cached is not None and cached[1] > now:
            user = self.store.user_by_id(cached[0])
            if user is not None and user.username == username:
                return user
        user = self.store.check_password(username, password)
        if user is None:
            raise _unauthenticated("Wrong username or password.")
        with self._lock:
            if len(self._verified) >= _CACHE_SIZE:
                self._verified.clear()
            self._verified[key] = (user.id, now + PASSWORD_CACHE_S)
        return user

    def forget_passwords(self) -> None:
        """Drop remembered passwords (after a password change through this server)."""
        with self._lock:
            self._verified.clear()


def _unauthenticated(message: str) -> HeronError:
    return HeronError(message, UNAUTHENTICATED)


@dataclass(frozen=True)
class _Grant:
    kind: ResourceKind
    key: str  # an experiment's name (its id is known only once it exists) or a registered name
    user_id: int


async def guard(request: Request) -> None:
    """The app-wide dependency: authenticate, then check the route's rule (no-op with auth off)."""
    state: AuthState | None = getattr(request.app.state, "heron_auth", None)
    if state is None:
        return
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    params = tuple(getattr(route, "param_convertors", {}))
    rule = policy.rule_for(request.method, template, params)
    if rule.public:
        return
    body = await _body(request) if _needs_body(request, rule) else None
    await run_in_threadpool(_check, state, request, template, rule, body)


def _needs_body(request: Request, rule: policy.Rule) -> bool:
    return request.method not in ("GET", "HEAD") and rule.source not in (
        None, policy.TRACE_ID, policy.PROXY_PATH, policy.PAYLOAD, policy.FILTERED, policy.EXPERIMENT_NAME,
    ) or rule.creates


async def _body(request: Request) -> dict[str, Any] | None:
    """The JSON object of the request body, None when there is no body or it is not a JSON object."""
    raw = await request.body()  # FastAPI has read it already for routes with a body; cached either way
    if not raw.strip():
        return None
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _check(state: AuthState, request: Request, template: str, rule: policy.Rule, body: dict[str, Any] | None) -> None:
    user = state.authenticate(request.headers.get("authorization"))
    access = Access(user, state.store, state.default)
    request.state.heron_access = access
    if rule.admin:
        access.require_admin()
        return
    if rule.source == policy.USERNAME:
        if _field(request, body, "username") != user.username:
            access.require_admin()
        return
    if rule.kind is None or rule.source in (policy.FILTERED, policy.PAYLOAD):
        return
    if rule.creates:
        name = _field(request, body, "name")
        if name is None:
            return  # the route refuses the request: nothing to create
        if rule.kind == EXPERIMENT or not state.store.name_exists(name):
            request.state.heron_grant = _Grant(rule.kind, name, user.id)
            return
    key = _key(state, request, rule, body, template)
    if key is None:
        access.require_admin()  # an artifact path outside <experiment_id>/...: admins only
        return
    access.require(rule.kind, key, rule.role)


def _key(state: AuthState, request: Request, rule: policy.Rule, body: dict[str, Any] | None,
         template: str) -> str | None:
    source, store = rule.source, state.store
    if source == policy.EXPERIMENT_ID or source == policy.NAME:
        found = _field(request, body, source) or rule.default
        if found is None:
            raise _missing(source)
        return found
    if source == policy.EXPERIMENT_NAME:
        name = _field(request, body, "experiment_name")
        if name is None:
            raise _missing("experiment_name")
        experiment = store.experiment_by_name(name)
        if experiment is None:
            raise HeronError.not_found(f"Could not find experiment with name '{name}'")
        return experiment
    if source == policy.RUN_ID:
        run_id = _field(request, body, "run_id") or _field(request, body, "run_uuid")
        if run_id is None:
            raise _missing("run_id")
        return state.experiment_of_run(run_id)
    if source == policy.TRACE_ID:
        return store.experiment_of_trace(_normalize_id(request.path_params.get("trace_id", "")).lower())
    if source == policy.PROXY_PATH:
        path = request.path_params.get("artifact_path") or request.query_params.get("path") or ""
        first = path.strip("/").split("/", 1)[0]
        return first if first.isdigit() else None
    raise HeronError(f"The auth table has no key source {source!r} for {template}.", INTERNAL_ERROR)


def _field(request: Request, body: dict[str, Any] | None, name: str) -> str | None:
    """``name`` from the path, the query string or the JSON body (first found), as text."""
    value: Any = request.path_params.get(name)
    if value is None:
        value = request.query_params.get(name)
    if value is None and body is not None:
        value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise HeronError.invalid(f"Invalid value {value!r} for parameter '{name}': expected a string.")
    return str(value)


def _missing(name: str) -> HeronError:
    return HeronError.invalid(f"Missing value for required parameter '{name}'.")


class CreatorGrant:
    """ASGI middleware: when a request that creates an experiment or registered name answers 2xx, its
    creator gets MANAGE on it, before the answer goes out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def granting(message: Message) -> None:
            if message["type"] == "http.response.start" and 200 <= message["status"] < 300:
                grant = scope.get("state", {}).get(_GRANT)
                state: AuthState | None = getattr(scope["app"].state, "heron_auth", None)
                if isinstance(grant, _Grant) and state is not None:
                    await run_in_threadpool(_apply, state.store, grant)
            await send(message)

        await self.app(scope, receive, granting)


def _apply(store: SqlAuthStore, grant: _Grant) -> None:
    key: str | None = grant.key
    if grant.kind == EXPERIMENT:
        key = store.experiment_by_name(grant.key)
    if key is not None:
        store.grant(grant.kind, key, grant.user_id, Role.MANAGE)
