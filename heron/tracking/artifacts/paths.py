"""Artifact paths: the one validator of relative paths, and containment checks on local files.

An artifact path is relative to a run's artifact root and uses ``/`` between segments. Every repository
passes user-given paths through :func:`relative_path` or :func:`file_path` before touching storage, so
that no path can name anything outside the root. On the local filesystem, symlinks are checked too:
:func:`contained_real_path` resolves real paths and :func:`walk_files` never follows a link out of the
folder being walked.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
from collections.abc import Iterator

from heron.errors import HeronError

__all__ = ["relative_path", "file_path", "join_key", "contained_real_path", "is_within", "walk_files"]

_logger = logging.getLogger(__name__)

_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_ALLOWED = (
    "expected a relative path such as 'plots/loss.png': '/'-separated names, no leading '/', "
    "no '..' segments, no backslashes, no drive letters and no NUL bytes"
)


def _invalid(path: object, why: str) -> HeronError:
    return HeronError.invalid(f"Invalid artifact path {path!r}: {why}; {_ALLOWED}.")


def relative_path(path: str | None) -> str:
    """Check ``path`` and return it normalised (``""`` means the root itself).

    ``None``, ``""``, ``"."`` and ``"./"`` mean the root. ``a//b``, ``a/./b`` and a trailing ``/`` are
    normalised away. Raises HeronError(INVALID_PARAMETER_VALUE) for anything that could name a file
    outside the root: an absolute path, a ``..`` segment, a backslash, a drive letter, a NUL byte.
    """
    if path is None:
        return ""
    if not isinstance(path, str):
        raise _invalid(path, f"expected a string, got {type(path).__name__}")
    if "\x00" in path:
        raise _invalid(path, "it contains a NUL byte")
    # On Windows '\' separates folders, so 'a\..\..\x' would climb out; no artifact name needs one.
    if "\\" in path:
        raise _invalid(path, "it contains a backslash (use '/' between folders)")
    if _DRIVE_RE.match(path):
        raise _invalid(path, "it starts with a drive letter")
    if path.startswith("/"):
        raise _invalid(path, "it is absolute")
    if ".." in path.split("/"):
        raise _invalid(path, "it contains a '..' segment")
    normal = posixpath.normpath(path)
    if normal == ".":
        return ""
    # Belt and braces: nothing above lets normpath produce these, but the check is what matters.
    if normal.startswith("/") or ".." in normal.split("/"):
        raise _invalid(path, "it leaves the artifact root once normalised")
    return normal


def file_path(path: str) -> str:
    """Like :func:`relative_path`, for a path that must name a file: not the root, no trailing ``/``."""
    if isinstance(path, str) and (path.endswith("/") or path.endswith("/.")):
        raise _invalid(path, "it names a folder, not a file")
    normal = relative_path(path)
    if not normal:
        raise _invalid(path, "it names the artifact root, not a file")
    return normal


def join_key(*parts: str) -> str:
    """Join already-validated relative paths with ``/`` (empty parts are skipped)."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def is_within(real_path: str, real_root: str) -> bool:
    """Whether ``real_path`` is ``real_root`` or below it (both already resolved with realpath)."""
    try:
        return os.path.commonpath([real_path, real_root]) == real_root
    except ValueError:  # different drives on Windows
        return False


def contained_real_path(root: str, rel: str) -> str:
    """The real path of ``root/rel``, after checking that symlinks do not lead it out of ``root``.

    ``rel`` must already be validated. A path that does not exist yet is resolved as far as it exists.
    Raises HeronError(INVALID_PARAMETER_VALUE) when a symlink points outside ``root``.
    """
    real_root = os.path.realpath(root)
    candidate = os.path.join(real_root, *rel.split("/")) if rel else real_root
    real = os.path.realpath(candidate)
    if not is_within(real, real_root):
        raise HeronError.invalid(
            f"Artifact path {rel!r} resolves to {real!r}, outside the artifact root {real_root!r} "
            "(through a symlink): artifacts may only name files inside their run's root."
        )
    return real


def walk_files(folder: str, *, on_escape: str, boundary: str | None = None) -> Iterator[tuple[str, str]]:
    """Every file below ``folder``: pairs of (``/``-separated path relative to folder, real path).

    Symlinks that stay inside ``boundary`` (default: ``folder``) are followed: their content is what
    counts. A symlink that resolves outside it, or back to one of its own parent folders, is refused
    when ``on_escape == "raise"`` (HeronError INVALID_PARAMETER_VALUE) or left out with a warning when
    ``on_escape == "skip"``. Empty folders yield nothing. Sorted, so results are reproducible.
    Lazy: a refusal can come after earlier files were yielded, so collect the list before copying.
    """
    real_dir = os.path.realpath(folder)
    real_boundary = real_dir if boundary is None else os.path.realpath(boundary)
    yield from _walk(real_boundary, real_dir, "", (real_dir,), on_escape)


def _walk(
    real_root: str, real_dir: str, rel_dir: str, ancestors: tuple[str, ...], on_escape: str
) -> Iterator[tuple[str, str]]:
    try:
        names = sorted(os.listdir(real_dir))
    except FileNotFoundError:
        return
    for name in names:
        rel = f"{rel_dir}/{name}" if rel_dir else name
        entry = os.path.join(real_dir, name)
        real = os.path.realpath(entry)
        problem = None
        if not is_within(real, real_root):
            problem = f"is a symlink to {real!r}, outside {real_root!r}"
        elif real in ancestors:
            problem = f"is a symlink to its own parent folder {real!r} (a loop)"
        if problem is not None:
            if on_escape == "raise":
                raise HeronError.invalid(
                    f"Refusing to copy {entry!r}: it {problem}. Only files inside the folder are copied; "
                    "replace the link with a copy of what it points to, or remove it."
                )
            _logger.warning("Skipping artifact %r: it %s.", entry, problem)
            continue
        if os.path.isdir(real):
            yield from _walk(real_root, real, rel, (*ancestors, real), on_escape)
        elif os.path.isfile(real):
            yield rel, real
        # dangling links, sockets, fifos: not artifacts
