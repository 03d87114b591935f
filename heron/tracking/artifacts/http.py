"""Artifacts behind a Heron (or MLflow) server's artifact proxy: ``mlflow-artifacts:/...`` and
``http(s)://host/api/2.0/mlflow-artifacts/artifacts/...`` URIs.

The client never needs storage credentials: files go up with a streamed ``PUT`` and come down with a
streamed ``GET`` (never whole in memory), listings use ``GET ...artifacts?path=``. Requests go through
:mod:`heron.tracking.remote` (pooled connections, bearer token, retries: uploads are ``PUT`` and may be
repeated). Every path is validated before a request is made, and every name a listing returns is
validated before it becomes a local path.
"""

from __future__ import annotations

import mimetypes
import os
from typing import BinaryIO
from urllib.parse import quote, urlsplit

from heron.errors import HeronError
from heron.tracking.artifacts.base import ArtifactRepository
from heron.tracking.artifacts.local import source_file, source_tree, write_atomically
from heron.tracking.artifacts.paths import file_path, join_key, relative_path
from heron.tracking.entities import FileInfo
from heron.tracking.remote import RemoteServer, server_for
from heron.tracking.uri import get_tracking_uri

__all__ = ["ARTIFACTS_ROUTE", "HttpArtifactRepository", "resolve_proxy_uri"]

ARTIFACTS_ROUTE = "/api/2.0/mlflow-artifacts/artifacts"
_CHUNK = 1024 * 1024


def resolve_proxy_uri(artifact_uri: str, tracking_uri: str) -> str:
    """The ``http(s)://`` URL of an ``mlflow-artifacts:`` URI, against the tracking server in force.

    ``mlflow-artifacts:/1/abc/artifacts`` with tracking URI ``http://h:5000`` gives
    ``http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts``; a host in the URI
    (``mlflow-artifacts://other:5000/...``) wins over the tracking server's. Raises
    INVALID_PARAMETER_VALUE when the tracking URI is not a server.
    """
    parts = urlsplit(artifact_uri)
    tracking = urlsplit(tracking_uri)
    if tracking.scheme.lower() not in ("http", "https"):
        raise HeronError.invalid(
            f"Artifact URI {artifact_uri!r} is kept by a Heron server's artifact proxy, but the tracking URI "
            f"is {tracking_uri!r}, not a server: call heron.set_tracking_uri('http://host:port') (or set "
            "HERON_TRACKING_URI) to the server that owns the run."
        )
    netloc = parts.netloc or tracking.netloc
    root = relative_path(parts.path.lstrip("/"))
    prefix = tracking.path.rstrip("/") if not parts.netloc else ""
    return f"{tracking.scheme.lower()}://{netloc}{prefix}{ARTIFACTS_ROUTE}/{_quote(root)}".rstrip("/")


def _quote(path: str) -> str:
    return quote(path, safe="/")


class HttpArtifactRepository(ArtifactRepository):
    """Artifacts under ``url`` (``http(s)://host[/prefix]/api/2.0/mlflow-artifacts/artifacts/<root>``).

    ``artifact_uri`` keeps the URI the run names (an ``mlflow-artifacts:`` URI stays one).
    """

    def __init__(self, artifact_uri: str, url: str | None = None) -> None:
        super().__init__(artifact_uri)
        url = url or artifact_uri
        parts = urlsplit(url)
        if ARTIFACTS_ROUTE not in parts.path:
            raise HeronError.invalid(
                f"Artifact URI {url!r} is not an artifact proxy URL: expected "
                f"http(s)://host:port{ARTIFACTS_ROUTE}/<path>."
            )
        prefix, _, root = parts.path.partition(ARTIFACTS_ROUTE)
        self.server: RemoteServer = server_for(f"{parts.scheme}://{parts.netloc}{prefix}")
        self.root = relative_path(root.strip("/"))

    @classmethod
    def for_uri(cls, artifact_uri: str) -> HttpArtifactRepository:
        """The repository for an ``http(s)://`` proxy URL or an ``mlflow-artifacts:`` URI (resolved
        against the tracking URI in force when it names no host)."""
        if urlsplit(artifact_uri).scheme.lower() == "mlflow-artifacts":
            return cls(artifact_uri, resolve_proxy_uri(artifact_uri, get_tracking_uri()))
        return cls(artifact_uri)

    def _route(self, rel: str) -> str:
        full = join_key(self.root, rel)
        return f"{ARTIFACTS_ROUTE}/{_quote(full)}" if full else ARTIFACTS_ROUTE

    # ------------------------------------------------------------------------------------------- write

    def _put(self, rel: str, *, source: str | None = None, data: bytes = b"") -> None:
        content_type = mimetypes.guess_type(rel)[0] or "application/octet-stream"

        def body() -> BinaryIO | bytes:
            return open(source, "rb") if source is not None else data  # noqa: SIM115 - closed by the caller

        self.server.request(
            "PUT", self._route(rel), content=body, headers={"Content-Type": content_type}, idempotent=True
        )

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        self._put(file_path(artifact_file), data=data)

    def log_artifact(self, local_file: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        source = source_file(local_file)
        self._put(file_path(join_key(relative_path(artifact_path), os.path.basename(source))), source=source)

    def log_artifacts(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        base = relative_path(artifact_path)
        for rel, real in source_tree(local_dir):  # raises before any upload if a link points out
            self._put(file_path(join_key(base, rel)), source=real)

    # -------------------------------------------------------------------------------------------- read

    def read_bytes(self, artifact_file: str) -> bytes:
        rel = file_path(artifact_file)
        with self.server.stream("GET", self._route(rel)) as response:
            if response.status_code == 404:
                raise HeronError.not_found(f"No artifact file {rel!r} under {self.artifact_uri!r}.")
            return response.read()

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = relative_path(path)
        found = self.server.call(
            "GET", ARTIFACTS_ROUTE, params={"path": join_key(self.root, rel)}, idempotent=True
        )
        infos = []
        for entry in found.get("files", ()):
            name = str(entry.get("path", ""))
            # The server answers names relative to the listed folder: one segment, nothing that climbs.
            if "/" in name or not relative_path(name):
                raise HeronError.invalid(f"The artifact server listed an invalid name {name!r} under {rel!r}.")
            is_dir = bool(entry.get("is_dir", False))
            size = entry.get("file_size")
            infos.append(FileInfo(join_key(rel, name), is_dir, None if is_dir or size is None else int(size)))
        return sorted(infos, key=lambda info: info.path)

    def _download_file(self, artifact_file: str, local_file: str) -> bool:
        with self.server.stream("GET", self._route(artifact_file)) as response:
            if response.status_code == 404:
                return False

            def fill(out: BinaryIO) -> None:
                for chunk in response.iter_bytes(_CHUNK):
                    out.write(chunk)

            write_atomically(local_file, fill)
        return True

    def _iter_files(self, artifact_dir: str) -> list[str]:
        files: list[str] = []
        pending = [artifact_dir]
        while pending:
            folder = pending.pop()
            for info in self.list_artifacts(folder or None):
                (pending if info.is_dir else files).append(info.path)
        return sorted(files)

    # ------------------------------------------------------------------------------------------ delete

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = relative_path(artifact_path)
        if not self.root and not rel:
            raise HeronError.invalid("Refusing to delete the whole artifact store of the server.")
        self.server.request("DELETE", self._route(rel), idempotent=True, ok_statuses=(404,))
