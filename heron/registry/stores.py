"""The registry store of a tracking URI: the registry lives in the tracking store's database, or on the
Heron server an ``http(s)://`` URI names."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from heron.registry.store import RegistryStore
from heron.tracking.stores import get_sql_store
from heron.tracking.uri import resolve

if TYPE_CHECKING:
    from heron.registry.rest import RestRegistryStore
    from heron.registry.sqlstore import SqlRegistryStore
    from heron.tracking.store.sql import SqlTrackingStore

__all__ = ["get_registry_store"]

_lock = threading.Lock()
# Keyed by the tracking store, so a closed and reopened store (clear_store_cache) gets a fresh registry.
_stores: weakref.WeakKeyDictionary[SqlTrackingStore, SqlRegistryStore] = weakref.WeakKeyDictionary()
_rest_stores: dict[str, RestRegistryStore] = {}


def get_registry_store(uri: str | None = None) -> RegistryStore:
    """The registry store for ``uri`` (or the tracking URI in force), opened on first use. Thread-safe."""
    location = resolve(uri)
    if location.kind != "sql":
        return _rest_store(location.uri)
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


def _rest_store(uri: str) -> RestRegistryStore:
    rest = _rest_stores.get(uri)
    if rest is None:
        # httpx is imported with the REST store: only when a server URI is used.
        from heron.registry.rest import RestRegistryStore

        with _lock:
            rest = _rest_stores.setdefault(uri, RestRegistryStore(uri))
    return rest
