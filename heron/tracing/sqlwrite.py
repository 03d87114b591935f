"""The fast write path of traces into the SQL store: plain SQL in big ``executemany`` batches.

The trace row is upserted as a trace's spans arrive, in any order and over several batches: token
totals, cost and span counts add up; start is the earliest, end the latest; the name, status and
previews come from the trace's root span (its first span in the process) whenever it arrives, and an
explicit name from ``update_current_trace(name=...)`` wins over the root's. Spans already stored are
left out first (``TraceWriter.unseen``), so a batch written again adds nothing. Statements are written once
with ``?`` parameters (positional: sqlite3 binds them several times faster than named ones) and
converted to psycopg's ``%s`` for PostgreSQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any, TypeVar

from heron.tracing.jsontext import dumps
from heron.tracing.pending import PendingSpan, attributes_json
from heron.tracing.usage import TracePartial

__all__ = ["TraceWriter"]

_UPSERT_TRACE = """
INSERT INTO traces (trace_id, experiment_id, run_id, name, status, start_time, end_time, root_span_id,
    request_preview, response_preview, input_tokens, output_tokens, total_tokens, cached_input_tokens, cost,
    unpriced_spans, span_count, session_id, user_id)
VALUES (?, ?, ?, COALESCE(CAST(? AS VARCHAR(500)), ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (trace_id) DO UPDATE SET
    run_id = COALESCE(traces.run_id, excluded.run_id),
    name = COALESCE(CAST(? AS VARCHAR(500)), traces.name, excluded.name),
    status = CASE WHEN traces.status = 'ERROR' OR excluded.status = 'ERROR' THEN 'ERROR'
                  WHEN excluded.status = 'IN_PROGRESS' THEN traces.status ELSE excluded.status END,
    start_time = CASE WHEN excluded.start_time < traces.start_time THEN excluded.start_time
                      ELSE traces.start_time END,
    end_time = CASE WHEN excluded.end_time IS NULL THEN traces.end_time
                    WHEN traces.end_time IS NULL OR excluded.end_time > traces.end_time THEN excluded.end_time
                    ELSE traces.end_time END,
    root_span_id = COALESCE(traces.root_span_id, excluded.root_span_id),
    request_preview = CASE WHEN traces.root_span_id IS NULL THEN excluded.request_preview
                           ELSE traces.request_preview END,
    response_preview = CASE WHEN traces.root_span_id IS NULL THEN excluded.response_preview
                            ELSE traces.response_preview END,
    input_tokens = traces.input_tokens + excluded.input_tokens,
    output_tokens = traces.output_tokens + excluded.output_tokens,
    total_tokens = traces.total_tokens + excluded.total_tokens,
    cached_input_tokens = traces.cached_input_tokens + excluded.cached_input_tokens,
    cost = COALESCE(traces.cost + excluded.cost, traces.cost, excluded.cost),
    unpriced_spans = traces.unpriced_spans + excluded.unpriced_spans,
    span_count = traces.span_count + excluded.span_count,
    session_id = COALESCE(excluded.session_id, traces.session_id),
    user_id = COALESCE(excluded.user_id, traces.user_id)
"""

_EXPLICIT_NAME_UPDATE = "name = COALESCE(CAST(? AS VARCHAR(500)), traces.name"
assert _EXPLICIT_NAME_UPDATE in _UPSERT_TRACE

_INSERT_SPAN = (
    "INSERT INTO spans (trace_id, span_id, parent_span_id, name, span_type, status, status_message, "
    "start_time_ns, end_time_ns, inputs, outputs, attributes, events) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (trace_id, span_id) DO NOTHING"
)
_UPSERT_KV = (
    'INSERT INTO {table} (trace_id, "key", "value") VALUES (?, ?, ?) '
    'ON CONFLICT (trace_id, "key") DO UPDATE SET "value" = excluded."value"'
)



_SEEN_HEAD = "SELECT trace_id, span_id FROM spans WHERE trace_id IN ("
_S = TypeVar("_S", bound=tuple[Any, ...])

# A None to bind, without its cost: Python's sqlite3 (3.11) sends every None through its adapter look-up,
# which raises and clears an AttributeError inside (~1 µs a None, against ~0.3 for an int; a chat span
# and its trace row carry seven). A zero-length bytearray binds directly, as an empty blob, and the
# NULLIF(?, x'') that a multi-row statement wraps its nullable parameters in turns it back into NULL. No
# column Heron writes holds blobs, so no real value is ever taken for it. The row builders put it only
# where the statement wraps (``_TRACE_NULLABLE``, ``_SPAN_NULLABLE``).
_NULL = bytearray()
_TRACE_NULLABLE = (2, 3, 4, 7, 8, 9, 10, 15, 18, 19)  # run, explicit name, name, end, root, previews, cost, …
_SPAN_NULLABLE = (2, 6, 9, 10, 12)  # parent, status message, inputs, outputs, events

# Rows per multi-row statement on SQLite, largest first (any count is a sum of these). Each size's text
# is built once and stays in sqlite3's statement cache. A full export batch (4,096 spans) is four
# statements a table.
_CHUNKS = (1024, 256, 64, 16, 4, 1)


class _MultiRow:
    """One INSERT of many rows a statement on SQLite: ``VALUES (…), (…), …``.

    Python's sqlite3 releases the GIL around every step (and every reset), so ``executemany`` hands the
    GIL away once per row; while the traced code runs Python, the export thread then waits up to the
    interpreter's switch interval (5 ms) to get it back, a row at a time, and the queue of finished spans
    grows (and with it the garbage collector's work). One statement of 1,024 rows is one step: SQLite
    works on its own core while the traced code runs, and the GIL changes hands once per 1,024 rows.
    """

    def __init__(self, statement: str, nullable: Sequence[int] = ()) -> None:
        """``nullable``: the positions of the row's parameters that may be ``_NULL`` (see there)."""
        head, rest = statement.split("VALUES ", 1)
        row, self._tail = _split_row(rest)
        if "?" in self._tail:
            raise ValueError("a multi-row statement binds parameters only in its VALUES row")
        self._head = head + "VALUES "
        self._width = row.count("?")
        if any(not 0 <= i < self._width for i in nullable):
            raise ValueError(f"nullable positions {sorted(nullable)} outside a row of {self._width} parameters")
        parts = row.split("?")
        self._row = parts[0] + "".join(("NULLIF(?, x'')" if i in nullable else "?") + part
                                       for i, part in enumerate(parts[1:]))
        self._texts: dict[int, str] = {}
        self._chunks: tuple[int, ...] | None = None

    def text(self, rows: int) -> str:
        found = self._texts.get(rows)
        if found is None:
            found = self._texts[rows] = self._head + ", ".join([self._row] * rows) + self._tail
        return found

    def run(self, cursor: Any, rows: Sequence[tuple[Any, ...]]) -> None:
        chunks = self._chunks
        if chunks is None:  # sizes within the connection's limit on bound parameters
            chunks = self._chunks = _chunks_within(_variable_limit(cursor), self._width)
        start, total = 0, len(rows)
        for size in chunks:
            if total - start >= size:
                text = self.text(size)
                while total - start >= size:
                    cursor.execute(text, list(chain.from_iterable(rows[start:start + size])))
                    start += size


_LIMIT_VARIABLE_NUMBER = getattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER", 9)


def _variable_limit(cursor: Any) -> int:
    """How many parameters one statement may bind: SQLite's limit is 32,766 since 3.32, 999 before."""
    getlimit = getattr(getattr(cursor, "connection", None), "getlimit", None)  # Python 3.11+
    if getlimit is not None:
        try:
            return int(getlimit(_LIMIT_VARIABLE_NUMBER))
        except (sqlite3.Error, AttributeError):
            pass
    return 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


def _chunks_within(limit: int, width: int) -> tuple[int, ...]:
    return tuple(size for size in _CHUNKS if size * width <= limit) or (1,)


def _split_row(rest: str) -> tuple[str, str]:
    """``(?, ?, …) ON CONFLICT …`` -> the parenthesised row and what follows it."""
    depth = 0
    for i, char in enumerate(rest):
        depth += char == "("
        depth -= char == ")"
        if depth == 0:
            return rest[:i + 1], rest[i + 1:]
    raise ValueError("unbalanced VALUES row")


class TraceWriter:
    """The statements above in one database's parameter style; ``write`` runs them on a DBAPI cursor."""

    def __init__(self, is_sqlite: bool) -> None:
        self._multi: tuple[_MultiRow, _MultiRow] | None = None
        self._seen_chunks: tuple[int, ...] | None = None
        if is_sqlite:
            self.upsert_trace = _UPSERT_TRACE
            self.insert_span = _INSERT_SPAN
            self.upsert_tag = _UPSERT_KV.format(table="trace_tags")
            self.upsert_metadata = _UPSERT_KV.format(table="trace_metadata")
            # Traces without an explicit name (nearly all) go many a statement; the explicit name is the
            # one parameter bound in the DO UPDATE clause too.
            self._multi = (_MultiRow(_UPSERT_TRACE.replace(_EXPLICIT_NAME_UPDATE, "name = COALESCE(traces.name"),
                                     _TRACE_NULLABLE),
                           _MultiRow(_INSERT_SPAN, _SPAN_NULLABLE))
        else:
            self.upsert_trace = _UPSERT_TRACE.replace("?", "%s")
            self.insert_span = _INSERT_SPAN.replace("?", "%s")
            self.upsert_tag = _UPSERT_KV.format(table="trace_tags").replace("?", "%s")
            self.upsert_metadata = _UPSERT_KV.format(table="trace_metadata").replace("?", "%s")

    def unseen(self, cursor: Any, spans: list[_S]) -> list[_S]:
        """``spans`` (``(PendingSpan, …)`` pairs) without those already stored or repeated among them:
        a span written twice (an OTLP exporter retrying after a timeout sends the same spans again) must
        not add to its trace's span count, tokens and cost twice. Call in the write transaction, before
        ``summarize``. One indexed look-up per trace; ``spans`` itself back when nothing was seen."""
        trace_ids = list({item[0].trace_id: None for item in spans})
        stored: set[tuple[str, str]] = set()
        if self._multi is not None:  # SQLite: statements of a few fixed sizes, kept in its statement cache
            chunks = self._seen_chunks
            if chunks is None:
                chunks = self._seen_chunks = _chunks_within(_variable_limit(cursor), 1)
            start, total = 0, len(trace_ids)
            for size in chunks:
                while total - start >= size:
                    cursor.execute(_SEEN_HEAD + ", ".join(["?"] * size) + ")", trace_ids[start:start + size])
                    stored.update(cursor.fetchall())
                    start += size
        elif trace_ids:
            cursor.execute("SELECT trace_id, span_id FROM spans WHERE trace_id = ANY(%s)", (trace_ids,))
            stored.update(cursor.fetchall())
        if not stored and len({(item[0].trace_id, item[0].span_id) for item in spans}) == len(spans):
            return spans
        kept = []
        for item in spans:
            key = (item[0].trace_id, item[0].span_id)
            if key not in stored:
                stored.add(key)
                kept.append(item)
        return kept

    def write(self, cursor: Any, partials: Iterable[TracePartial], spans: Iterable[PendingSpan]) -> None:
        """Upsert the trace rows, then insert the spans (which reference them). Raises on a DB error."""
        parts = list(partials)
        multi = self._multi
        if multi is not None:  # SQLite: many rows a statement (see _MultiRow)
            named = [p for p in parts if p.explicit_name is not None]
            if named:
                cursor.executemany(self.upsert_trace, map(_trace_params, named))
            multi[0].run(cursor, [_trace_params(p, _NULL)[:-1] for p in parts if p.explicit_name is None])
        else:
            cursor.executemany(self.upsert_trace, map(_trace_params, parts))
        tags = [(p.trace_id, k, v) for p in parts for k, v in p.tags.items()]
        if tags:
            cursor.executemany(self.upsert_tag, tags)
        metadata = [(p.trace_id, k, v) for p in parts for k, v in p.metadata.items()]
        if metadata:
            cursor.executemany(self.upsert_metadata, metadata)
        if multi is not None:
            multi[1].run(cursor, [_span_row(s, _NULL) for s in spans])
        else:
            cursor.executemany(self.insert_span, map(_span_row, spans))


def _trace_params(p: TracePartial, null: Any = None) -> tuple[Any, ...]:
    """The trace row's parameters; ``null`` stands for None at the ``_TRACE_NULLABLE`` positions."""
    # positional: binding 20 named parameters costs sqlite3 more than the insert itself
    return (p.trace_id, _experiment_id(p.experiment_id), null if p.run_id is None else p.run_id,
            null if p.explicit_name is None else p.explicit_name, null if p.name is None else p.name, p.status,
            p.start_time_ms, null if p.end_time_ms is None else p.end_time_ms,
            null if p.root_span_id is None else p.root_span_id,
            null if p.request_preview is None else p.request_preview,
            null if p.response_preview is None else p.response_preview, p.input_tokens,
            p.output_tokens, p.total_tokens, p.cached_input_tokens, null if p.cost is None else p.cost,
            p.unpriced_spans, p.span_count, null if p.session_id is None else p.session_id,
            null if p.user_id is None else p.user_id, p.explicit_name)


def _experiment_id(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0  # not an id of this store (e.g. a bad HERON_EXPERIMENT_ID): keep the trace in Default


def _span_row(s: PendingSpan, null: Any = None) -> tuple[Any, ...]:
    """The span row; ``null`` stands for None at the ``_SPAN_NULLABLE`` positions."""
    events = null
    if s.events:
        events = attributes_json_list(
            [{"name": e.name, "timestamp_ns": e.timestamp_ns, "attributes": e.attributes} for e in s.events]
        )
    return (s.trace_id, s.span_id, null if s.parent_id is None else s.parent_id, s.name, s.span_type[:64], s.status,
            null if s.status_message is None else s.status_message, s.start_time_ns, s.end_time_ns,
            null if s.inputs_json is None else s.inputs_json, null if s.outputs_json is None else s.outputs_json,
            attributes_json(s.attributes), events)


def attributes_json_list(events: list[dict[str, Any]]) -> str:
    try:
        return dumps(events)
    except (TypeError, ValueError):
        return dumps([{**e, "attributes": json.loads(attributes_json(e["attributes"]))} for e in events])
