"""Download, list and load artifacts by URI, as ``mlflow.artifacts`` does.

An artifact URI is ``runs:/<run_id>/<path>``, ``s3://bucket/key``, ``file:///path`` or a local path.
Alternatively pass ``run_id`` (and ``artifact_path``) to name a run's artifacts. Every function blocks
until done.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
from typing import Any
from urllib.parse import urlparse

from heron.errors import BAD_REQUEST, HeronError
from heron.tracking.artifacts import ArtifactRepository, get_repository, relative_path
from heron.tracking.artifacts.local import local_path_from_uri
from heron.tracking.client import Client
from heron.tracking.entities import FileInfo

__all__ = ["download_artifacts", "list_artifacts", "load_dict", "load_image", "load_text"]

_RUNS = "runs:/"


def _run_repository(run_id: str, tracking_uri: str | None) -> ArtifactRepository:
    return get_repository(Client(tracking_uri).get_run(run_id).info.artifact_uri)


def _parse_runs_uri(uri: str) -> tuple[str, str]:
    """``runs:/<run_id>/<path>`` -> (run_id, validated path)."""
    run_id, _, path = uri[len(_RUNS) :].lstrip("/").partition("/")
    if not run_id:
        raise HeronError.invalid(f"Artifact URI {uri!r} names no run: expected runs:/<run_id>/<path>.")
    return run_id, relative_path(path)


def _split_uri(uri: str) -> tuple[str, str]:
    """A plain artifact URI -> (the URI of its folder, its last name); the name is ``""`` for a bucket."""
    if urlparse(uri).scheme.lower() == "s3":
        bucket_and_key = uri[len("s3://") :].rstrip("/")
        if "/" not in bucket_and_key:
            return "s3://" + bucket_and_key, ""
        parent, name = bucket_and_key.rsplit("/", 1)
        return "s3://" + parent, name
    path = local_path_from_uri(uri) if uri.startswith("file:") else os.path.abspath(uri)
    return os.path.dirname(path), os.path.basename(path)


def _resolve(
    artifact_uri: str | None, run_id: str | None, artifact_path: str | None, tracking_uri: str | None
) -> tuple[ArtifactRepository, str, str]:
    """(repository, path of the target in it, path the caller's listing is relative to)."""
    if artifact_uri is not None and (run_id is not None or artifact_path is not None):
        raise HeronError.invalid(
            "Pass either artifact_uri, or run_id (with an optional artifact_path), not both."
        )
    if artifact_uri is None:
        if run_id is None:
            raise HeronError.invalid("Pass artifact_uri (e.g. 'runs:/<run_id>/model') or run_id.")
        return _run_repository(run_id, tracking_uri), relative_path(artifact_path), ""
    if artifact_uri.startswith(_RUNS):
        run, path = _parse_runs_uri(artifact_uri)
        return _run_repository(run, tracking_uri), path, path
    parent, name = _split_uri(artifact_uri)
    return get_repository(parent), relative_path(name), relative_path(name)


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Download a file or folder and return its local path.

    ``dst_path`` defaults to a new temporary folder. The copy is named after the artifact:
    ``download_artifacts("runs:/abc/plots/a.png", dst_path="d")`` returns ``d/plots/a.png``, and a
    plain URI ``s3://b/x/a.png`` gives ``d/a.png``. Raises RESOURCE_DOES_NOT_EXIST when nothing is there.
    """
    repo, path, _ = _resolve(artifact_uri, run_id, artifact_path, tracking_uri)
    return repo.download_artifacts(path, dst_path)


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """The direct children of a folder.

    With ``run_id`` the paths are relative to the run's root (like ``Client.list_artifacts``); with
    ``artifact_uri`` they are relative to that URI (as in MLflow).
    """
    if artifact_uri is not None and not artifact_uri.startswith(_RUNS) and run_id is None and artifact_path is None:
        return get_repository(artifact_uri).list_artifacts()
    repo, path, base = _resolve(artifact_uri, run_id, artifact_path, tracking_uri)
    infos = repo.list_artifacts(path)
    if not base:
        return infos
    return [FileInfo(posixpath.relpath(i.path, base), i.is_dir, i.file_size) for i in infos]


def _read(artifact_uri: str) -> bytes:
    repo, path, _ = _resolve(artifact_uri, None, None, None)
    return repo.read_bytes(path)


def load_text(artifact_uri: str) -> str:
    """The content of a text artifact (UTF-8)."""
    return _read(artifact_uri).decode("utf-8")


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """A dict logged with ``log_dict``: YAML for .yaml/.yml URIs, else JSON.

    Raises HeronError(BAD_REQUEST) when the content is not a JSON/YAML mapping.
    """
    text = load_text(artifact_uri)
    if posixpath.splitext(artifact_uri)[1].lower() in (".yaml", ".yml"):
        import yaml

        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise HeronError(f"Unable to read {artifact_uri!r} as YAML: {exc}", BAD_REQUEST) from None
    else:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise HeronError(f"Unable to form a JSON object from {artifact_uri!r}: {exc}", BAD_REQUEST) from None
    if not isinstance(value, dict):
        raise HeronError(
            f"Artifact {artifact_uri!r} holds a {type(value).__name__}, expected a mapping.", BAD_REQUEST
        )
    return value


def load_image(artifact_uri: str) -> Any:
    """An image artifact as a ``PIL.Image.Image`` (needs Pillow)."""
    try:
        from PIL import Image
    except ImportError:
        raise HeronError.invalid("load_image needs Pillow: pip install pillow.") from None
    image = Image.open(io.BytesIO(_read(artifact_uri)))
    image.load()
    return image
