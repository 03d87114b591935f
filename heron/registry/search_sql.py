"""Registry search in SQL: the filter AST of ``heron.tracking.search`` over the registry tables.

Tag comparisons are correlated EXISTS on the tag tables' primary keys; every user value is a bound
parameter. LIKE is case-sensitive and ILIKE case-insensitive on both SQLite (GLOB; ``lower() LIKE
lower()``) and PostgreSQL, as in run search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, Select

from heron.registry import search as grammars
from heron.registry.records import Kind
from heron.tracking import search
from heron.tracking.store.schema import (
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from heron.tracking.store.search_sql import compare

__all__ = ["names_query", "versions_query"]

_NAME_COLUMNS: dict[str, sa.Column[Any]] = {
    "name": registered_models.c.name,
    "creation_timestamp": registered_models.c.creation_time,
    "last_updated_timestamp": registered_models.c.last_updated_time,
}
_VERSION_COLUMNS: dict[str, sa.Column[Any]] = {
    "name": registered_models.c.name,
    "version_number": model_versions.c.version,
    "run_id": model_versions.c.run_id,
    "source_path": model_versions.c.source,
    "current_stage": model_versions.c.stage,
    "creation_timestamp": model_versions.c.creation_time,
    "last_updated_timestamp": model_versions.c.last_updated_time,
}


def names_query(
    kind: Kind, filter_string: str | None, order_by: Sequence[str] | None, sqlite: bool
) -> Select[Any]:
    """SELECT of the ids of the names of ``kind`` matching the filter, in result order (default: name).

    Raises HeronError(INVALID_PARAMETER_VALUE) for a malformed filter or order_by.
    """
    grammar = grammars.PROMPTS if kind == "prompt" else grammars.REGISTERED_MODELS
    expr = search.parse_filter(filter_string, grammar)
    orders = search.parse_order_by_list(order_by, grammar) or [search.OrderBy("attribute", "name", True)]
    where: list[ColumnElement[bool]] = [registered_models.c.kind == kind]
    if expr is not None:
        where.append(_condition(expr, _NAMES, sqlite))
    ordering = [_direction(_sortable(_NAME_COLUMNS[o.key], sqlite), o.ascending) for o in orders]
    ordering.append(registered_models.c.id.asc())
    return sa.select(registered_models.c.id).where(*where).order_by(*ordering)


def versions_query(
    kind: Kind, filter_string: str | None, order_by: Sequence[str] | None, sqlite: bool
) -> Select[Any]:
    """SELECT of (model_id, version) of the versions of ``kind`` matching the filter, in result order
    (default: name, then newest version first). Raises HeronError for a malformed filter or order_by."""
    expr = search.parse_filter(filter_string, grammars.MODEL_VERSIONS)
    orders = search.parse_order_by_list(order_by, grammars.MODEL_VERSIONS) or [
        search.OrderBy("attribute", "name", True),
        search.OrderBy("attribute", "version_number", False),
    ]
    where: list[ColumnElement[bool]] = [registered_models.c.kind == kind]
    if expr is not None:
        where.append(_condition(expr, _VERSIONS, sqlite))
    ordering: list[ColumnElement[Any]] = []
    for o in orders:
        column = _VERSION_COLUMNS[o.key]
        if column.nullable:
            ordering.append(sa.case((column.is_(None), 1), else_=0))
        ordering.append(_direction(_sortable(column, sqlite), o.ascending))
    ordering += [model_versions.c.model_id.asc(), model_versions.c.version.desc()]
    return (
        sa.select(model_versions.c.model_id, model_versions.c.version)
        .select_from(model_versions.join(registered_models, registered_models.c.id == model_versions.c.model_id))
        .where(*where)
        .order_by(*ordering)
    )


@dataclass(frozen=True)
class _Target:
    """What a filter is compiled against: attribute columns, the tag table and how a tag row links to
    the row at hand."""

    columns: dict[str, sa.Column[Any]]
    tags: sa.Table
    link: tuple[ColumnElement[bool], ...]


_NAMES = _Target(
    _NAME_COLUMNS, registered_model_tags, (registered_model_tags.c.model_id == registered_models.c.id,)
)
_VERSIONS = _Target(
    _VERSION_COLUMNS,
    model_version_tags,
    (
        model_version_tags.c.model_id == model_versions.c.model_id,
        model_version_tags.c.version == model_versions.c.version,
    ),
)


def _condition(expr: search.Expr, target: _Target, sqlite: bool) -> ColumnElement[bool]:
    if isinstance(expr, search.And):
        return sa.and_(*(_condition(e, target, sqlite) for e in expr.operands))
    if isinstance(expr, search.Or):
        return sa.or_(*(_condition(e, target, sqlite) for e in expr.operands))
    if expr.entity == "attribute":
        return compare(target.columns[expr.key], expr.op, expr.value, sqlite)
    tag = sa.exists().where(*target.link, target.tags.c.key == expr.key)
    if expr.op == "IS NULL":
        return ~tag
    if expr.op == "IS NOT NULL":
        return tag
    return tag.where(compare(target.tags.c.value, expr.op, expr.value, sqlite))


def _sortable(column: ColumnElement[Any], sqlite: bool) -> ColumnElement[Any]:
    # Strings sort by code point on both backends, whatever PostgreSQL's collation is.
    if not sqlite and isinstance(column.type, sa.String):
        return column.collate("C")
    return column


def _direction(column: ColumnElement[Any], ascending: bool) -> ColumnElement[Any]:
    return column.asc() if ascending else column.desc()
