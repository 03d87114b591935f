"""Request body limits: an oversized body gets 413 before it is parsed or stored.

A body that announces its size (``Content-Length``) over the limit is refused before a byte is read; a
streamed (chunked) body is counted as it arrives and refused when it passes the limit. Artifact uploads
have their own limit (often none): they are streamed to storage, never held in memory.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heron.server.errors import BodyTooLarge, error_response

__all__ = ["BodyLimit"]

ARTIFACT_UPLOAD_PREFIX = "/api/2.0/mlflow-artifacts/artifacts/"


class BodyLimit:
    """ASGI middleware: at most ``max_body_bytes`` per request, ``max_artifact_bytes`` (0: any) for
    artifact uploads."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_artifact_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_artifact_bytes = max_artifact_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = scope["method"] == "PUT" and scope["path"].startswith(ARTIFACT_UPLOAD_PREFIX)
        limit = self.max_artifact_bytes if upload else self.max_body_bytes
        what = "an artifact upload" if upload else "an API request"
        if not limit:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            exc = BodyTooLarge(limit, what)
            response = error_response("REQUEST_LIMIT_EXCEEDED", str(exc.detail), 413, {"Connection": "close"})
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit, what)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
