"""The registry store of a tracking URI: the registry lives in the tracking store's database."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from heron.errors import NOT_IMPLEMENTED, HeronError
from heron.registry.store import RegistryStore
from heron.tracking.stores import get_sql_store
from heron.tracking.uri import resolve

if TYPE_CHECKING:
    from heron.registry.sqlstore import SqlRegistryStore
    from heron.tracking.store.sql import SqlTrackingStore

__all__ = ["get_registry_store"]

_lock = threading.Lock()
# Keyed by the tracking store, so a closed and reopened store (clear_store_cache) gets a fresh registry.
_stores: weakref.WeakKeyDictionary[SqlTrackingStore, SqlRegistryStore] = weakref.WeakKeyDictionary()


def get_registry_store(uri: str | None = None) -> RegistryStore:
    """The registry store for ``uri`` (or the tracking URI in force), opened on first use. Thread-safe."""
    if resolve(uri).kind != "sql":
        raise HeronError(
            f"Tracking URI {resolve(uri).uri!r} names a Heron server; the registry over REST is not available "
            "yet. Use sqlite:///FILE, postgresql://... or a folder path.",
            NOT_IMPLEMENTED,
        )
    tracking = get_sql_store(uri)
    store = _stores.get(tracking)
    if store is None:
        # SQLAlchemy is heavy: imported when a registry is first used, never by `import heron`.
        from heron.registry.sqlstore import SqlRegistryStore

        with _lock:
            store = _stores.get(tracking)
            if store is None:
                store = SqlRegistryStore(tracking.db)
                _stores[tracking] = store
    return store
