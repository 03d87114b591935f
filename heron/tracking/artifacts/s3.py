"""Artifacts in S3 or an S3-compatible store (MinIO, moto…): ``s3://bucket/prefix``.

boto3 is imported when the first client is made, never by ``import heron``. The endpoint comes from
``HERON_S3_ENDPOINT_URL``, else ``MLFLOW_S3_ENDPOINT_URL``, else ``AWS_ENDPOINT_URL``; credentials and
region from boto3's usual chain. Uploads and downloads go through boto3's transfer manager (multipart
for big files, streamed to disk). Keys are the root prefix joined with validated relative paths, and
keys found by listing are validated again before they become local paths.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

from heron import config
from heron.errors import HeronError
from heron.tracking.artifacts.base import ArtifactRepository
from heron.tracking.artifacts.local import source_file, source_tree
from heron.tracking.artifacts.paths import file_path, join_key, relative_path
from heron.tracking.entities import FileInfo

__all__ = ["S3ArtifactRepository", "endpoint_url"]

_logger = logging.getLogger(__name__)
_clients_lock = threading.Lock()
_clients: dict[tuple[str | None, ...], Any] = {}
_DELETE_BATCH = 1000  # S3's limit per DeleteObjects call


def endpoint_url() -> str | None:
    """The S3 endpoint in force, or None for AWS itself."""
    return (
        config.S3_ENDPOINT_URL.get()
        or os.environ.get("MLFLOW_S3_ENDPOINT_URL")
        or os.environ.get("AWS_ENDPOINT_URL")
        or None
    )


def _client() -> Any:
    """A boto3 S3 client for the endpoint and credentials in the environment (cached; thread-safe)."""
    endpoint = endpoint_url()
    env = os.environ
    key = (
        endpoint,
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
        env.get("AWS_SESSION_TOKEN"),
        env.get("AWS_PROFILE"),
        env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION"),
    )
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            import boto3  # optional dependency: heron[s3]

            # One session per client: boto3's default session is not safe to share between threads.
            client = boto3.session.Session().client("s3", endpoint_url=endpoint)
            _clients[key] = client
        return client


def _is_missing(exc: Exception) -> bool:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code")) in ("404", "NoSuchKey", "NotFound")


class S3ArtifactRepository(ArtifactRepository):
    """Artifacts under ``s3://bucket/prefix``. Folders are key prefixes; they exist while they hold files."""

    def __init__(self, artifact_uri: str) -> None:
        super().__init__(artifact_uri)
        parsed = urlparse(artifact_uri)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise HeronError.invalid(f"S3 artifact URI {artifact_uri!r} names no bucket: expected s3://bucket/prefix.")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")

    @property
    def _s3(self) -> Any:
        return _client()

    def _key(self, rel: str) -> str:
        return join_key(self.prefix, rel)

    def _folder_prefix(self, rel: str) -> str:
        key = self._key(rel)
        return key + "/" if key else ""

    def _rel(self, key: str) -> str | None:
        """The relative path of a listed key, or None for a key no valid artifact path names."""
        rel = key[len(self.prefix) + 1 :] if self.prefix else key
        rel = rel.rstrip("/")
        try:
            if rel and relative_path(rel) == rel:
                return rel
        except HeronError:
            pass
        _logger.warning("Skipping S3 object %r in %r: not a valid artifact path.", key, self.artifact_uri)
        return None

    def _pages(self, prefix: str, delimiter: str | None) -> Iterator[dict[str, Any]]:
        kwargs = {"Bucket": self.bucket, "Prefix": prefix}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        yield from self._s3.get_paginator("list_objects_v2").paginate(**kwargs)

    # ------------------------------------------------------------------------------------------- write

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=self._key(file_path(artifact_file)), Body=data)

    def log_artifact(self, local_file: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        source = source_file(local_file)
        rel = file_path(join_key(relative_path(artifact_path), os.path.basename(source)))
        self._s3.upload_file(source, self.bucket, self._key(rel))

    def log_artifacts(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        base = relative_path(artifact_path)
        uploads = [(real, self._key(file_path(join_key(base, rel)))) for rel, real in source_tree(local_dir)]
        for source, key in uploads:
            self._s3.upload_file(source, self.bucket, key)

    # -------------------------------------------------------------------------------------------- read

    def read_bytes(self, artifact_file: str) -> bytes:
        rel = file_path(artifact_file)
        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=self._key(rel))
        except Exception as exc:
            if _is_missing(exc):
                raise HeronError.not_found(f"No artifact file {rel!r} under {self.artifact_uri!r}.") from None
            raise
        body = response["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        prefix = self._folder_prefix(relative_path(path))
        infos = []
        for page in self._pages(prefix, "/"):
            for common in page.get("CommonPrefixes", []):
                rel = self._rel(common["Prefix"])
                if rel is not None:
                    infos.append(FileInfo(rel, True, None))
            for obj in page.get("Contents", []):
                if obj["Key"] == prefix or obj["Key"].endswith("/"):
                    continue  # folder markers some tools create
                rel = self._rel(obj["Key"])
                if rel is not None:
                    infos.append(FileInfo(rel, False, int(obj["Size"])))
        return sorted(infos, key=lambda info: info.path)

    def _download_file(self, artifact_file: str, local_file: str) -> bool:
        os.makedirs(os.path.dirname(local_file), exist_ok=True)
        try:
            # The transfer manager streams to a temporary name and renames it when complete.
            self._s3.download_file(self.bucket, self._key(artifact_file), local_file)
        except Exception as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def _iter_keys(self, rel: str) -> Iterator[str]:
        for page in self._pages(self._folder_prefix(rel), None):
            for obj in page.get("Contents", []):
                yield obj["Key"]

    def _iter_files(self, artifact_dir: str) -> list[str]:
        files = []
        for key in self._iter_keys(artifact_dir):
            if key.endswith("/"):
                continue
            rel = self._rel(key)
            if rel is not None:
                files.append(rel)
        return sorted(files)

    # ------------------------------------------------------------------------------------------ delete

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = relative_path(artifact_path)
        keys = list(self._iter_keys(rel))
        if rel:
            keys.append(self._key(rel))  # the file itself, if it is one (deleting a missing key is fine)
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = keys[start : start + _DELETE_BATCH]
            self._s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
