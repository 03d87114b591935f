"""Metric history clustered on (run, key, step, timestamp, value); a covering runs index for search.

The metrics table loses its surrogate id: a logged value is one b-tree insert instead of a table row
plus an index entry. Repeats of the very same value become a ``copies`` count, so no logged value is
lost. ``ix_runs_experiment_start`` becomes ``ix_runs_experiment_start_covering`` (with the lifecycle
stage and run id), so a search walks the index without reading the runs table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OLD = "metrics_before_0005"
_COLUMNS = 'run_uuid, "key", "value", "timestamp", step, is_nan'


def upgrade() -> None:
    op.drop_index("ix_runs_experiment_start", table_name="runs")
    op.create_index(
        "ix_runs_experiment_start_covering",
        "runs",
        ["experiment_id", "start_time", "lifecycle_stage", "run_uuid"],
        unique=False,
    )
    _retire_old_table()
    op.create_table(
        "metrics",
        sa.Column("run_uuid", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("step", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("is_nan", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("copies", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["run_uuid"], ["runs.run_uuid"], name=op.f("fk_metrics_run_uuid_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "run_uuid", "key", "step", "timestamp", "value", "is_nan", name=op.f("pk_metrics")
        ),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO metrics ({_COLUMNS}, copies) SELECT {_COLUMNS}, COUNT(*) FROM {_OLD} "
        f"GROUP BY {_COLUMNS}"
    )
    op.drop_table(_OLD)


def downgrade() -> None:
    op.drop_index("ix_runs_experiment_start_covering", table_name="runs")
    op.create_index("ix_runs_experiment_start", "runs", ["experiment_id", "start_time"], unique=False)
    _retire_old_table()
    op.create_table(
        "metrics",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("run_uuid", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("is_nan", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_uuid"], ["runs.run_uuid"], name=op.f("fk_metrics_run_uuid_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
    )
    op.create_index("ix_metrics_run_key_step", "metrics", ["run_uuid", "key", "step"], unique=False)
    # One row per copy again, in history order.
    op.execute(
        f"INSERT INTO metrics ({_COLUMNS}) "
        f"WITH RECURSIVE expanded ({_COLUMNS}, n) AS ("
        f"SELECT {_COLUMNS}, copies FROM {_OLD} "
        f"UNION ALL SELECT {_COLUMNS}, n - 1 FROM expanded WHERE n > 1) "
        f'SELECT {_COLUMNS} FROM expanded ORDER BY run_uuid, "key", step, "timestamp", "value", is_nan'
    )
    op.drop_table(_OLD)


def _retire_old_table() -> None:
    """Move the current metrics table aside, freeing its index and constraint names for the new one."""
    bind = op.get_bind()
    indexes = {ix["name"] for ix in sa.inspect(bind).get_indexes("metrics")}
    if "ix_metrics_run_key_step" in indexes:
        op.drop_index("ix_metrics_run_key_step", table_name="metrics")
    op.rename_table("metrics", _OLD)
    if bind.dialect.name == "postgresql":
        # The primary key's index name is schema-wide on PostgreSQL (SQLite has no such name).
        op.execute(f"ALTER TABLE {_OLD} DROP CONSTRAINT pk_metrics")
