"""One tracking store per tracking URI per process, opened on first use."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from heron.errors import NOT_IMPLEMENTED, HeronError
from heron.tracking.store.base import TrackingStore
from heron.tracking.uri import StoreLocation, resolve

if TYPE_CHECKING:
    from heron.tracking.store.sql import SqlTrackingStore

__all__ = ["get_tracking_store", "get_sql_store", "clear_store_cache"]

_lock = threading.Lock()
_stores: dict[str, TrackingStore] = {}


def get_tracking_store(uri: str | None = None) -> TrackingStore:
    """The store for ``uri`` (or the tracking URI in force), created and migrated on first use."""
    if uri is not None:
        store = _stores.get(uri)  # a resolved URI (what a Client holds): no resolving on the hot path
        if store is not None:
            return store
    location = resolve(uri)
    store = _stores.get(location.uri)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(location.uri)
        if store is None:
            store = _open(location)
            _stores[location.uri] = store
    return store


def get_sql_store(uri: str | None = None) -> SqlTrackingStore:
    """The SQL store for ``uri``; raises if the URI names a remote server."""
    from heron.tracking.store.sql import SqlTrackingStore

    store = get_tracking_store(uri)
    if not isinstance(store, SqlTrackingStore):
        raise HeronError(f"Tracking URI {resolve(uri).uri!r} is not a SQL store.", NOT_IMPLEMENTED)
    return store


def _open(location: StoreLocation) -> TrackingStore:
    if location.kind == "sql":
        # SQLAlchemy is heavy: imported when a SQL store is first opened, never by `import heron`.
        from heron.tracking.store.sql import SqlTrackingStore

        return SqlTrackingStore(location)
    if location.kind == "rest":
        # httpx: imported when a server is first used, never by `import heron`.
        from heron.tracking.store.rest import RestTrackingStore

        return RestTrackingStore(location)
    raise HeronError(f"Tracking URI {location.uri!r} has an unknown store kind {location.kind!r}.", NOT_IMPLEMENTED)


def clear_store_cache() -> None:
    """Close every open store (tests use it between stores)."""
    with _lock:
        for store in _stores.values():
            db = getattr(store, "db", None)
            if db is not None:
                db.dispose()
        _stores.clear()
