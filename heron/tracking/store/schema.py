"""The one SQL schema of a Heron store (SQLAlchemy Core tables).

Alembic migrations under ``migrations/versions`` build exactly this schema; a test compares the two.
Times are milliseconds since the epoch, as in MLflow.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Tables keyed by (run, key) are clustered on that key in SQLite (WITHOUT ROWID): a search probes
# one b-tree instead of an index and then the table.
# Keys and values are bounded as MLflow bounds them; the store validates before writing. Text values
# are not indexed (a PostgreSQL btree entry is capped at ~2.7 kB); search finds them by (run, key).
KEY = sa.String(250)

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("experiment_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(500), nullable=False, unique=True),
    sa.Column("artifact_location", sa.String(1000), nullable=False),
    sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_update_time", sa.BigInteger, nullable=False),
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", KEY, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_uuid", sa.String(32), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(250), nullable=False),
    sa.Column("user_id", sa.String(256), nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("start_time", sa.BigInteger, nullable=False),
    sa.Column("end_time", sa.BigInteger, nullable=True),
    sa.Column("deleted_time", sa.BigInteger, nullable=True),
    sa.Column("lifecycle_stage", sa.String(32), nullable=False, server_default="active"),
    sa.Column("artifact_uri", sa.String(1000), nullable=False),
    # Covering for search: walking an experiment's runs by start time never reads the table itself.
    sa.Index("ix_runs_experiment_start_covering", "experiment_id", "start_time", "lifecycle_stage", "run_uuid"),
)

params = sa.Table(
    "params",
    metadata,
    sa.Column(
        "run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", KEY, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)

# Full history, clustered on (run, key, step, timestamp, value) so that logging a value writes one b-tree
# (SQLite WITHOUT ROWID; the primary key index on PostgreSQL) and a history read is one range scan.
# Logging the very same (key, step, timestamp, value) again keeps both, as a second copy.
metrics = sa.Table(
    "metrics",
    metadata,
    sa.Column("run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    sa.Column("key", KEY, nullable=False),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False, autoincrement=False),
    sa.Column("step", sa.BigInteger, nullable=False, autoincrement=False),
    sa.Column("is_nan", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("copies", sa.Integer, nullable=False, server_default="1"),
    sa.PrimaryKeyConstraint("run_uuid", "key", "step", "timestamp", "value", "is_nan"),
    sqlite_with_rowid=False,
)

# The value at the highest (step, timestamp, value) per run and key: what search and Run.data show.
latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column(
        "run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", KEY, primary_key=True),
    sa.Column("value", sa.Double, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("is_nan", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_latest_metrics_key_value", "key", "value"),
    sqlite_with_rowid=False,
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column(
        "run_uuid", sa.String(32), sa.ForeignKey("runs.run_uuid", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", KEY, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)

# ---------------------------------------------------------------------------------------------- traces
# Written by heron.tracing (its export thread upserts a trace row as the trace's spans arrive). Trace and
# span ids are OpenTelemetry's, in lower-case hex. No foreign key to experiments or runs: a trace must
# never be lost because its experiment or run row is missing; the children below cascade from traces.

traces = sa.Table(
    "traces",
    metadata,
    sa.Column("trace_id", sa.String(32), primary_key=True),
    sa.Column("experiment_id", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("name", sa.String(500), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),  # OK | ERROR | IN_PROGRESS (root not seen yet)
    sa.Column("start_time", sa.BigInteger, nullable=False),  # ms
    sa.Column("end_time", sa.BigInteger, nullable=True),
    sa.Column("root_span_id", sa.String(16), nullable=True),
    sa.Column("request_preview", sa.Text, nullable=True),
    sa.Column("response_preview", sa.Text, nullable=True),
    sa.Column("input_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("output_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("total_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("cached_input_tokens", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("cost", sa.Double, nullable=True),  # USD of the priced spans; NULL when none is priced
    sa.Column("unpriced_spans", sa.Integer, nullable=False, server_default="0"),
    sa.Column("span_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("session_id", sa.String(250), nullable=True),
    sa.Column("user_id", sa.String(250), nullable=True),
    # covering: the traces page's summary strip counts and sums these without reading the table rows
    sa.Index("ix_traces_experiment_start_covering", "experiment_id", "start_time", "end_time", "status",
             "input_tokens", "output_tokens", "cost", "unpriced_spans"),
    # partial: most traces have no session or run, and an index entry per trace costs every insert
    sa.Index("ix_traces_session_start", "session_id", "start_time",
             sqlite_where=sa.text("session_id IS NOT NULL"), postgresql_where=sa.text("session_id IS NOT NULL")),
    sa.Index("ix_traces_run", "run_id",
             sqlite_where=sa.text("run_id IS NOT NULL"), postgresql_where=sa.text("run_id IS NOT NULL")),
)

# the duration order of an experiment's traces (the start and end times make it covering): the summary's
# p50 and p95 over every trace are an OFFSET into it instead of a sort of every duration
sa.Index("ix_traces_experiment_duration", traces.c.experiment_id, traces.c.end_time - traces.c.start_time,
         traces.c.start_time, traces.c.end_time)

spans = sa.Table(
    "spans",
    metadata,
    sa.Column(
        "trace_id", sa.String(32), sa.ForeignKey("traces.trace_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("span_id", sa.String(16), primary_key=True),
    sa.Column("parent_span_id", sa.String(16), nullable=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("span_type", sa.String(64), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # OK | ERROR
    sa.Column("status_message", sa.Text, nullable=True),
    sa.Column("start_time_ns", sa.BigInteger, nullable=False),
    sa.Column("end_time_ns", sa.BigInteger, nullable=False),
    sa.Column("inputs", sa.Text, nullable=True),  # JSON
    sa.Column("outputs", sa.Text, nullable=True),  # JSON
    sa.Column("attributes", sa.Text, nullable=False),  # JSON object
    sa.Column("events", sa.Text, nullable=True),  # JSON list
)

trace_tags = sa.Table(
    "trace_tags",
    metadata,
    sa.Column(
        "trace_id", sa.String(32), sa.ForeignKey("traces.trace_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", KEY, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

trace_metadata = sa.Table(
    "trace_metadata",
    metadata,
    sa.Column(
        "trace_id", sa.String(32), sa.ForeignKey("traces.trace_id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("key", KEY, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# Scores and feedback on a trace or one of its spans (evaluation writes them).
assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("assessment_id", sa.String(36), primary_key=True),
    sa.Column(
        "trace_id", sa.String(32), sa.ForeignKey("traces.trace_id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("span_id", sa.String(16), nullable=True),
    sa.Column("name", KEY, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # feedback | expectation
    sa.Column("value", sa.Text, nullable=True),  # JSON
    sa.Column("rationale", sa.Text, nullable=True),
    sa.Column("source_type", sa.String(32), nullable=False),  # HUMAN | LLM_JUDGE | CODE
    sa.Column("source_id", sa.String(250), nullable=True),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("metadata", sa.Text, nullable=True),  # JSON object
    sa.Column("created_time", sa.BigInteger, nullable=False),  # ms
    sa.Index("ix_assessments_trace", "trace_id"),
)

# -------------------------------------------------------------------------------------------- registry
# Written by heron.registry: models and prompts are names (kind 'model' or 'prompt') with numbered,
# immutable versions, tags and movable aliases. ``last_version`` is the name's version counter: bumping
# it row-locks the name, so concurrent writers get consecutive numbers, and the number of a deleted
# version is never handed out again (as in MLflow). Children hang off the integer id, so a rename is one
# UPDATE.

registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(256), nullable=False, unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # model | prompt
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("last_version", sa.Integer, nullable=False, server_default="0"),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Index("ix_registered_models_kind_name", "kind", "name"),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column(
        "model_id",
        sa.Integer,
        sa.ForeignKey("registered_models.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("run_id", sa.String(32), nullable=True),
    sa.Column("run_link", sa.Text, nullable=True),
    sa.Column("description", sa.Text, nullable=True),  # a prompt version's commit message
    sa.Column("user_id", sa.String(256), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, server_default="READY"),
    sa.Column("status_message", sa.Text, nullable=True),
    sa.Column("stage", sa.String(20), nullable=False, server_default="None"),  # None|Staging|Production|Archived
    sa.Column("template", sa.Text, nullable=True),  # prompts: the text, or the chat messages as JSON
    sa.Column("template_type", sa.String(16), nullable=True),  # text | chat
    sa.Column("template_format", sa.String(16), nullable=True),  # double_brace | jinja2
    sa.Column("response_format", sa.Text, nullable=True),  # JSON
    sa.Column("model_config", sa.Text, nullable=True),  # JSON
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_updated_time", sa.BigInteger, nullable=False),
    sa.Index("ix_model_versions_run_id", "run_id"),
)

registered_model_aliases = sa.Table(
    "registered_model_aliases",
    metadata,
    sa.Column("model_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("alias", sa.String(256), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    # Deleting a version deletes the aliases that point at it.
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"], ondelete="CASCADE"
    ),
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    sa.Column(
        "model_id",
        sa.Integer,
        sa.ForeignKey("registered_models.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("key", KEY, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column("model_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("key", KEY, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sa.ForeignKeyConstraint(
        ["model_id", "version"], ["model_versions.model_id", "model_versions.version"], ondelete="CASCADE"
    ),
)

# Authentication and permissions (``heron server --auth``; see heron/auth/). Passwords and API tokens
# are stored only as hashes. Permissions are keyed like MLflow's: an experiment by id, a registered
# model or prompt by name (so that a permission survives until its name is deleted, and none is
# needed for the name to exist).
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(256), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("creation_time", sa.BigInteger, nullable=False),
    sa.Column("last_used_time", sa.BigInteger, nullable=True),
    sa.Column("revoked_time", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("user_id", "name"),
)

experiment_permissions = sa.Table(
    "experiment_permissions",
    metadata,
    sa.Column(
        "experiment_id",
        sa.Integer,
        sa.ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("permission", sa.String(16), nullable=False),
    sa.Index("ix_experiment_permissions_user_id", "user_id"),
)

registered_model_permissions = sa.Table(
    "registered_model_permissions",
    metadata,
    sa.Column("name", sa.String(256), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("permission", sa.String(16), nullable=False),
    sa.Index("ix_registered_model_permissions_user_id", "user_id"),
)
