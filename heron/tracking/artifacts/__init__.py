"""Artifact repositories: files under a run's artifact root, on the local disk or in S3.

``get_repository(run.info.artifact_uri)`` picks the implementation by the URI's scheme. Paths given to a
repository are validated by :mod:`heron.tracking.artifacts.paths`; nothing can escape the root.
"""

from __future__ import annotations

import os
from urllib.parse import urlparse

from heron.errors import HeronError
from heron.tracking.artifacts.base import ArtifactRepository
from heron.tracking.artifacts.local import LocalArtifactRepository
from heron.tracking.artifacts.paths import file_path, relative_path
from heron.tracking.artifacts.s3 import S3ArtifactRepository

__all__ = [
    "ArtifactRepository",
    "LocalArtifactRepository",
    "S3ArtifactRepository",
    "SUPPORTED_SCHEMES",
    "file_path",
    "get_repository",
    "relative_path",
]

SUPPORTED_SCHEMES = ("s3://bucket/prefix", "file:///absolute/path", "a local path")


def get_repository(artifact_uri: str) -> ArtifactRepository:
    """The repository for ``artifact_uri``, chosen by scheme: ``s3://``, ``file://`` or a bare path.

    Cheap: no network or disk access until a method is called. Raises HeronError
    (INVALID_PARAMETER_VALUE) for any other scheme.
    """
    if not isinstance(artifact_uri, str) or not artifact_uri:
        raise HeronError.invalid(f"Artifact URI must be a non-empty string, got {artifact_uri!r}.")
    scheme = urlparse(artifact_uri).scheme.lower()
    if scheme == "s3":
        return S3ArtifactRepository(artifact_uri)
    # A one-letter scheme is a Windows drive (C:\...), not a URL.
    if scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
        return LocalArtifactRepository(artifact_uri)
    if scheme in ("mlflow-artifacts", "http", "https"):
        # A server's artifact proxy (mlflow-artifacts: resolves against the tracking URI in force, as in
        # MLflow); httpx is imported only now.
        from heron.tracking.artifacts.http import HttpArtifactRepository

        return HttpArtifactRepository.for_uri(artifact_uri)
    raise HeronError.invalid(
        f"Artifact URI {artifact_uri!r} has scheme {scheme!r}, which Heron cannot store artifacts in: "
        f"expected one of {', '.join(SUPPORTED_SCHEMES)}, mlflow-artifacts:/path or "
        "http(s)://host/api/2.0/mlflow-artifacts/artifacts/path."
    )
