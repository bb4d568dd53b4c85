"""Data: tabular and binary captures, uploads, datasets, database users.

On PostgreSQL, row-level security is enabled on ``tabular_data`` and ``binary_data``: the
fleet owns the tables and so sees every row, and the roles ConfigureDatabaseUser makes see
only their organization's rows (each gets a policy of its own).

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = 36


def _serial() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _capture_columns() -> list[sa.Column]:
    return [
        sa.Column("organization_id", sa.String(ID), nullable=False),
        sa.Column("location_id", sa.String(ID), nullable=False),
        sa.Column("robot_id", sa.String(ID), nullable=False),
        sa.Column("robot_name", sa.String(200), nullable=False),
        sa.Column("part_id", sa.String(ID), nullable=False),
        sa.Column("part_name", sa.String(200), nullable=False),
        sa.Column("component_type", sa.String(200), nullable=False),
        sa.Column("component_name", sa.String(200), nullable=False),
        sa.Column("method_name", sa.String(200), nullable=False),
        sa.Column("method_parameters", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("mime_type", sa.String(200), nullable=False),
        sa.Column("time_requested_us", sa.BigInteger, nullable=False),
        sa.Column("time_received_us", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    op.create_table("tabular_data",
                    sa.Column("id", _serial(), primary_key=True, autoincrement=True),
                    *_capture_columns(),
                    sa.Column("upload_id", _serial(), nullable=False),
                    sa.Column("data", sa.Text, nullable=False),
                    sa.Column("payload", sa.LargeBinary))
    op.create_index("ix_tabular_org_time", "tabular_data", ["organization_id", "time_requested_us", "id"])
    op.create_index("ix_tabular_part_resource", "tabular_data",
                    ["part_id", "component_name", "method_name", "time_requested_us"])
    op.create_table("binary_data",
                    sa.Column("id", sa.String(ID), primary_key=True),
                    *_capture_columns(),
                    sa.Column("upload_id", _serial(), nullable=False),
                    sa.Column("file_name", sa.String(500), nullable=False),
                    sa.Column("file_ext", sa.String(50), nullable=False),
                    sa.Column("size", sa.BigInteger, nullable=False))
    op.create_index("ix_binary_org_time", "binary_data", ["organization_id", "time_requested_us", "id"])
    op.create_index("ix_binary_part", "binary_data", ["part_id", "component_name", "time_requested_us"])
    op.create_table("binary_blobs",
                    sa.Column("id", sa.String(ID), sa.ForeignKey("binary_data.id", ondelete="CASCADE"),
                              primary_key=True),
                    sa.Column("data", sa.LargeBinary, nullable=False))
    op.create_table("data_uploads",
                    sa.Column("id", _serial(), primary_key=True, autoincrement=True),
                    sa.Column("part_id", sa.String(ID), nullable=False),
                    sa.Column("key", sa.String(300)),
                    sa.Column("file_id", sa.String(ID), nullable=False),
                    sa.Column("binary_data_id", sa.String(ID), nullable=False),
                    sa.Column("created_us", sa.BigInteger, nullable=False),
                    sa.UniqueConstraint("part_id", "key", name="uq_data_uploads_part_key"))
    op.create_table("datasets",
                    sa.Column("id", sa.String(ID), primary_key=True),
                    sa.Column("organization_id", sa.String(ID),
                              sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True),
                    sa.Column("name", sa.String(200), nullable=False),
                    sa.Column("created_us", sa.BigInteger, nullable=False),
                    sa.UniqueConstraint("organization_id", "name", name="uq_datasets_org_name"))
    op.create_table("dataset_members",
                    sa.Column("dataset_id", sa.String(ID), sa.ForeignKey("datasets.id", ondelete="CASCADE"),
                              primary_key=True),
                    sa.Column("binary_id", sa.String(ID), sa.ForeignKey("binary_data.id", ondelete="CASCADE"),
                              primary_key=True))
    op.create_index("ix_dataset_members_binary", "dataset_members", ["binary_id"])
    op.create_table("data_database_users",
                    sa.Column("organization_id", sa.String(ID),
                              sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
                    sa.Column("role", sa.String(63), nullable=False, unique=True),
                    sa.Column("updated_us", sa.BigInteger, nullable=False))
    if op.get_bind().dialect.name == "postgresql":
        for table in ("tabular_data", "binary_data"):
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    for table in ("data_database_users", "dataset_members", "datasets", "data_uploads", "binary_blobs",
                  "binary_data", "tabular_data"):
        op.drop_table(table)
