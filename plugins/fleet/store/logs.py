"""Machine logs: stored as parts send them, read newest first, followed as they arrive."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, literal_column, or_, select

from viamlite_plugins.fleet.db.schema import logs
from viamlite_plugins.fleet.store import now_us

#: Levels that count as errors for ``errors_only``.
ERROR_LEVELS = ("error", "fatal", "panic", "dpanic")


@dataclass
class Record:
    time_us: int
    level: str
    logger_name: str
    message: str
    host: str = ""
    caller: dict[str, Any] | None = None
    stack: str = ""
    fields: list[dict[str, Any]] = field(default_factory=list)
    id: int = 0


@dataclass(frozen=True)
class Filter:
    """Which records a query wants: a keyword in the message or logger name, levels, a time range."""

    keyword: str = ""
    levels: Sequence[str] = ()
    errors_only: bool = False
    start_us: int | None = None
    end_us: int | None = None


def insert(conn: Connection, batches: Iterable[tuple[str, Iterable[Record]]]) -> int:
    """Store records of one or more parts ((part id, records) pairs) in one statement."""
    received = now_us()
    rows = [{"part_id": part_id, "time_us": r.time_us or received, "received_us": received, "level": r.level,
             "logger_name": r.logger_name, "message": r.message, "host": r.host,
             "caller": json.dumps(r.caller) if r.caller else None, "stack": r.stack or None,
             "fields": json.dumps(r.fields) if r.fields else None}
            for part_id, records in batches for r in records]
    if rows:
        conn.execute(logs.insert(), rows)
    return len(rows)


def _escape(keyword: str) -> str:
    return keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(query: Any, part_id: str, f: Filter) -> Any:
    query = query.where(logs.c.part_id == part_id)
    if f.keyword:
        # One expression over the message and the logger name: on PostgreSQL a trigram
        # index of exactly this expression serves the filter (migration 0004).
        text = logs.c.message.op("||")(literal_column("' '")).op("||")(logs.c.logger_name)
        query = query.where(text.ilike(f"%{_escape(f.keyword)}%", escape="\\"))
    levels = [level.lower() for level in f.levels]
    if f.errors_only:
        levels = [level for level in levels if level in ERROR_LEVELS] if levels else list(ERROR_LEVELS)
        if not levels:
            levels = ["\0none"]
    if levels:
        query = query.where(logs.c.level.in_(levels))
    if f.start_us is not None:
        query = query.where(logs.c.time_us >= f.start_us)
    if f.end_us is not None:
        query = query.where(logs.c.time_us <= f.end_us)
    return query


def _record(row: Any) -> Record:
    return Record(time_us=row.time_us, level=row.level, logger_name=row.logger_name, message=row.message,
                  host=row.host, caller=json.loads(row.caller) if row.caller else None, stack=row.stack or "",
                  fields=json.loads(row.fields) if row.fields else [], id=row.id)


def page(conn: Connection, part_id: str, f: Filter, *, after: tuple[int, int] | None, limit: int,
         oldest_first: bool = False) -> list[Record]:
    """Up to ``limit`` records, newest first (or oldest first), continuing after the
    (time, id) of the last record of the previous page."""
    query = _where(select(logs), part_id, f)
    if after is not None:
        t, i = after
        if oldest_first:
            query = query.where(or_(logs.c.time_us > t, (logs.c.time_us == t) & (logs.c.id > i)))
        else:
            query = query.where(or_(logs.c.time_us < t, (logs.c.time_us == t) & (logs.c.id < i)))
    order = (logs.c.time_us, logs.c.id) if oldest_first else (logs.c.time_us.desc(), logs.c.id.desc())
    return [_record(row) for row in conn.execute(query.order_by(*order).limit(limit))]


def received_since(conn: Connection, part_id: str, f: Filter, since_us: int, limit: int = 1000) -> list[Record]:
    """Records the fleet stored at or after ``since_us``, in the order they came."""
    query = _where(select(logs), part_id, f).where(logs.c.received_us >= since_us)
    return [_record(row) for row in conn.execute(query.order_by(logs.c.id).limit(limit))]
