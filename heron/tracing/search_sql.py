"""Trace search in SQL: the filter AST of ``heron.tracing.search`` as SQLAlchemy Core over ``traces``.

Tags, metadata and span conditions are correlated EXISTS on their tables' (trace_id, …) keys, so the
database walks ``ix_traces_experiment_start_covering`` and stops at the LIMIT. Every user value is a bound
parameter. LIKE is case-sensitive and ILIKE case-insensitive on both SQLite (GLOB; ``lower() LIKE
lower()``) and PostgreSQL, as in run search. ``span.attributes.KEY`` reads the span's JSON attributes
(``json_extract`` on SQLite, ``jsonb`` on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ColumnElement

from heron.tracing import search
from heron.tracking.store.schema import spans, trace_metadata, trace_tags, traces
from heron.tracking.store.search_sql import compare

__all__ = ["condition", "ordering", "trace_column"]

_COLUMNS: dict[str, ColumnElement[Any]] = {
    "trace_id": traces.c.trace_id,
    "name": traces.c.name,
    "status": traces.c.status,
    "run_id": traces.c.run_id,
    "session_id": traces.c.session_id,
    "user_id": traces.c.user_id,
    "timestamp_ms": traces.c.start_time,
    "execution_time_ms": (traces.c.end_time - traces.c.start_time),
    "input_tokens": traces.c.input_tokens,
    "output_tokens": traces.c.output_tokens,
    "total_tokens": traces.c.total_tokens,
    "cached_input_tokens": traces.c.cached_input_tokens,
    "cost": traces.c.cost,
    "unpriced_spans": traces.c.unpriced_spans,
    "span_count": traces.c.span_count,
}
_NULLABLE = frozenset({"name", "run_id", "session_id", "user_id", "execution_time_ms", "cost"})
_SPAN_COLUMNS: dict[str, ColumnElement[Any]] = {
    "name": spans.c.name, "type": spans.c.span_type, "status": spans.c.status,
}


def trace_column(field: str) -> ColumnElement[Any]:
    return _COLUMNS[field]


def condition(expr: search.Expr, sqlite: bool) -> ColumnElement[bool]:
    """The WHERE condition on ``traces`` for ``expr``."""
    if isinstance(expr, search.And):
        return sa.and_(*(condition(e, sqlite) for e in sorted(expr.operands, key=_cost)))
    if isinstance(expr, search.Or):
        return sa.or_(*(condition(e, sqlite) for e in expr.operands))
    if expr.entity == "trace":
        if expr.key == "text":
            return _text(expr.op, str(expr.value), sqlite)
        return compare(_COLUMNS[expr.key], expr.op, expr.value, sqlite)
    if expr.entity in ("tag", "metadata"):
        table = trace_tags if expr.entity == "tag" else trace_metadata
        linked = [table.c.trace_id == traces.c.trace_id, table.c.key == expr.key]
        if expr.op == "IS NULL":
            return ~sa.exists().where(*linked)
        if expr.op == "IS NOT NULL":
            return sa.exists().where(*linked)
        return sa.exists().where(*linked, compare(table.c.value, expr.op, expr.value, sqlite))
    # span
    linked = [spans.c.trace_id == traces.c.trace_id]
    if expr.key.startswith("attributes."):
        key = expr.key[len("attributes."):]
        numeric = isinstance(expr.value, int | float) or (
            isinstance(expr.value, tuple) and bool(expr.value) and not isinstance(expr.value[0], str))
        value = _json_attribute(key, numeric, sqlite)
        if expr.op == "IS NULL":
            return ~sa.exists().where(*linked, value.is_not(None))
        return sa.exists().where(*linked, compare(value, expr.op, expr.value, sqlite))
    column = _SPAN_COLUMNS[expr.key]
    if expr.op == "IS NULL":
        return ~sa.exists().where(*linked)
    return sa.exists().where(*linked, compare(column, expr.op, expr.value, sqlite))


def ordering(orders: list[search.OrderBy]) -> list[ColumnElement[Any]]:
    """ORDER BY terms: the clauses given, then newest first, then trace id (a stable page order)."""
    terms: list[ColumnElement[Any]] = []
    for order in orders:
        column = _COLUMNS[order.field]
        if order.field in _NULLABLE:  # missing values last (kept off NOT NULL columns: it defeats their index)
            terms.append(sa.case((column.is_(None), 1), else_=0))
        terms.append(column.asc() if order.ascending else column.desc())
    fields = {o.field for o in orders}
    if "timestamp_ms" not in fields:
        terms.append(traces.c.start_time.desc())
    if "trace_id" not in fields:
        terms.append(traces.c.trace_id.asc())
    return terms


def _cost(expr: search.Expr) -> int:
    """SQLite tests AND terms in the order written: columns of the row first, EXISTS and text last."""
    if not isinstance(expr, search.Comparison):
        return 3
    if expr.entity == "trace":
        return 2 if expr.key == "text" else 0
    return 1


def _text(op: str, pattern: str, sqlite: bool) -> ColumnElement[bool]:
    """Full text over the previews and every span's inputs and outputs."""
    spans_match = sa.exists().where(
        spans.c.trace_id == traces.c.trace_id,
        sa.or_(compare(spans.c.inputs, op, pattern, sqlite), compare(spans.c.outputs, op, pattern, sqlite)),
    )
    return sa.or_(compare(traces.c.request_preview, op, pattern, sqlite),
                  compare(traces.c.response_preview, op, pattern, sqlite), spans_match)


def _json_attribute(key: str, numeric: bool, sqlite: bool) -> ColumnElement[Any]:
    if sqlite:
        path = '$."' + key.replace('"', '""') + '"'
        return sa.func.json_extract(spans.c.attributes, path)
    document = sa.cast(spans.c.attributes, postgresql.JSONB)
    text = sa.type_coerce(document.op("->>")(key), sa.String)
    if not numeric:
        return text
    # a number only where the attribute is one (a cast of any other text would fail the query)
    kind = sa.func.jsonb_typeof(document.op("->")(key))
    return sa.case((kind == "number", sa.cast(text, sa.Double)), else_=None)
