"""Artifacts in a local folder (a bare path or a ``file://`` URI).

Every path is resolved to its real path and checked to lie inside the root's real path, so a symlink
inside the root cannot lead a read or a write elsewhere; listings and folder downloads leave such links
out. Writes go to a temporary file beside the target and are renamed over it (``os.replace``), so a
reader sees the old content or the new one, never a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable
from typing import BinaryIO
from urllib.parse import urlparse
from urllib.request import url2pathname

from heron.errors import HeronError
from heron.tracking.artifacts.base import ArtifactRepository
from heron.tracking.artifacts.paths import (
    contained_real_path,
    file_path,
    is_within,
    join_key,
    relative_path,
    walk_files,
)
from heron.tracking.entities import FileInfo

__all__ = ["LocalArtifactRepository", "local_path_from_uri", "source_file", "source_tree", "write_atomically"]

TMP_PREFIX = ".heron-tmp-"


def local_path_from_uri(uri: str) -> str:
    """The absolute local path a bare path or ``file:`` URI names."""
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise HeronError.invalid(
                f"Artifact URI {uri!r} names host {parsed.netloc!r}: file URIs must be local "
                "(file:///absolute/path)."
            )
        return os.path.abspath(url2pathname(parsed.path))
    return os.path.abspath(uri)


def write_atomically(dest: str, fill: Callable[[BinaryIO], None]) -> None:
    """Create ``dest`` (and its folders) from ``fill(file)`` through a temporary file and a rename."""
    parent = os.path.dirname(dest)
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, TMP_PREFIX + uuid.uuid4().hex)
    # 0o666 through os.open so the umask applies, as for any new file (mkstemp would force 0o600).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _copy_from(source: str) -> Callable[[BinaryIO], None]:
    def fill(out: BinaryIO) -> None:
        with open(source, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)

    return fill


class LocalArtifactRepository(ArtifactRepository):
    """Artifacts in the folder ``artifact_uri`` names; created on first write."""

    def __init__(self, artifact_uri: str) -> None:
        super().__init__(artifact_uri)
        self.root = local_path_from_uri(artifact_uri)

    # ------------------------------------------------------------------------------------------- write

    def _writable(self, rel: str) -> str:
        real = contained_real_path(self.root, rel)
        if os.path.isdir(real):
            raise HeronError.invalid(f"Cannot write artifact {rel!r}: a folder of that name exists.")
        parent = os.path.dirname(real)
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        if not os.path.isdir(parent):
            raise HeronError.invalid(
                f"Cannot write artifact {rel!r}: {parent!r} is a file, so it cannot hold a folder."
            )
        return real

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        real = self._writable(file_path(artifact_file))

        def fill(out: BinaryIO) -> None:
            out.write(data)

        write_atomically(real, fill)

    def log_artifact(self, local_file: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        source = source_file(local_file)
        rel = file_path(join_key(relative_path(artifact_path), os.path.basename(source)))
        real = self._writable(rel)
        write_atomically(real, _copy_from(source))
        shutil.copystat(source, real)  # like shutil.copy2 (MLflow): keep mode and times

    def log_artifacts(self, local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
        base = relative_path(artifact_path)
        files = source_tree(local_dir)
        targets = [(self._writable(file_path(join_key(base, rel))), real) for rel, real in files]
        for target, source in targets:
            write_atomically(target, _copy_from(source))
            shutil.copystat(source, target)

    # -------------------------------------------------------------------------------------------- read

    def read_bytes(self, artifact_file: str) -> bytes:
        rel = file_path(artifact_file)
        real = contained_real_path(self.root, rel)
        if not os.path.isfile(real):
            raise HeronError.not_found(f"No artifact file {rel!r} under {self.artifact_uri!r}.")
        with open(real, "rb") as f:
            return f.read()

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = relative_path(path)
        real_dir = contained_real_path(self.root, rel)
        if not os.path.isdir(real_dir):
            return []
        real_root = os.path.realpath(self.root)
        infos = []
        for name in os.listdir(real_dir):
            if name.startswith(TMP_PREFIX):
                continue
            real = os.path.realpath(os.path.join(real_dir, name))
            if not is_within(real, real_root):
                continue  # a link out of the root is not an artifact of this run
            child = join_key(rel, name)
            if os.path.isdir(real):
                infos.append(FileInfo(child, True, None))
            elif os.path.isfile(real):
                infos.append(FileInfo(child, False, os.path.getsize(real)))
        return sorted(infos, key=lambda info: info.path)

    def _download_file(self, artifact_file: str, local_file: str) -> bool:
        real = contained_real_path(self.root, artifact_file)
        if not os.path.isfile(real):
            return False
        write_atomically(local_file, _copy_from(real))
        return True

    def _iter_files(self, artifact_dir: str) -> list[str]:
        real_dir = contained_real_path(self.root, artifact_dir)
        if not os.path.isdir(real_dir):
            return []
        return [
            join_key(artifact_dir, rel)
            for rel, _ in walk_files(real_dir, on_escape="skip", boundary=self.root)
            if not rel.rsplit("/", 1)[-1].startswith(TMP_PREFIX)
        ]

    # ------------------------------------------------------------------------------------------ delete

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        rel = relative_path(artifact_path)
        if not rel:
            real_root = os.path.realpath(self.root)
            if os.path.isdir(real_root):
                shutil.rmtree(real_root)
            return
        # Resolve the parent only: deleting a symlink removes the link, never what it points to.
        parent_rel, _, name = rel.rpartition("/")
        entry = os.path.join(contained_real_path(self.root, parent_rel), name)
        if os.path.islink(entry) or os.path.isfile(entry):
            os.unlink(entry)
        elif os.path.isdir(entry):
            shutil.rmtree(entry)  # rmtree unlinks symlinks inside; it never follows them
        else:
            return
        self._prune_empty_folders(os.path.dirname(entry))

    def _prune_empty_folders(self, folder: str) -> None:
        # Folders exist only while they hold files (as S3 prefixes do): remove the ones left empty.
        real_root = os.path.realpath(self.root)
        while folder != real_root and is_within(folder, real_root):
            try:
                os.rmdir(folder)  # fails when not empty, e.g. a concurrent write: then stop
            except OSError:
                return
            folder = os.path.dirname(folder)


def source_file(local_file: str | os.PathLike[str]) -> str:
    source = os.path.abspath(os.fspath(local_file))
    if not os.path.isfile(source):
        what = "a folder (use log_artifacts)" if os.path.isdir(source) else "missing"
        raise HeronError.invalid(f"Cannot log artifact {source!r}: it is {what}; expected an existing file.")
    return source


def source_tree(local_dir: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Every file to copy from ``local_dir``; raises before anything is copied if a link points out."""
    folder = os.path.abspath(os.fspath(local_dir))
    if not os.path.isdir(folder):
        raise HeronError.invalid(f"Cannot log artifacts from {folder!r}: it is not an existing folder.")
    return list(walk_files(folder, on_escape="raise"))
