"""Artifacts: ``/api/2.0/mlflow/artifacts/list`` (a run's files) and the artifact proxy,
``/api/2.0/mlflow-artifacts/artifacts/{path}`` (GET, PUT, DELETE; GET without a path lists).

Proxy paths are relative to the artifacts destination (``<exp>/<run>/artifacts/...``, what an
``mlflow-artifacts:`` URI names) and validated by :mod:`heron.tracking.artifacts.paths`: anything that
could leave the destination (``..``, absolute paths, backslashes, NUL) is 400 INVALID_PARAMETER_VALUE.
Uploads and downloads stream; neither holds a file in memory.
"""

from __future__ import annotations

import mimetypes
import posixpath
import shutil
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from heron.server.context import Ctx
from heron.server.messages import ERRORS, Empty, FileInfoOut, Text, json_response, require_run_id
from heron.tracking.artifacts.http import ARTIFACTS_ROUTE
from heron.tracking.artifacts.paths import relative_path

__all__ = ["router"]

router = APIRouter(tags=["artifacts"], responses=ERRORS)


class ListArtifactsOut(BaseModel):
    root_uri: str
    files: list[FileInfoOut] = []
    next_page_token: str | None = None


class ProxyListOut(BaseModel):
    files: list[FileInfoOut] = []


def _file_info(path: str, is_dir: bool, size: int | None) -> dict[str, Any]:
    info: dict[str, Any] = {"path": path, "is_dir": is_dir}
    if not is_dir and size is not None:
        info["file_size"] = size
    return info


@router.get("/api/2.0/mlflow/artifacts/list", response_model=ListArtifactsOut)
def list_run_artifacts(
    ctx: Ctx,
    run_id: Annotated[Text | None, Query()] = None,
    run_uuid: Annotated[Text | None, Query()] = None,
    path: Annotated[Text | None, Query()] = None,
    page_token: Annotated[Text | None, Query(description="Ignored: one page holds every child.")] = None,
) -> Response:
    """The direct children of ``path`` in a run's artifacts (paths relative to the run's root)."""
    rel = relative_path(path)
    run = ctx.client.get_run(require_run_id(run_id, run_uuid))
    files = ctx.run_artifacts(run.info.artifact_uri).list_artifacts(rel or None)
    out: dict[str, Any] = {"root_uri": run.info.artifact_uri}
    if files:
        out["files"] = [_file_info(f.path, f.is_dir, f.file_size) for f in files]
    return json_response(out)


@router.get(ARTIFACTS_ROUTE, response_model=ProxyListOut)
def list_proxied(ctx: Ctx, path: Annotated[Text | None, Query()] = None) -> Response:
    """The direct children of ``path`` under the destination, by name (``{}`` for a file or nothing)."""
    found = ctx.proxy().list(path)
    return json_response({"files": [_file_info(*entry) for entry in found]} if found else {})


@router.get(
    ARTIFACTS_ROUTE + "/{artifact_path:path}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file, streamed."}},
)
async def download(artifact_path: str, ctx: Ctx) -> Response:
    """The file ``artifact_path``, streamed; RESOURCE_DOES_NOT_EXIST (404) for a folder or nothing."""
    local, temporary = await run_in_threadpool(ctx.proxy().local_file, artifact_path)
    name = posixpath.basename(artifact_path)
    cleanup = None if temporary is None else BackgroundTask(shutil.rmtree, temporary, ignore_errors=True)
    return FileResponse(
        local,
        media_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        filename=name,
        headers={"X-Content-Type-Options": "nosniff"},
        background=cleanup,
    )


@router.put(
    ARTIFACTS_ROUTE + "/{artifact_path:path}",
    response_model=Empty,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(artifact_path: str, request: Request, ctx: Ctx) -> Response:
    """Store the request body as the file ``artifact_path``, replacing any previous one."""
    await ctx.proxy().put(artifact_path, request.stream())
    return json_response({})


@router.delete(ARTIFACTS_ROUTE + "/{artifact_path:path}", response_model=Empty)
def delete(artifact_path: str, ctx: Ctx) -> Response:
    """Delete a file or a folder; a missing path is no error."""
    ctx.proxy().delete(artifact_path)
    return json_response({})
