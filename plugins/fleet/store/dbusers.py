"""PostgreSQL roles that read one organization's captured data directly (``psql``, any SQL
client): ``data database configure`` makes one, limited by row-level security.

The fleet owns ``tabular_data`` and ``binary_data``, on which the migration enabled
row-level security; each organization's role gets SELECT on them and a policy of its own
that lets it see only rows of its organization. It is granted nothing else.
"""
from __future__ import annotations

from sqlalchemy import Connection, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from viamlite.errors import FailedPreconditionError, InvalidArgumentError
from viamlite_plugins.fleet.db.schema_data import database_users
from viamlite_plugins.fleet.store import now_us

TABLES = ("tabular_data", "binary_data")
NEEDS_POSTGRESQL = ("direct database access needs the fleet on PostgreSQL (viamlite fleet serve --db "
                    "postgresql://...); this fleet runs on SQLite")


def role_name(organization_id: str) -> str:
    return "viamlite_org_" + organization_id.replace("-", "")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def configure(conn: Connection, organization_id: str, password: str) -> str:
    """Make (or give a new password to) the organization's role; returns its name."""
    if conn.dialect.name != "postgresql":
        raise FailedPreconditionError(NEEDS_POSTGRESQL)
    if not 8 <= len(password) <= 200 or "\x00" in password:
        raise InvalidArgumentError("password must be 8 to 200 characters long")
    role = role_name(organization_id)
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is not None
    verb = "ALTER" if exists else "CREATE"
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(f'{verb} ROLE "{role}" LOGIN NOINHERIT PASSWORD {_literal(password)}')
            database = conn.exec_driver_sql("SELECT current_database()").scalar_one()
            conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
            conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA public TO "{role}"')
            for table in TABLES:
                conn.exec_driver_sql(f'GRANT SELECT ON {table} TO "{role}"')
                conn.exec_driver_sql(f'DROP POLICY IF EXISTS "{role}" ON {table}')
                conn.exec_driver_sql(f'CREATE POLICY "{role}" ON {table} FOR SELECT TO "{role}" '
                                     f'USING (organization_id = {_literal(organization_id)})')
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise FailedPreconditionError(f"the fleet's database user cannot make a role for direct access ({reason}): "
                                      f"run the fleet as a PostgreSQL user with CREATEROLE") from None
    row = {"organization_id": organization_id, "role": role, "updated_us": now_us()}
    if conn.execute(select(database_users.c.role).where(database_users.c.organization_id == organization_id)).first():
        conn.execute(database_users.update().where(database_users.c.organization_id == organization_id)
                     .values(updated_us=row["updated_us"]))
    else:
        conn.execute(database_users.insert().values(**row))
    return role


def connection(conn: Connection, url: str, organization_id: str) -> tuple[str, str, bool]:
    """(hostname, connection URI without the password, whether the role exists)."""
    if conn.dialect.name != "postgresql":
        raise FailedPreconditionError(NEEDS_POSTGRESQL)
    parsed = make_url(url)
    host = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    role = role_name(organization_id)
    has = conn.execute(select(database_users.c.role).where(database_users.c.organization_id == organization_id)
                       ).first() is not None
    return host, f"postgresql://{role}@{host}/{parsed.database}", has
