"""The artifact repository interface: put, get, list and delete files under one run's root."""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod

from heron.errors import HeronError
from heron.tracking.artifacts.paths import relative_path
from heron.tracking.entities import FileInfo

__all__ = ["ArtifactRepository"]


class ArtifactRepository(ABC):
    """Files under one artifact root (a run's ``artifact_uri``).

    Every ``artifact_path``/``artifact_file`` is relative to the root, ``/``-separated, and validated by
    :mod:`heron.tracking.artifacts.paths`: a path that could leave the root raises
    HeronError(INVALID_PARAMETER_VALUE) before anything is read or written. Folders exist only as
    prefixes of files (an empty folder is not an artifact). Methods block until done; a repository
    holds no per-call state and may be shared by threads.
    """

    def __init__(self, artifact_uri: str) -> None:
        self.artifact_uri = artifact_uri

    @abstractmethod
    def log_artifact(self, local_file: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Copy the local file ``local_file`` to ``artifact_path/<its name>`` (the root when None)."""

    @abstractmethod
    def log_artifacts(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        """Copy every file below ``local_dir`` to ``artifact_path`` (the root when None).

        A symlink in ``local_dir`` that points outside it is refused (HeronError
        INVALID_PARAMETER_VALUE) before any file is copied: logging a folder never copies files from
        elsewhere. Links that stay inside ``local_dir`` are followed.
        """

    @abstractmethod
    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        """Write ``data`` to ``artifact_file``, replacing any previous content (readers never see half)."""

    @abstractmethod
    def read_bytes(self, artifact_file: str) -> bytes:
        """The content of ``artifact_file``; raises RESOURCE_DOES_NOT_EXIST when there is no such file."""

    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of ``path`` (the root when None), sorted, paths relative to the root.

        A path that is a file or does not exist has no children: the result is ``[]``, as in MLflow.
        """

    @abstractmethod
    def _download_file(self, artifact_file: str, local_file: str) -> bool:
        """Copy one artifact to ``local_file``; False when ``artifact_file`` is not a file."""

    @abstractmethod
    def _iter_files(self, artifact_dir: str) -> list[str]:
        """Every file below ``artifact_dir`` (root when ``""``), as paths relative to the root."""

    @abstractmethod
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete the file or folder ``artifact_path`` (everything when None); a missing path is a no-op."""

    def download_artifacts(self, artifact_path: str = "", dst_path: str | os.PathLike[str] | None = None) -> str:
        """Copy a file or a whole folder to ``dst_path`` and return the local path of the copy.

        The copy keeps the path relative to the root: ``download_artifacts("a/b.txt", d)`` returns
        ``d/a/b.txt``. ``dst_path`` defaults to a new temporary folder, and is created if missing.
        Raises RESOURCE_DOES_NOT_EXIST when ``artifact_path`` names nothing (the root always exists).
        """
        rel = relative_path(artifact_path)
        dst = tempfile.mkdtemp(prefix="heron-artifacts-") if dst_path is None else os.path.abspath(dst_path)
        if os.path.exists(dst) and not os.path.isdir(dst):
            raise HeronError.invalid(f"Download destination {dst!r} is a file: expected a folder.")
        os.makedirs(dst, exist_ok=True)
        local = os.path.join(dst, *rel.split("/")) if rel else dst
        if rel and self._download_file(rel, local):
            return local
        files = self._iter_files(rel)
        if rel and not files:
            if dst_path is None:
                shutil.rmtree(dst, ignore_errors=True)
            raise HeronError.not_found(f"No artifact at {rel!r} under {self.artifact_uri!r}.")
        os.makedirs(local, exist_ok=True)
        for file in files:
            self._download_file(file, os.path.join(dst, *file.split("/")))
        return local
