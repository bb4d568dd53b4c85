"""Alembic's environment for the fleet: migrations run on a connection the fleet hands over."""
from __future__ import annotations

from alembic import context

from viamlite_plugins.fleet.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
