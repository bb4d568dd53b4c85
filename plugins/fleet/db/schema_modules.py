"""The fleet's module registry tables: modules, and their packages (one file per version
and platform, its bytes in the database like binary data, so every fleet process serves it).

On the same :data:`~viamlite_plugins.fleet.db.schema.metadata` as the rest of the schema;
the Alembic migration ``0003_modules`` creates them.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String, Table, Text, UniqueConstraint

from viamlite_plugins.fleet.db.schema import ID, metadata

modules = Table(
    "modules", metadata,
    Column("id", String(ID), primary_key=True),  # the fleet's row id
    Column("organization_id", String(ID), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("name", String(200), nullable=False),
    Column("visibility", String(20), nullable=False),  # private | public | public_unlisted
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("models", Text, nullable=False),  # JSON list of {"api", "model"}
    Column("entrypoint", Text, nullable=False),
    Column("first_run", Text),
    Column("markdown_description", Text),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    UniqueConstraint("organization_id", "name", name="uq_modules_org_name"),
)

module_packages = Table(
    "module_packages", metadata,
    Column("module_row", String(ID), ForeignKey("modules.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("version", String(100), nullable=False),
    Column("platform", String(100), nullable=False),  # "linux/arm64", "any", ...
    Column("platform_tags", Text, nullable=False),  # JSON list
    Column("entrypoint", Text, nullable=False),  # the module's entrypoint when this was uploaded
    Column("models", Text, nullable=False),  # the module's models then (JSON)
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),  # the .tar.gz
    Column("uploaded_us", BigInteger, nullable=False),
    UniqueConstraint("module_row", "version", "platform", name="uq_module_packages_version_platform"),
)
