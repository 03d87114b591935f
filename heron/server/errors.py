"""Every error answer has one JSON shape, ``{"error_code": ..., "message": ...}``, with the HTTP status
of its code (``heron.errors.http_status``), as MLflow's server answers.

Request validation errors become 400 INVALID_PARAMETER_VALUE naming the field (FastAPI's default 422 is
not what MLflow clients expect), an unknown field with the fields the request takes; a body that is not
JSON becomes 400 MALFORMED_REQUEST; an unexpected exception becomes 500 INTERNAL_ERROR without
internals (they go to the server log).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, get_args

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heron.errors import (
    BAD_REQUEST,
    ENDPOINT_NOT_FOUND,
    INTERNAL_ERROR,
    INVALID_PARAMETER_VALUE,
    MALFORMED_REQUEST,
    REQUEST_LIMIT_EXCEEDED,
    UNAUTHENTICATED,
    HeronError,
    http_status,
)
from heron.server.messages import NO_NUL, json_response
from heron.server.render import error_page

__all__ = ["CHALLENGE", "BodyTooLarge", "CatchAll", "error_response", "install_error_handlers"]

_logger = logging.getLogger(__name__)

CHALLENGE = 'Basic realm="heron", charset="UTF-8"'
"""The ``WWW-Authenticate`` header of a 401: browsers then ask for a user name and password."""
_CODE_FOR_STATUS = {404: ENDPOINT_NOT_FOUND, 413: REQUEST_LIMIT_EXCEEDED, 400: BAD_REQUEST}


class BodyTooLarge(HTTPException):
    """A request body over the server's limit (an HTTPException, so FastAPI passes it through)."""

    def __init__(self, limit: int, what: str) -> None:
        super().__init__(
            413,
            f"Request body is larger than this server accepts for {what}: at most {limit:,} bytes "
            "(see `heron server --help` for the limits).",
        )


def error_response(code: str, message: str, status: int | None = None, headers: dict[str, str] | None = None) -> Response:
    response = json_response({"error_code": code, "message": message}, status or http_status(code))
    if headers:
        response.headers.update(headers)
    return response


async def _heron_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HeronError):
        raise exc
    if http_status(exc.error_code) >= 500:
        _logger.error("%s %s failed: %s", request.method, request.url.path, exc)
    if exc.error_code == UNAUTHENTICATED:
        return error_response(exc.error_code, exc.message, headers={"WWW-Authenticate": CHALLENGE})
    if _is_page(request.url.path) and http_status(exc.error_code) < 500:
        # refused by the auth guard before a page's own code ran: an HTML error page, not JSON
        return error_page(request, request.app.state.heron, exc)
    return error_response(exc.error_code, exc.message)


def _is_page(path: str) -> bool:
    return not path.startswith(("/api/", "/v1/", "/ajax-api/"))


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):
        raise exc
    status = exc.status_code
    message = str(exc.detail)
    if status == 404 and message == "Not Found":
        message = f"No API endpoint {request.method} {request.url.path}."
    elif status == 405:
        message = f"{request.url.path} does not take {request.method} requests."
    code = _CODE_FOR_STATUS.get(status, BAD_REQUEST if status < 500 else INTERNAL_ERROR)
    return error_response(code, message, status, dict(exc.headers or {}))


async def _validation_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):
        raise exc
    errors: Sequence[Any] = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        reason = next(e for e in errors if e.get("type") == "json_invalid").get("ctx", {}).get("error", "")
        return error_response(MALFORMED_REQUEST, f"Request body is not valid JSON: {reason}.".replace("..", "."))
    route = request.scope.get("route")
    body = route.body_field.field_info.annotation if isinstance(route, APIRoute) and route.body_field else None
    messages = [
        _unknown(e, body) if e.get("type") == "extra_forbidden" else _describe(e) for e in _one_per_field(errors)
    ]
    more = f" (and {len(messages) - 3} more problems)" if len(messages) > 3 else ""
    return error_response(INVALID_PARAMETER_VALUE, " ".join(messages[:3]) + more)


# Names pydantic gives the branches of a union in an error's location; they are not request fields.
_BRANCHES = {"float", "int", "str", "bool", "constrained-int", "constrained-float", "constrained-str"}
# Which of a field's errors (one per union branch) says best what is wrong.
_PREFERENCE = ("less_than_equal", "greater_than_equal", "value_error")


def _is_field(part: Any) -> bool:
    return isinstance(part, int) or (
        isinstance(part, str) and part not in _BRANCHES and "[" not in part and "(" not in part
    )


def _one_per_field(errors: Sequence[Any]) -> list[Any]:
    best: dict[tuple[Any, ...], Any] = {}
    for error in errors:
        loc = tuple(part for part in error.get("loc", ()) if _is_field(part))
        kind = error.get("type", "")
        rank = _PREFERENCE.index(kind) if kind in _PREFERENCE else len(_PREFERENCE)
        current = best.get(loc)
        if current is None or rank < current[0]:
            best[loc] = (rank, {**error, "loc": loc})
    return [error for _, error in best.values()]


def _field(loc: Sequence[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def _describe(error: Any) -> str:
    field = _field(error.get("loc", ()))
    kind = error.get("type", "")
    where = "query parameter" if error.get("loc", ("",))[0] == "query" else "parameter"
    if kind == "missing":
        if not field:
            return "Missing request body: expected a JSON object."
        return f"Missing value for required {where} '{field}'."
    if not field:
        return f"Request body must be a JSON object, got {_short(error.get('input'))}."
    reason = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == NO_NUL:
        reason = "text must not contain a NUL character"
    elif kind == "string_unicode":
        reason = "text must be valid Unicode"
    return f"Invalid value {_short(error.get('input'))} for {where} '{field}': {reason}."


def _unknown(error: Any, body: Any) -> str:
    """The message for a field the request does not take, with the fields it does take."""
    # A model branch of a union appears by its class name in the location: not a request field.
    loc = [part for part in error.get("loc", ()) if not (isinstance(part, str) and part[:1].isupper())]
    field = _field(loc)
    model = _model_at(body, [part for part in loc[1:-1] if isinstance(part, str)])
    if model is None:
        return f"Unknown field '{field}': the request does not take it."
    where = _field(loc[:-1])
    accepted = ", ".join(info.alias or name for name, info in model.model_fields.items())
    return f"Unknown field '{field}': {where or 'the request'} takes only {accepted}."


def _model_at(annotation: Any, path: list[str]) -> type[BaseModel] | None:
    """The model found in ``annotation`` (through Optional, unions and lists) at the field ``path``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if not path:
            return annotation
        info = annotation.model_fields.get(path[0]) or next(
            (f for f in annotation.model_fields.values() if f.alias == path[0]), None
        )
        return _model_at(info.annotation, path[1:]) if info else None
    for arg in get_args(annotation):
        found = _model_at(arg, path)
        if found is not None:
            return found
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class CatchAll:
    """ASGI middleware: an unexpected exception becomes 500 INTERNAL_ERROR, logged with its traceback.

    Registered as middleware rather than as an ``Exception`` handler because Starlette re-raises after
    such a handler, and uvicorn then drops the connection (breaking a client's kept-alive connection).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            _logger.exception("%s %s failed", scope["method"], scope["path"])
            if started:
                raise  # half an answer is out: nothing better than dropping the connection
            response = error_response(
                INTERNAL_ERROR, f"The server failed on {scope['method']} {scope['path']}; its log has the details."
            )
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app`` (add :class:`CatchAll` as middleware too)."""
    app.add_exception_handler(HeronError, _heron_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
