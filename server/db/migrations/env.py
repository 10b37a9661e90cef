"""Alembic environment: always runs on a connection handed in by server.db.migrate."""

from alembic import context

from server.db.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("run migrations with `bms db upgrade`, not the alembic command")

context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
