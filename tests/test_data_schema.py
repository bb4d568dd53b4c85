"""The data tables the migration makes are the ones the code queries (schema_data.py), on
SQLite and on PostgreSQL, and PostgreSQL has row-level security on the captured data."""
from __future__ import annotations

from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)

DATA_TABLES = {"tabular_data", "binary_data", "binary_blobs", "data_uploads", "datasets", "dataset_members",
               "data_database_users"}


def test_the_migration_makes_the_schema_the_code_queries(fleet_db_url: str) -> None:  # noqa: F811
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import text

    from viamlite_plugins.fleet.db import open_database
    from viamlite_plugins.fleet.db.schema import metadata
    from viamlite_plugins.fleet.db import schema_data  # noqa: F401  (its tables join the metadata)

    db = open_database(fleet_db_url)
    try:
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = [d for d in compare_metadata(context, metadata)
                    if any(t in repr(d) for t in DATA_TABLES)]
            assert diff == []
            # and the comparison sees a difference: a column the migration did not make
            from sqlalchemy import Column, Integer, MetaData

            changed = MetaData()
            for table in metadata.tables.values():
                table.to_metadata(changed)
            changed.tables["tabular_data"].append_column(Column("extra", Integer))
            assert [d[0] for d in compare_metadata(context, changed) if "extra" in repr(d)] == ["add_column"]
            if db.is_postgresql:
                secured = {r[0] for r in conn.execute(text(
                    "SELECT relname FROM pg_class WHERE relrowsecurity AND relname IN ('tabular_data', 'binary_data')"))}
                assert secured == {"tabular_data", "binary_data"}
    finally:
        db.close()
