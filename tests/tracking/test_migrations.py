"""The Alembic migrations build exactly the schema the code declares, and `heron db upgrade` works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import heron
from heron.errors import HeronError
from heron.tracking.store import db
from heron.tracking.store.schema import metadata
from heron.tracking.stores import clear_store_cache
from heron.tracking.uri import resolve


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    return cfg


def test_head_revision_constant_matches_the_migrations() -> None:
    assert ScriptDirectory.from_config(_config()).get_current_head() == db.HEAD_REVISION


def test_migrations_from_empty_match_the_declared_schema(tracking_uri: str) -> None:
    location = resolve(tracking_uri)
    database = sa.make_url(location.db_url).database
    if location.db_url.startswith("sqlite") and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(location.db_url)
    try:
        with engine.begin() as conn:
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
            assert (
                conn.execute(sa.text("select version_num from alembic_version")).scalar() == db.HEAD_REVISION
            )
    finally:
        engine.dispose()
    # A store opened on the migrated database works (and seeds nothing twice).
    heron.create_experiment("after-migration")
    assert heron.get_experiment_by_name("after-migration") is not None


def test_a_new_store_is_created_at_head_with_a_default_experiment(tracking_uri: str) -> None:
    assert heron.get_experiment("0").name == "Default"
    location = resolve(tracking_uri)
    assert db.current_revision(location.db_url) == db.HEAD_REVISION


def test_db_upgrade_command(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    out = subprocess.run(
        [sys.executable, "-m", "heron.cli", "db", "upgrade", uri], capture_output=True, text=True, check=True
    ).stdout
    assert db.HEAD_REVISION in out
    again = subprocess.run(
        [sys.executable, "-m", "heron.cli", "db", "upgrade", uri], capture_output=True, text=True, check=True
    ).stdout
    assert db.HEAD_REVISION in again


def test_an_old_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    uri = f"sqlite:///{path}"
    heron.set_tracking_uri(uri)
    heron.get_experiment("0")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("update alembic_version set version_num = '0000'"))
    engine.dispose()
    clear_store_cache()
    with pytest.raises(HeronError, match="heron db upgrade"):
        heron.get_experiment("0")


def _index_names(conn: sa.Connection, table: str) -> set[str | None]:
    return {ix["name"] for ix in sa.inspect(conn).get_indexes(table)}


def test_migration_0005_keeps_every_logged_metric_both_ways(tracking_uri: str) -> None:
    """0003 → 0005 folds repeats of one value into copies; 0005 → 0003 gives every row back.

    Also swaps the runs search index for its covering version, and back.
    """
    location = resolve(tracking_uri)
    database = sa.make_url(location.db_url).database
    if location.db_url.startswith("sqlite") and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    history = [
        ("loss", 0.5, 1000, 0, False),
        ("loss", 0.5, 1000, 0, False),  # the very same value twice
        ("loss", 0.25, 1000, 0, False),
        ("loss", 0.0, 1001, 1, True),
        ("acc", 0.75, 1000, 3, False),
    ]
    engine = sa.create_engine(location.db_url)
    cfg = _config()

    def migrate(conn: sa.Connection, step: str, revision: str) -> None:
        cfg.attributes["connection"] = conn
        (command.upgrade if step == "up" else command.downgrade)(cfg, revision)

    def rows(conn: sa.Connection) -> list[tuple[object, ...]]:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text('SELECT "key", "value", "timestamp", step, is_nan FROM metrics WHERE run_uuid = \'r1\'')
            )
        ]

    try:
        with engine.begin() as conn:
            migrate(conn, "up", "0003")
            conn.execute(
                sa.text(
                    "INSERT INTO experiments (experiment_id, name, artifact_location, creation_time, "
                    "last_update_time) VALUES (0, 'Default', 'x', 0, 0)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
                    "lifecycle_stage, artifact_uri) VALUES ('r1', 0, 'r', '', 'RUNNING', 0, 'active', 'x')"
                )
            )
            for key, value, ts, step, nan in history:
                conn.execute(
                    sa.text(
                        'INSERT INTO metrics (run_uuid, "key", "value", "timestamp", step, is_nan) '
                        "VALUES ('r1', :k, :v, :t, :s, :n)"
                    ),
                    {"k": key, "v": value, "t": ts, "s": step, "n": nan},
                )
        with engine.begin() as conn:
            migrate(conn, "up", "0005")
            copies = conn.execute(
                sa.text("SELECT copies FROM metrics WHERE \"key\" = 'loss' AND \"value\" = 0.5")
            ).scalar()
            assert copies == 2
            assert "ix_runs_experiment_start_covering" in _index_names(conn, "runs")
            assert sorted(rows(conn)) == sorted({(k, v, t, s, n): 1 for k, v, t, s, n in history})
        with engine.begin() as conn:
            migrate(conn, "down", "0003")
            assert sorted(rows(conn)) == sorted(history)
            assert "ix_metrics_run_key_step" in _index_names(conn, "metrics")
            assert "ix_runs_experiment_start" in _index_names(conn, "runs")
        with engine.begin() as conn:
            migrate(conn, "up", "head")
            assert len(rows(conn)) == 4
    finally:
        engine.dispose()


def test_migration_0006_swaps_the_trace_indexes_both_ways(tracking_uri: str, tmp_path: Path) -> None:
    """0005 → 0006 → 0005 → head keeps the traces and swaps the summary's indexes; on SQLite (where
    Alembic cannot compare an expression index) the migrated index SQL equals what ``Database`` creates."""
    location = resolve(tracking_uri)
    database = sa.make_url(location.db_url).database
    if location.db_url.startswith("sqlite") and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(location.db_url)
    cfg = _config()

    def migrate(conn: sa.Connection, step: str, revision: str) -> None:
        cfg.attributes["connection"] = conn
        (command.upgrade if step == "up" else command.downgrade)(cfg, revision)

    new = {"ix_traces_experiment_start_covering", "ix_traces_experiment_duration"}
    try:
        with engine.begin() as conn:
            migrate(conn, "up", "0005")
            conn.execute(sa.text("INSERT INTO traces (trace_id, experiment_id, status, start_time, end_time) "
                                 "VALUES ('t1', 0, 'OK', 1000, 1250)"))
            assert "ix_traces_experiment_start" in _index_names(conn, "traces")
        with engine.begin() as conn:
            migrate(conn, "up", "0006")
            assert "ix_traces_experiment_start" not in _index_names(conn, "traces")
            if engine.dialect.name == "postgresql":  # SQLAlchemy reflects expression indexes there only
                assert new <= _index_names(conn, "traces")
        with engine.begin() as conn:
            migrate(conn, "down", "0005")
            assert "ix_traces_experiment_start" in _index_names(conn, "traces")
            assert not new & _index_names(conn, "traces")
        with engine.begin() as conn:
            migrate(conn, "up", "head")
            assert conn.execute(sa.text("SELECT end_time - start_time FROM traces")).scalar() == 250
            if engine.dialect.name == "sqlite":
                migrated = _sqlite_index_sql(conn)
                assert set(migrated) >= new
    finally:
        engine.dispose()
    if engine.dialect.name == "sqlite":
        fresh = tmp_path / "fresh.db"
        db.Database(f"sqlite:///{fresh}", str(tmp_path / "artifacts")).dispose()
        created = sa.create_engine(f"sqlite:///{fresh}")
        try:
            with created.connect() as conn:
                assert _sqlite_index_sql(conn) == migrated
        finally:
            created.dispose()


def _sqlite_index_sql(conn: sa.Connection) -> dict[str, str]:
    """The traces table's index definitions, spacing and quoting normalised."""
    found = conn.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'traces' "
                                 "AND sql IS NOT NULL")).all()
    return {name: " ".join(sql.replace('"', "").replace("(", " ( ").replace(")", " ) ").split()) for name, sql in found}
