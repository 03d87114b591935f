"""Migration 0002 (traces) builds exactly the trace tables of schema.py, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from heron.tracking.store import db, schema
from heron.tracking.uri import resolve

TRACE_TABLES = {"traces", "spans", "trace_tags", "trace_metadata", "assessments"}


def _upgrade(conn: sa.Connection, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


def _downgrade(conn: sa.Connection, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, revision)


def _touches_trace_tables(diff: Any) -> bool:
    """Whether one autogenerate difference concerns a trace table (later migrations add other tables)."""
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            table = getattr(part, "table", None)
            name = getattr(part, "name", None)
            if (table is not None and getattr(table, "name", None) in TRACE_TABLES) or name in TRACE_TABLES:
                return True
            if isinstance(part, str) and part in TRACE_TABLES:
                return True
    return False


def test_migration_0002_matches_the_schema(tracking_uri: str) -> None:
    location = resolve(tracking_uri)
    if location.db_url.startswith("sqlite"):
        Path(sa.make_url(location.db_url).database or "").parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(location.db_url)
    try:
        with engine.begin() as conn:
            _upgrade(conn, "0001")
            assert not TRACE_TABLES & set(sa.inspect(conn).get_table_names())
        with engine.begin() as conn:
            _upgrade(conn, "0002")
        with engine.connect() as conn:
            assert TRACE_TABLES <= set(sa.inspect(conn).get_table_names())
        with engine.begin() as conn:
            _upgrade(conn, "head")  # 0006 swaps a traces index for the summary's covering ones
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert [d for d in compare_metadata(context, schema.metadata) if _touches_trace_tables(d)] == []
        with engine.begin() as conn:
            _downgrade(conn, "0001")
            assert not TRACE_TABLES & set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
