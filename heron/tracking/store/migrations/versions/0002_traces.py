"""Traces: traces, spans, trace_tags, trace_metadata, assessments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traces",
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("root_span_id", sa.String(length=16), nullable=True),
        sa.Column("request_preview", sa.Text(), nullable=True),
        sa.Column("response_preview", sa.Text(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cached_input_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cost", sa.Double(), nullable=True),
        sa.Column("unpriced_spans", sa.Integer(), server_default="0", nullable=False),
        sa.Column("span_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("session_id", sa.String(length=250), nullable=True),
        sa.Column("user_id", sa.String(length=250), nullable=True),
        sa.PrimaryKeyConstraint("trace_id", name=op.f("pk_traces")),
    )
    op.create_index("ix_traces_experiment_start", "traces", ["experiment_id", "start_time"], unique=False)
    op.create_index("ix_traces_session_start", "traces", ["session_id", "start_time"], unique=False,
                    sqlite_where=sa.text("session_id IS NOT NULL"), postgresql_where=sa.text("session_id IS NOT NULL"))
    op.create_index("ix_traces_run", "traces", ["run_id"], unique=False,
                    sqlite_where=sa.text("run_id IS NOT NULL"), postgresql_where=sa.text("run_id IS NOT NULL"))
    op.create_table(
        "spans",
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("parent_span_id", sa.String(length=16), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("span_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("start_time_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_time_ns", sa.BigInteger(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=True),
        sa.Column("outputs", sa.Text(), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("events", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trace_id"], ["traces.trace_id"], name=op.f("fk_spans_trace_id_traces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name=op.f("pk_spans")),
    )
    for table in ("trace_tags", "trace_metadata"):
        op.create_table(
            table,
            sa.Column("trace_id", sa.String(length=32), nullable=False),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["trace_id"], ["traces.trace_id"], name=op.f(f"fk_{table}_trace_id_traces"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("trace_id", "key", name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "assessments",
        sa.Column("assessment_id", sa.String(length=36), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=250), nullable=True),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trace_id"], ["traces.trace_id"], name=op.f("fk_assessments_trace_id_traces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("assessment_id", name=op.f("pk_assessments")),
    )
    op.create_index("ix_assessments_trace", "assessments", ["trace_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_assessments_trace", table_name="assessments")
    op.drop_table("assessments")
    op.drop_table("trace_metadata")
    op.drop_table("trace_tags")
    op.drop_table("spans")
    op.drop_index("ix_traces_run", table_name="traces")
    op.drop_index("ix_traces_session_start", table_name="traces")
    op.drop_index("ix_traces_experiment_start", table_name="traces")
    op.drop_table("traces")
