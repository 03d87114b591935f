"""The trace store of a tracking URI: the SQL store's database, or the Heron server it names."""

from __future__ import annotations

from heron.tracing.store import TraceStore
from heron.tracking.stores import get_sql_store
from heron.tracking.uri import resolve

__all__ = ["get_trace_store"]


def get_trace_store(uri: str | None = None) -> TraceStore:
    """The trace store for ``uri`` (or the tracking URI in force), opened on first use. Thread-safe.

    Raises HeronError when the store cannot be opened.
    """
    location = resolve(uri)
    if location.kind == "rest":
        # httpx: imported when a server is first used, never by `import heron`.
        from heron.tracing.reststore import RestTraceStore
        from heron.tracking.remote import server_for

        return RestTraceStore(server_for(location.uri))
    # SQLAlchemy is heavy: loaded when traces are first read, not by `import heron.tracing`.
    from heron.tracing.sqlstore import SqlTraceStore

    return SqlTraceStore(get_sql_store(uri).db)
