"""The fleet's database: open a URL, apply the migrations, hand out connections.

``sqlite:///PATH`` (the default, one process) or ``postgresql://...`` (several fleet
processes on one database; psycopg 3 is the driver).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from viamlite.errors import ViamliteError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: Held while migrating, so fleet processes starting together on one PostgreSQL take turns.
_MIGRATION_LOCK = 7_256_104_451


class DatabaseError(ViamliteError, RuntimeError):
    """The database URL is wrong or the database cannot be reached (says which, and the fix)."""


@dataclass(frozen=True)
class Database:
    engine: Engine
    url: str
    _writer: Engine = field(init=False, repr=False)
    _write_lock: AbstractContextManager = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_writer", self.engine.execution_options(immediate=True))
        # SQLite has one writer at a time: this process's writers queue here rather than
        # in SQLite's busy handler, which sleeps in steps of up to 100 ms.
        lock = threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()
        object.__setattr__(self, "_write_lock", lock)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a transaction that will write (on SQLite it takes the write lock
        at once, so two writers wait for each other instead of failing)."""
        with self._write_lock, self._writer.begin() as conn:
            yield conn

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def close(self) -> None:
        self.engine.dispose()


def default_url() -> str:
    from viamlite.transport.tlscert import viamlite_home

    return f"sqlite:///{viamlite_home() / 'fleet.db'}"


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"--db {url!r} is not a database URL: use sqlite:///PATH or "
                            f"postgresql://USER@HOST:PORT/DATABASE") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise DatabaseError(f"--db {url!r} names no file: use sqlite:///PATH (an absolute path is "
                                f"sqlite:////abs/path)")
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed.set(drivername="sqlite+pysqlite", database=os.path.expanduser(parsed.database)),
                               connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8,
                               max_overflow=16)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # SQLAlchemy, not the sqlite3 module, begins transactions (so savepoints work).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("immediate") else "BEGIN")

        return engine
    if backend == "postgresql":
        # Custom plans: psycopg prepares a statement after a few runs, and PostgreSQL's generic
        # plan for a keyword filter ignores the trigram index.
        return create_engine(parsed.set(drivername="postgresql+psycopg"), pool_size=10, max_overflow=20,
                             connect_args={"options": "-c plan_cache_mode=force_custom_plan"})
    raise DatabaseError(f"--db {url!r}: the fleet runs on SQLite or PostgreSQL, not {backend!r}; "
                        f"use sqlite:///PATH or postgresql://...")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str) -> Database:
    """Open ``url`` and apply the migrations; raises :class:`DatabaseError` with the fix."""
    engine = _engine(url)
    try:
        migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(f"cannot open the fleet database {make_url(url).render_as_string(hide_password=True)}: "
                            f"{reason}; check that the server is running and the URL is right") from None
    return Database(engine, url)
