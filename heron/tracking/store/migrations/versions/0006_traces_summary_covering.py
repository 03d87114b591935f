"""A covering traces index for the summary strip of the traces page.

``ix_traces_experiment_start`` becomes ``ix_traces_experiment_start_covering``: the same leading
(experiment_id, start_time), plus every column the summary aggregates (end time, status, tokens, cost,
unpriced spans), so counting and summing 100,000 traces reads only the index, never the table rows with
their request and response previews. ``ix_traces_experiment_duration`` orders an experiment's traces by
duration (with both times, so that it covers the expression): p50 and p95 over every trace are an OFFSET
into it rather than a sort.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COVERING = ["experiment_id", "start_time", "end_time", "status", "input_tokens", "output_tokens", "cost",
             "unpriced_spans"]


def upgrade() -> None:
    op.drop_index("ix_traces_experiment_start", table_name="traces")
    op.create_index("ix_traces_experiment_start_covering", "traces", _COVERING, unique=False)
    # as SQLAlchemy writes it from the schema: PostgreSQL needs the brackets, SQLite gets none
    duration = "(end_time - start_time)" if op.get_bind().dialect.name == "postgresql" else "end_time - start_time"
    op.create_index("ix_traces_experiment_duration", "traces",
                    ["experiment_id", sa.text(duration), "start_time", "end_time"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_traces_experiment_duration", table_name="traces")
    op.drop_index("ix_traces_experiment_start_covering", table_name="traces")
    op.create_index("ix_traces_experiment_start", "traces", ["experiment_id", "start_time"], unique=False)
