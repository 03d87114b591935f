"""Where the artifact proxy keeps files (``--artifacts-destination``), and how run artifact URIs map there.

A run created through a proxying server has ``artifact_uri = mlflow-artifacts:/<exp>/<run>/artifacts``;
the files live at ``<destination>/<exp>/<run>/artifacts``. Uploads stream to a temporary file beside the
target and are renamed over it (a local destination) or are uploaded from a temporary file (S3): a
500 MB artifact never sits in memory, and readers never see half a file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool

from heron.errors import NOT_IMPLEMENTED, HeronError
from heron.tracking.artifacts import ArtifactRepository, get_repository
from heron.tracking.artifacts.http import ARTIFACTS_ROUTE
from heron.tracking.artifacts.local import TMP_PREFIX, local_path_from_uri
from heron.tracking.artifacts.paths import contained_real_path, file_path, is_within, relative_path

__all__ = ["ArtifactDestination", "proxied_path"]


def proxied_path(artifact_uri: str) -> str | None:
    """The path under the destination that a proxied artifact URI names; None for other URIs.

    ``mlflow-artifacts:/1/r/artifacts`` and ``http://h/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts``
    both give ``1/r/artifacts``. Raises INVALID_PARAMETER_VALUE for a path that climbs out.
    """
    parts = urlsplit(artifact_uri)
    scheme = parts.scheme.lower()
    if scheme == "mlflow-artifacts":
        return relative_path(parts.path.lstrip("/"))
    if scheme in ("http", "https") and ARTIFACTS_ROUTE in parts.path:
        return relative_path(parts.path.split(ARTIFACTS_ROUTE, 1)[1].lstrip("/"))
    return None


def _is_local(uri: str) -> bool:
    scheme = urlsplit(uri).scheme.lower()
    return scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt")


class ArtifactDestination:
    """The artifact store behind the proxy: a local folder or an S3 prefix. Thread-safe."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.local_root = local_path_from_uri(uri) if _is_local(uri) else None
        self.root = get_repository(uri)

    def repository(self, rel: str) -> ArtifactRepository:
        """The repository for the validated relative path ``rel`` under the destination."""
        rel = relative_path(rel)
        if not rel:
            return self.root
        if self.local_root is not None:
            return get_repository(os.path.join(self.local_root, *rel.split("/")))
        return get_repository(f"{self.uri.rstrip('/')}/{rel}")

    def contains_local(self, path: str) -> bool:
        """Whether a local path lies inside a local destination."""
        if self.local_root is None:
            return False
        return is_within(os.path.realpath(path), os.path.realpath(self.local_root))

    # ----------------------------------------------------------------------------------------- files

    async def put(self, artifact_path: str, chunks: AsyncIterator[bytes]) -> None:
        """Store the streamed body as ``artifact_path`` (replacing any previous file)."""
        rel = file_path(artifact_path)
        if self.local_root is not None:
            await _put_local(self.local_root, rel, chunks)
            return
        folder, _, name = rel.rpartition("/")
        with tempfile.TemporaryDirectory(prefix="heron-upload-") as tmp:
            local = os.path.join(tmp, name)
            with open(local, "wb") as out:
                async for chunk in chunks:
                    out.write(chunk)
            await run_in_threadpool(self.root.log_artifact, local, folder or None)

    def local_file(self, artifact_path: str) -> tuple[str, str | None]:
        """A local file holding ``artifact_path``, and the temporary folder to delete after use (None when
        the file is the destination's own).

        Raises RESOURCE_DOES_NOT_EXIST when the path is missing or names a folder.
        """
        rel = file_path(artifact_path)
        if self.local_root is not None:
            real = contained_real_path(self.local_root, rel)
            if not os.path.isfile(real):
                raise _missing(rel, os.path.isdir(real))
            return real, None
        tmp = tempfile.mkdtemp(prefix="heron-download-")
        try:
            local = self.root.download_artifacts(rel, tmp)
            if not os.path.isfile(local):
                raise _missing(rel, True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return local, tmp

    def list(self, path: str | None) -> list[tuple[str, bool, int | None]]:
        """(name, is_dir, size) of the direct children of ``path`` (names only, as MLflow answers)."""
        rel = relative_path(path)
        return [(info.path.rsplit("/", 1)[-1], info.is_dir, info.file_size) for info in self.root.list_artifacts(rel or None)]

    def delete(self, artifact_path: str) -> None:
        rel = relative_path(artifact_path)
        if not rel:
            raise HeronError.invalid("Refusing to delete the whole artifact destination: name a path in it.")
        self.root.delete_artifacts(rel)


async def _put_local(root: str, rel: str, chunks: AsyncIterator[bytes]) -> None:
    os.makedirs(root, exist_ok=True)
    target = contained_real_path(root, rel)
    if os.path.isdir(target):
        raise HeronError.invalid(f"Cannot write artifact {rel!r}: a folder of that name exists.")
    parent = os.path.dirname(target)
    try:
        os.makedirs(parent, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise HeronError.invalid(f"Cannot write artifact {rel!r}: one of its folders is a file.") from None
    tmp = os.path.join(parent, TMP_PREFIX + uuid.uuid4().hex)
    try:
        with open(tmp, "xb") as out:
            async for chunk in chunks:
                out.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise



def _missing(rel: str, is_dir: bool) -> HeronError:
    if is_dir:
        return HeronError.not_found(f"No artifact file {rel!r}: it is a folder (list it instead).")
    return HeronError.not_found(f"No such artifact: {rel!r}.")


def not_serving() -> HeronError:
    return HeronError(
        "This server does not proxy artifacts (it was started with --no-serve-artifacts): clients read and "
        "write artifacts at the run's artifact_uri themselves.",
        NOT_IMPLEMENTED,
    )
