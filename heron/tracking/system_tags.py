"""The tags every new run gets: who ran it, from which file, at which git commit (MLflow's names)."""

from __future__ import annotations

import functools
import getpass
import os
import sys
from pathlib import Path

USER = "mlflow.user"
SOURCE_NAME = "mlflow.source.name"
SOURCE_TYPE = "mlflow.source.type"
GIT_COMMIT = "mlflow.source.git.commit"
PARENT_RUN_ID = "mlflow.parentRunId"
NOTE = "mlflow.note.content"


@functools.cache
def user() -> str:
    """The OS user name, looked up once per process (a passwd lookup costs more than a metric write)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return os.environ.get("USER", "unknown")


@functools.cache
def source_tags() -> dict[str, str]:
    """Computed once per process: the main script cannot change under a running process."""
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None) or (sys.argv[0] if sys.argv and sys.argv[0] else "")
    tags = {USER: user(), SOURCE_TYPE: "LOCAL"}
    if script:
        path = Path(script).resolve()
        tags[SOURCE_NAME] = str(path)
        commit = git_commit(path.parent)
        if commit:
            tags[GIT_COMMIT] = commit
    return tags


def git_commit(start: Path) -> str | None:
    """The commit checked out in the git work tree holding ``start``, read from .git without running git."""
    for folder in (start, *start.parents):
        git = folder / ".git"
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = git.read_text(errors="replace").strip()
            if not text.startswith("gitdir:"):
                return None
            git = (folder / text.split(":", 1)[1].strip()).resolve()
        if git.is_dir():
            return _read_head(git)
    return None


def _read_head(git: Path) -> str | None:
    try:
        head = (git / "HEAD").read_text().strip()
    except OSError:
        return None
    if not head.startswith("ref:"):
        return head or None
    ref = head.split(":", 1)[1].strip()
    common = git
    commondir = git / "commondir"
    if commondir.is_file():
        common = (git / commondir.read_text().strip()).resolve()
    for base in (git, common):
        ref_file = base / ref
        if ref_file.is_file():
            return ref_file.read_text().strip() or None
    packed = common / "packed-refs"
    if packed.is_file():
        for line in packed.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref:
                return parts[0]
    return None  # a fresh repository with no commit yet
