"""The fleet's tables: one SQLAlchemy Core schema for SQLite and PostgreSQL.

Ids are UUIDs as text. Times are integer microseconds since the epoch (UTC), so both
databases compare and index them the same way. Configs and other documents are JSON text.
The Alembic migrations in ``plugins/fleet/db/migrations`` create these tables; this module
is what the code queries.
"""
from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ID = 36  # a UUID's text form

settings = Table(
    "fleet_settings", metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

organizations = Table(
    "organizations", metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("public_namespace", String(200), unique=True),
    Column("created_us", BigInteger, nullable=False),
)

locations = Table(
    "locations", metadata,
    Column("id", String(ID), primary_key=True),
    Column("organization_id", String(ID), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("parent_location_id", String(ID)),
    Column("name", String(200), nullable=False),
    Column("secret", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

robots = Table(
    "robots", metadata,
    Column("id", String(ID), primary_key=True),
    Column("location_id", String(ID), ForeignKey("locations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("location_id", "name", name="uq_robots_location_name"),
)

parts = Table(
    "parts", metadata,
    Column("id", String(ID), primary_key=True),
    Column("robot_id", String(ID), ForeignKey("robots.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("main_part", Boolean, nullable=False),
    Column("secret", String(64), nullable=False),
    Column("config", Text, nullable=False),  # the part's machine config, viam-server JSON
    Column("fqdn", String(300), nullable=False, default=""),
    Column("local_fqdn", String(300), nullable=False, default=""),
    Column("agent_info", Text, nullable=False, default="{}"),
    Column("last_access_us", BigInteger),
    Column("online_window_s", Integer, nullable=False, default=30),
    Column("needs_restart", Boolean, nullable=False, default=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    UniqueConstraint("robot_id", "name", name="uq_parts_robot_name"),
)

part_history = Table(
    "part_history", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("part_id", String(ID), ForeignKey("parts.id", ondelete="CASCADE"), nullable=False),
    Column("robot_id", String(ID), nullable=False),
    Column("name", String(200), nullable=False),
    Column("config", Text, nullable=False),  # the config before the edit
    Column("edited_by", String(ID), nullable=False),  # the key id that made the edit
    Column("when_us", BigInteger, nullable=False),
    Index("ix_part_history_part_when", "part_id", "when_us"),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(80), nullable=False),  # "sha256:<hex>"; the key itself is never stored
    Column("created_us", BigInteger, nullable=False),
)

authorizations = Table(
    "authorizations", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("key_id", String(ID), ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("organization_id", String(ID), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role", String(16), nullable=False),  # owner | operator
    Column("resource_type", String(16), nullable=False),  # organization | location | robot
    Column("resource_id", String(ID), nullable=False),
    Index("ix_authorizations_resource", "resource_type", "resource_id"),
)

logs = Table(
    "logs", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("part_id", String(ID), ForeignKey("parts.id", ondelete="CASCADE"), nullable=False),
    Column("time_us", BigInteger, nullable=False),  # when the record was made, on the machine
    Column("received_us", BigInteger, nullable=False),  # when the fleet stored it
    Column("level", String(8), nullable=False),
    Column("logger_name", String(300), nullable=False),
    Column("message", Text, nullable=False),
    Column("host", String(300), nullable=False),
    Column("caller", Text),  # JSON object
    Column("stack", Text),
    Column("fields", Text),  # JSON list of objects
    Index("ix_logs_part_time", "part_id", "time_us", "id"),
    Index("ix_logs_part_received", "part_id", "received_us"),
)

#: Ids of log batches already stored (kept an hour), so a batch sent again is not stored twice.
log_batches = Table(
    "log_batches", metadata,
    Column("id", String(64), primary_key=True),
    Column("part_id", String(ID), nullable=False),
    Column("received_us", BigInteger, nullable=False, index=True),
)
