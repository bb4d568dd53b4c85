"""The fleet's data tables: captured tabular data, binary data and its bytes, uploads (for
deduplication), datasets, and the organizations' database users.

On the same :data:`~viamlite_plugins.fleet.db.schema.metadata` as the rest of the schema;
the Alembic migration ``0002_data`` creates them. Each row carries the ids and names of
where it was captured (organization, location, machine, part) as they were at upload, as
Viam's capture metadata does, so filters and row-level security need no joins.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint

from viamlite_plugins.fleet.db.schema import ID, metadata


def _serial() -> BigInteger:
    return BigInteger().with_variant(Integer, "sqlite")  # type: ignore[return-value]


def _capture_columns() -> list[Column]:
    return [
        Column("organization_id", String(ID), nullable=False),
        Column("location_id", String(ID), nullable=False),
        Column("robot_id", String(ID), nullable=False),
        Column("robot_name", String(200), nullable=False),
        Column("part_id", String(ID), nullable=False),
        Column("part_name", String(200), nullable=False),
        Column("component_type", String(200), nullable=False),
        Column("component_name", String(200), nullable=False),
        Column("method_name", String(200), nullable=False),
        Column("method_parameters", Text, nullable=False),  # JSON object
        Column("tags", Text, nullable=False),  # JSON list
        Column("mime_type", String(200), nullable=False),
        Column("time_requested_us", BigInteger, nullable=False),
        Column("time_received_us", BigInteger, nullable=False),
    ]


tabular_data = Table(
    "tabular_data", metadata,
    Column("id", _serial(), primary_key=True, autoincrement=True),
    *_capture_columns(),
    Column("upload_id", _serial(), nullable=False),  # the upload that brought it
    Column("data", Text, nullable=False),  # the SensorData struct, JSON (for SQL clients)
    Column("payload", LargeBinary),  # the same struct as protobuf bytes (for replies, without conversion)
    Index("ix_tabular_org_time", "organization_id", "time_requested_us", "id"),
    Index("ix_tabular_part_resource", "part_id", "component_name", "method_name", "time_requested_us"),
)

binary_data = Table(
    "binary_data", metadata,
    Column("id", String(ID), primary_key=True),  # the binary data id
    *_capture_columns(),
    Column("upload_id", _serial(), nullable=False),
    Column("file_name", String(500), nullable=False),
    Column("file_ext", String(50), nullable=False),
    Column("size", BigInteger, nullable=False),
    Index("ix_binary_org_time", "organization_id", "time_requested_us", "id"),
    Index("ix_binary_part", "part_id", "component_name", "time_requested_us"),
)

#: The bytes of each binary, apart from its metadata so filters never read them.
binary_blobs = Table(
    "binary_blobs", metadata,
    Column("id", String(ID), ForeignKey("binary_data.id", ondelete="CASCADE"), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

#: One row per upload; a machine's retry with the same ``key`` finds its first upload's
#: row and adds nothing (so a lost acknowledgement never duplicates data).
uploads = Table(
    "data_uploads", metadata,
    Column("id", _serial(), primary_key=True, autoincrement=True),
    Column("part_id", String(ID), nullable=False),
    Column("key", String(300)),  # the machine's stable id for the upload; NULL: not deduplicated
    Column("file_id", String(ID), nullable=False),
    Column("binary_data_id", String(ID), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("part_id", "key", name="uq_data_uploads_part_key"),
)

datasets = Table(
    "datasets", metadata,
    Column("id", String(ID), primary_key=True),
    Column("organization_id", String(ID), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("name", String(200), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("organization_id", "name", name="uq_datasets_org_name"),
)

dataset_members = Table(
    "dataset_members", metadata,
    Column("dataset_id", String(ID), ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True),
    Column("binary_id", String(ID), ForeignKey("binary_data.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_dataset_members_binary", "binary_id"),
)

#: The PostgreSQL role made for an organization by ConfigureDatabaseUser.
database_users = Table(
    "data_database_users", metadata,
    Column("organization_id", String(ID), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(63), nullable=False, unique=True),
    Column("updated_us", BigInteger, nullable=False),
)
