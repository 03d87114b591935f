"""Run and experiment search in SQL: the filter AST of ``heron.tracking.search`` as SQLAlchemy Core.

Each comparison on a metric, param or tag is a correlated EXISTS on that table's (run, key) primary
key, so the database can walk runs in ``ix_runs_experiment_start_covering`` order (an index that holds
every runs column the filter needs) and stop at the LIMIT. Every
user value is a bound parameter. LIKE is case-sensitive and ILIKE case-insensitive on both SQLite
(GLOB; ``lower() LIKE lower()``) and PostgreSQL; neither gives ``\\`` a special meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement, FromClause

from heron.tracking import search
from heron.tracking.entities import ViewType
from heron.tracking.store.schema import experiment_tags, experiments, latest_metrics, params, runs, tags

__all__ = ["search_run_ids", "search_experiment_ids"]

_RUN_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    "run_id": runs.c.run_uuid,
    "run_name": runs.c.name,
    "status": runs.c.status,
    "user_id": runs.c.user_id,
    "artifact_uri": runs.c.artifact_uri,
    "lifecycle_stage": runs.c.lifecycle_stage,
    "start_time": runs.c.start_time,
    "end_time": runs.c.end_time,
    "experiment_id": runs.c.experiment_id,
}
_EXPERIMENT_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    "name": experiments.c.name,
    "creation_time": experiments.c.creation_time,
    "last_update_time": experiments.c.last_update_time,
    "experiment_id": experiments.c.experiment_id,
}
_RUN_TABLES: dict[str, sa.Table] = {"metric": latest_metrics, "param": params, "tag": tags}


@dataclass(frozen=True)
class _Target:
    """What a filter is compiled against: the searched table's id, attributes and key/value tables."""

    id_column: sa.Column[Any]
    attributes: dict[str, sa.Column[Any]]
    tables: dict[str, tuple[sa.Table, sa.Column[Any]]]  # entity -> (table, column pointing at id_column)
    sqlite: bool


