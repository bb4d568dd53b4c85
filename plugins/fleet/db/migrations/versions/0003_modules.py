"""The module registry: modules and their packages (bytes in the database).

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = 36


def upgrade() -> None:
    op.create_table("modules",
                    sa.Column("id", sa.String(ID), primary_key=True),
                    sa.Column("organization_id", sa.String(ID),
                              sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("visibility", sa.String(20), nullable=False),
                    sa.Column("url", sa.Text, nullable=False),
                    sa.Column("description", sa.Text, nullable=False),
                    sa.Column("models", sa.Text, nullable=False),
                    sa.Column("entrypoint", sa.Text, nullable=False),
                    sa.Column("first_run", sa.Text),
                    sa.Column("markdown_description", sa.Text),
                    sa.Column("created_us", sa.BigInteger, nullable=False),
                    sa.Column("updated_us", sa.BigInteger, nullable=False),
                    sa.UniqueConstraint("organization_id", "name", name="uq_modules_org_name"))
    op.create_index("ix_modules_organization_id", "modules", ["organization_id"])
    op.create_table("module_packages",
                    sa.Column("module_row", sa.String(ID), sa.ForeignKey("modules.id", ondelete="CASCADE"),
                              nullable=False),
                    sa.Column("version", sa.String(100), nullable=False),
                    sa.Column("platform", sa.String(100), nullable=False),
                    sa.Column("platform_tags", sa.Text, nullable=False),
                    sa.Column("entrypoint", sa.Text, nullable=False),
                    sa.Column("models", sa.Text, nullable=False),
                    sa.Column("size", sa.BigInteger, nullable=False),
                    sa.Column("sha256", sa.String(64), nullable=False),
                    sa.Column("data", sa.LargeBinary, nullable=False),
                    sa.Column("uploaded_us", sa.BigInteger, nullable=False),
                    sa.UniqueConstraint("module_row", "version", "platform",
                                        name="uq_module_packages_version_platform"))
    op.create_index("ix_module_packages_module_row", "module_packages", ["module_row"])


def downgrade() -> None:
    op.drop_table("module_packages")
    op.drop_table("modules")
