"""``/health``, ``/version`` and MLflow's ``/api/3.0/mlflow/server-info`` (what a client may ask before
anything else)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse

from heron import __version__
from heron.server.context import Ctx
from heron.server.messages import json_response

__all__ = ["router"]

router = APIRouter(tags=["server"])


@router.get("/health", response_class=PlainTextResponse)
async def health() -> Response:
    """``OK`` while the server answers (as MLflow's server)."""
    return PlainTextResponse("OK")


@router.get("/version", response_class=PlainTextResponse)
async def version() -> Response:
    """Heron's version, as plain text (as MLflow's server answers its own)."""
    return PlainTextResponse(__version__)


@router.get("/api/3.0/mlflow/server-info")
async def server_info(ctx: Ctx) -> Response:
    """What MLflow 3 clients probe for: store type and optional features (all off here)."""
    info: dict[str, Any] = {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
        "heron_version": __version__,
        "serve_artifacts": ctx.settings.serve_artifacts,
    }
    return json_response(info)
