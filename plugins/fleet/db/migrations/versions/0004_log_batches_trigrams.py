"""Log batch ids (a resent batch is stored once) and, on PostgreSQL, a trigram index for
keyword filters on logs.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("log_batches",
                    sa.Column("id", sa.String(64), primary_key=True),
                    sa.Column("part_id", sa.String(36), nullable=False),
                    sa.Column("received_us", sa.BigInteger, nullable=False))
    op.create_index("ix_log_batches_received_us", "log_batches", ["received_us"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        available = bind.execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")).scalar()
        if available:
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            # The expression the keyword filter matches (plugins/fleet/store/logs.py).
            op.execute("CREATE INDEX ix_logs_text_trgm ON logs USING gin (((message || ' ') || logger_name) gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_logs_text_trgm")
    op.drop_table("log_batches")
