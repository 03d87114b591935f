"""Tracking URIs: what the user gives and what store and artifact root it means."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from urllib.parse import urlparse

from heron import config
from heron.errors import HeronError

__all__ = ["StoreLocation", "configured_tracking_uri", "get_tracking_uri", "resolve", "set_tracking_uri"]

DEFAULT_DB = "heron.db"
DEFAULT_ARTIFACTS = "heron-artifacts"

_lock = threading.Lock()
_tracking_uri: str | None = None


@dataclass(frozen=True)
class StoreLocation:
    """A resolved tracking URI.

    ``kind`` is ``"sql"`` or ``"rest"``; ``db_url`` the SQLAlchemy URL for SQL stores;
    ``artifact_root`` where new experiments keep their artifacts.
    """

    uri: str
    kind: str
    db_url: str
    artifact_root: str


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Set the tracking URI for this process (``None`` goes back to the environment/default)."""
    global _tracking_uri
    with _lock:
        _tracking_uri = None if uri is None else os.fspath(uri)


def configured_tracking_uri() -> str | None:
    """The URI as configured (set_tracking_uri, else HERON_TRACKING_URI), unresolved; None for the default.

    Cheap enough for hot paths: no filesystem call (``get_tracking_uri`` resolves relative paths).
    """
    return _tracking_uri or config.TRACKING_URI.get()


def get_tracking_uri() -> str:
    """The tracking URI in force: set_tracking_uri, else HERON_TRACKING_URI, else ./heron.db."""
    return resolve(None).uri


def _sqlite_location(uri: str, db_path: str, artifact_dir: str | None = None) -> StoreLocation:
    db_path = os.path.abspath(db_path)
    root = (
        config.ARTIFACT_ROOT.get()
        or artifact_dir
        or os.path.join(os.path.dirname(db_path), DEFAULT_ARTIFACTS)
    )
    return StoreLocation(uri=uri, kind="sql", db_url=f"sqlite+pysqlite:///{db_path}", artifact_root=root)


_cache: dict[tuple[str | None, str | None, str], StoreLocation] = {}


def resolve(uri: str | None) -> StoreLocation:
    """Resolve ``uri`` (or the one in force when ``None``) into a StoreLocation.

    Raises HeronError(INVALID_PARAMETER_VALUE) for a scheme Heron does not store to.
    """
    if uri is None:
        uri = _tracking_uri or config.TRACKING_URI.get()
    # Every fluent call resolves the URI: remember answers (relative paths depend on the cwd).
    key = (uri, config.ARTIFACT_ROOT.get(), os.getcwd())
    found = _cache.get(key)
    if found is None:
        found = _resolve(uri)
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = found
    return found


def _resolve(uri: str | None) -> StoreLocation:
    if not uri:
        return _sqlite_location("sqlite:///" + os.path.abspath(DEFAULT_DB), DEFAULT_DB)
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "sqlite":
        path = uri.split(":///", 1)[1] if ":///" in uri else ""
        if not path or path == ":memory:":
            raise HeronError.invalid(
                f"Tracking URI {uri!r} names no database file: expected sqlite:///path/to/heron.db "
                "(an in-memory database would lose everything at exit)."
            )
        return _sqlite_location(uri, path)
    if scheme in ("postgresql", "postgres") or scheme.startswith("postgresql+"):
        db_url = "postgresql+psycopg://" + uri.split("://", 1)[1]
        root = config.ARTIFACT_ROOT.get() or os.path.abspath(DEFAULT_ARTIFACTS)
        return StoreLocation(uri=uri, kind="sql", db_url=db_url, artifact_root=root)
    if scheme in ("http", "https"):
        return StoreLocation(uri=uri, kind="rest", db_url="", artifact_root="")
    if scheme == "file" or scheme == "" or (len(scheme) == 1 and os.name == "nt"):
        folder = parsed.path if scheme == "file" and uri.startswith("file://") else uri.removeprefix("file:")
        folder = os.path.abspath(folder)
        return _sqlite_location(
            uri, os.path.join(folder, DEFAULT_DB), artifact_dir=os.path.join(folder, DEFAULT_ARTIFACTS)
        )
    raise HeronError.invalid(
        f"Tracking URI {uri!r} has scheme {scheme!r}: expected sqlite:///FILE, postgresql://..., "
        "a folder path (file:PATH), or http(s)://HOST:PORT."
    )