def search_run_ids(
    conn: Connection,
    experiment_ids: list[int],
    filter_string: str | None,
    view_type: int,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> tuple[list[str], str | None]:
    """Run ids in ``experiment_ids`` matching the filter, in result order, and the next page's token.

    Default order: ``start_time DESC``, then run id; runs missing an order key come last in either
    direction (for metrics: numbers, then NaN, then missing). Raises HeronError
    (INVALID_PARAMETER_VALUE) for a malformed filter, order_by or page token. Runs on ``conn``.
    """
    expr = search.parse_filter(filter_string, search.RUNS)
    orders = search.parse_order_by_list(order_by, search.RUNS)
    offset = search.decode_page_token(page_token)
    exp_ids = sorted(set(experiment_ids))
    if not exp_ids:
        return [], None
    sqlite = conn.dialect.name == "sqlite"
    target = _Target(
        id_column=runs.c.run_uuid,
        attributes=_RUN_ATTRIBUTES,
        tables={entity: (table, table.c.run_uuid) for entity, table in _RUN_TABLES.items()},
        sqlite=sqlite,
    )
    where: list[ColumnElement[bool]] = [
        runs.c.experiment_id == exp_ids[0] if len(exp_ids) == 1 else runs.c.experiment_id.in_(exp_ids)
    ]
    if view_type != ViewType.ALL:
        where.append(_in_or_equal(runs.c.lifecycle_stage, ViewType.stages(view_type)))
    if expr is not None:
        where.append(_condition(expr, target))
    source, ordering = _run_ordering(orders, sqlite)
    stmt = (
        sa.select(runs.c.run_uuid)
        .select_from(source)
        .where(*where)
        .order_by(*ordering)
        .limit(max_results + 1)
        .offset(offset)
    )
    ids = [str(r) for r in conn.execute(stmt).scalars()]
    return _page(ids, offset, max_results)


def search_experiment_ids(
    conn: Connection,
    view_type: int,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    page_token: str | None,
) -> tuple[list[int], str | None]:
    """Experiment ids matching the filter, in result order, and the next page's token.

    Default order, as MLflow: ``creation_time DESC, experiment_id ASC``; an order_by without
    experiment_id is tie-broken by ``experiment_id DESC``. Raises HeronError (INVALID_PARAMETER_VALUE)
    for a malformed filter, order_by or page token. Runs on ``conn``.
    """
    expr = search.parse_filter(filter_string, search.EXPERIMENTS)
    orders = search.parse_order_by_list(order_by, search.EXPERIMENTS) or [
        search.OrderBy("attribute", "creation_time", False),
        search.OrderBy("attribute", "experiment_id", True),
    ]
    offset = search.decode_page_token(page_token)
    sqlite = conn.dialect.name == "sqlite"
    target = _Target(
        id_column=experiments.c.experiment_id,
        attributes=_EXPERIMENT_ATTRIBUTES,
        tables={"tag": (experiment_tags, experiment_tags.c.experiment_id)},
        sqlite=sqlite,
    )
    where: list[ColumnElement[bool]] = []
    if view_type != ViewType.ALL:
        where.append(_in_or_equal(experiments.c.lifecycle_stage, ViewType.stages(view_type)))
    if expr is not None:
        where.append(_condition(expr, target))
    ordering: list[ColumnElement[Any]] = [
        _direction(_sortable(_EXPERIMENT_ATTRIBUTES[o.key], sqlite), o.ascending) for o in orders
    ]
    if not any(o.key == "experiment_id" for o in orders):
        ordering.append(experiments.c.experiment_id.desc())
    stmt = (
        sa.select(experiments.c.experiment_id)
        .where(*where)
        .order_by(*ordering)
        .limit(max_results + 1)
        .offset(offset)
    )
    ids = [int(r) for r in conn.execute(stmt).scalars()]
    return _page(ids, offset, max_results)


def _page(ids: list[Any], offset: int, max_results: int) -> tuple[list[Any], str | None]:
    if len(ids) > max_results:
        return ids[:max_results], search.encode_page_token(offset + max_results)
    return ids, None


# ---------------------------------------------------------------------------------------- filters


def _condition(expr: search.Expr, target: _Target) -> ColumnElement[bool]:
    if isinstance(expr, search.And):
        return sa.and_(*(_condition(e, target) for e in sorted(expr.operands, key=_cost)))
    if isinstance(expr, search.Or):
        return sa.or_(*(_condition(e, target) for e in expr.operands))
    if expr.entity == "attribute":
        return compare(target.attributes[expr.key], expr.op, expr.value, target.sqlite)
    table, owner = target.tables[expr.entity]
    linked = [owner == target.id_column, table.c.key == expr.key]
    if expr.op == "IS NULL":
        return ~sa.exists().where(*linked)
    if expr.op == "IS NOT NULL":
        return sa.exists().where(*linked)
    if expr.entity == "metric":
        return sa.exists().where(*linked, _metric_compare(table, expr.op, expr.value))
    return sa.exists().where(*linked, compare(table.c.value, expr.op, expr.value, target.sqlite))


def _cost(expr: search.Expr) -> int:
    """A rough cost rank: SQLite tests AND terms in the order written, so cheap and selective go first."""
    if not isinstance(expr, search.Comparison):
        return 3
    if expr.entity == "attribute":
        return 0  # a column of the row at hand: no lookup
    return 1 if expr.op in ("=", "IN") and expr.entity != "metric" else 2


def _metric_compare(table: sa.Table, op: str, value: search.Value) -> ColumnElement[bool]:
    # NaN is stored as value 0 with is_nan set; like IEEE NaN it is unequal to everything and
    # satisfies no ordering comparison.
    compared = compare(table.c.value, op, value, sqlite=False)
    if op in ("!=", "NOT IN"):
        return sa.or_(table.c.is_nan == sa.true(), compared)
    return sa.and_(table.c.is_nan == sa.false(), compared)


def compare(column: ColumnElement[Any], op: str, value: search.Value, sqlite: bool) -> ColumnElement[bool]:
    """``column OP value`` for one parsed comparison; LIKE is case-sensitive on both databases."""
    if op == "=":
        return column == value
    if op == "!=":
        return column != value
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "IN":
        return column.in_(_as_list(value))
    if op == "NOT IN":
        return column.not_in(_as_list(value))
    if op == "IS NULL":
        return column.is_(None)
    if op == "IS NOT NULL":
        return column.is_not(None)
    pattern = str(value)
    if op == "LIKE":
        # SQLite's LIKE ignores case; GLOB is its case-sensitive pattern match.
        return column.op("GLOB")(_like_to_glob(pattern)) if sqlite else column.like(_escape_backslash(pattern))
    if op == "ILIKE":
        # SQLite's LIKE already ignores case as lower() folds it (ASCII letters only, both): the same
        # matches as ilike()'s lower(x) LIKE lower(?), without copying every value it reads (~2x faster).
        return column.like(pattern) if sqlite else column.ilike(_escape_backslash(pattern))
    raise ValueError(f"unknown operator {op!r}")  # the parser only produces the operators above


def _as_list(value: search.Value) -> list[Any]:
    return list(value) if isinstance(value, tuple) else [value]


def _like_to_glob(pattern: str) -> str:
    """A LIKE pattern (``%``, ``_``) as the SQLite GLOB pattern matching the same strings, case-sensitively."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(c, c) for c in pattern)


def _escape_backslash(pattern: str) -> str:
    # PostgreSQL's LIKE treats backslash as an escape; SQLite's and MLflow's patterns do not.
    return pattern.replace("\\", "\\\\")


def _in_or_equal(column: sa.Column[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    return column == values[0] if len(values) == 1 else column.in_(list(values))


# --------------------------------------------------------------------------------------- ordering


def _run_ordering(orders: list[search.OrderBy], sqlite: bool) -> tuple[FromClause, list[ColumnElement[Any]]]:
    """The FROM clause (runs, outer-joined to each metric/param/tag ordered by) and the ORDER BY terms."""
    source: FromClause = runs
    ordering: list[ColumnElement[Any]] = []
    for i, order in enumerate(orders):
        if order.entity == "attribute":
            column = _RUN_ATTRIBUTES[order.key]
            if column.nullable:
                ordering.append(sa.case((column.is_(None), 1), else_=0))
            ordering.append(_direction(_sortable(column, sqlite), order.ascending))
            continue
        joined = _RUN_TABLES[order.entity].alias(f"order_{i}")
        source = source.outerjoin(joined, sa.and_(joined.c.run_uuid == runs.c.run_uuid, joined.c.key == order.key))
        if order.entity == "metric":
            # Missing last, NaN just before, in both directions (MLflow's order).
            ordering.append(
                sa.case((joined.c.run_uuid.is_(None), 2), (joined.c.is_nan == sa.true(), 1), else_=0)
            )
            ordering.append(_direction(joined.c.value, order.ascending))
        else:
            ordering.append(sa.case((joined.c.run_uuid.is_(None), 1), else_=0))
            ordering.append(_direction(_sortable(joined.c.value, sqlite), order.ascending))
    keys = {(o.entity, o.key) for o in orders}
    if ("attribute", "start_time") not in keys:
        ordering.append(runs.c.start_time.desc())
    if ("attribute", "run_id") not in keys:
        ordering.append(runs.c.run_uuid.asc())
    return source, ordering


def _sortable(column: ColumnElement[Any], sqlite: bool) -> ColumnElement[Any]:
    # Strings sort by code point on both backends, whatever PostgreSQL's database collation is.
    if not sqlite and isinstance(column.type, sa.String):
        return column.collate("C")
    return column


def _direction(column: ColumnElement[Any], ascending: bool) -> ColumnElement[Any]:
    return column.asc() if ascending else column.desc()
