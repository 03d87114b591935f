"""Alembic environment: runs on the connection Heron hands it (see ``heron.tracking.store.db``)."""

from __future__ import annotations

from alembic import context

from heron.tracking.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - Heron always passes a connection
    raise RuntimeError("Heron migrations run through heron.tracking.store.db.upgrade(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
