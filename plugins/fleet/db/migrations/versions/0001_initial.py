"""The fleet's first schema: organizations, locations, machines, parts, keys, logs.

Revision ID: 0001
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = 36


def _serial() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table("fleet_settings",
                    sa.Column("name", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
    op.create_table("organizations",
                    sa.Column("id", sa.String(ID), primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("public_namespace", sa.String(200), unique=True),
                    sa.Column("created_us", sa.BigInteger, nullable=False))
    op.create_table("locations",
                    sa.Column("id", sa.String(ID), primary_key=True),
                    sa.Column("organization_id", sa.String(ID),
                              sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True),
                    sa.Column("parent_location_id", sa.String(ID)),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("secret", sa.String(64), nullable=False),
                    sa.Column("created_us", sa.BigInteger, nullable=False))
    op.create_table("robots",
                    sa.Column("id", sa.String(ID), primary_key=True),
                    sa.Column("location_id", sa.String(ID),
                              sa.ForeignKey("locations.id", ondelete="CASCADE"), nullable=False, index=True),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("created_us", sa.BigInteger, nullable=False),
                    sa.UniqueConstraint("location_id", "name", name="uq_robots_location_name"))
    op.create_table("parts",
                    sa.Column("id", sa.String(ID), primary_key=True),
                    sa.Column("robot_id", sa.String(ID),
                              sa.ForeignKey("robots.id", ondelete="CASCADE"), nullable=False, index=True),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("main_part", sa.Boolean, nullable=False),
                    sa.Column("secret", sa.String(64), nullable=False),
                    sa.Column("config", sa.Text, nullable=False),
                    sa.Column("fqdn", sa.String(300), nullable=False),
                    sa.Column("local_fqdn", sa.String(300), nullable=False),
                    sa.Column("agent_info", sa.Text, nullable=False),
                    sa.Column("last_access_us", sa.BigInteger),
                    sa.Column("online_window_s", sa.Integer, nullable=False),
                    sa.Column("needs_restart", sa.Boolean, nullable=False),
                    sa.Column("created_us", sa.BigInteger, nullable=False),
                    sa.Column("updated_us", sa.BigInteger, nullable=False),
                    sa.UniqueConstraint("robot_id", "name", name="uq_parts_robot_name"))
    op.create_table("part_history",
                    sa.Column("id", _serial(), primary_key=True, autoincrement=True),
                    sa.Column("part_id", sa.String(ID), sa.ForeignKey("parts.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("robot_id", sa.String(ID), nullable=False),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("config", sa.Text, nullable=False),
                    sa.Column("edited_by", sa.String(ID), nullable=False),
                    sa.Column("when_us", sa.BigInteger, nullable=False))
    op.create_index("ix_part_history_part_when", "part_history", ["part_id", "when_us"])
    op.create_table("api_keys",
                    sa.Column("id", sa.String(ID), primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("key_hash", sa.String(80), nullable=False),
                    sa.Column("created_us", sa.BigInteger, nullable=False))
    op.create_table("authorizations",
                    sa.Column("id", _serial(), primary_key=True, autoincrement=True),
                    sa.Column("key_id", sa.String(ID),
                              sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False, index=True),
                    sa.Column("organization_id", sa.String(ID),
                              sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True),
                    sa.Column("role", sa.String(16), nullable=False),
                    sa.Column("resource_type", sa.String(16), nullable=False),
                    sa.Column("resource_id", sa.String(ID), nullable=False))
    op.create_index("ix_authorizations_resource", "authorizations", ["resource_type", "resource_id"])
    op.create_table("logs",
                    sa.Column("id", _serial(), primary_key=True, autoincrement=True),
                    sa.Column("part_id", sa.String(ID), sa.ForeignKey("parts.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("time_us", sa.BigInteger, nullable=False),
                    sa.Column("received_us", sa.BigInteger, nullable=False),
                    sa.Column("level", sa.String(8), nullable=False),
                    sa.Column("logger_name", sa.String(300), nullable=False),
                    sa.Column("message", sa.Text, nullable=False),
                    sa.Column("host", sa.String(300), nullable=False),
                    sa.Column("caller", sa.Text),
                    sa.Column("stack", sa.Text),
                    sa.Column("fields", sa.Text))
    op.create_index("ix_logs_part_time", "logs", ["part_id", "time_us", "id"])
    op.create_index("ix_logs_part_received", "logs", ["part_id", "received_us"])


def downgrade() -> None:
    for table in ("logs", "authorizations", "api_keys", "part_history", "parts", "robots", "locations",
                  "organizations", "fleet_settings"):
        op.drop_table(table)
