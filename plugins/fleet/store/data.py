"""Captured data: uploads (deduplicated by the machine's key), tabular rows, binaries and
their bytes, filters, pages, exports and deletions.

A filter becomes one SQL condition (:func:`condition`), ANDed with the caller's scope
(given by the service as another condition), so every query says at once what it needs.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, delete, false, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from viamlite_plugins.fleet.db.schema_data import binary_blobs, binary_data, dataset_members, tabular_data, uploads
from viamlite_plugins.fleet.store import new_id, now_us


@dataclass(frozen=True)
class Origin:
    """Where data was captured: the part and what it belongs to, as they were at upload."""

    organization_id: str
    location_id: str
    robot_id: str
    robot_name: str
    part_id: str
    part_name: str


@dataclass(frozen=True)
class Capture:
    """What was captured: the resource, the method and its parameters, tags, MIME type."""

    component_type: str = ""
    component_name: str = ""
    method_name: str = ""
    method_parameters: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    mime_type: str = ""


@dataclass(frozen=True)
class Upload:
    id: int
    file_id: str
    binary_data_id: str
    repeated: bool  # True: the key was seen before, nothing is to be stored again


def begin_upload(conn: Connection, part_id: str, key: str | None, *, binary: bool) -> Upload:
    """Record an upload; with a ``key`` seen before for the part, the first upload's ids
    (``repeated``), and the caller stores nothing."""
    file_id, binary_id = new_id(), (new_id() if binary else "")
    if key:
        existing = conn.execute(select(uploads).where(uploads.c.part_id == part_id, uploads.c.key == key)).first()
        if existing is not None:
            return Upload(existing.id, existing.file_id, existing.binary_data_id, True)
    try:
        with conn.begin_nested():
            upload_id = conn.execute(uploads.insert().values(
                part_id=part_id, key=key or None, file_id=file_id, binary_data_id=binary_id,
                created_us=now_us())).inserted_primary_key[0]
    except IntegrityError:  # another process stored the same upload a moment ago
        existing = conn.execute(select(uploads).where(uploads.c.part_id == part_id, uploads.c.key == key)).one()
        return Upload(existing.id, existing.file_id, existing.binary_data_id, True)
    return Upload(int(upload_id), file_id, binary_id, False)


def _capture_values(origin: Origin, capture: Capture, upload_id: int) -> dict[str, Any]:
    return {"organization_id": origin.organization_id, "location_id": origin.location_id,
            "robot_id": origin.robot_id, "robot_name": origin.robot_name, "part_id": origin.part_id,
            "part_name": origin.part_name, "component_type": capture.component_type,
            "component_name": capture.component_name, "method_name": capture.method_name,
            "method_parameters": json.dumps(capture.method_parameters, separators=(",", ":")),
            "tags": json.dumps(list(capture.tags)), "mime_type": capture.mime_type, "upload_id": upload_id}


def insert_tabular(conn: Connection, origin: Origin, capture: Capture, upload_id: int,
                   rows: Iterable[tuple[int, int, dict[str, Any], bytes | None]]) -> int:
    """Store ``rows`` of (time requested µs, time received µs, data, the data as a
    serialized ``google.protobuf.Struct`` or None); returns how many."""
    base = _capture_values(origin, capture, upload_id)
    values = [{**base, "time_requested_us": t_req, "time_received_us": t_rec,
               "data": json.dumps(data, separators=(",", ":")), "payload": payload}
              for t_req, t_rec, data, payload in rows]
    if values:
        conn.execute(tabular_data.insert(), values)
    return len(values)


def insert_binary(conn: Connection, origin: Origin, capture: Capture, upload_id: int, binary_id: str, *,
                  time_requested_us: int, time_received_us: int, file_name: str, file_ext: str, data: bytes) -> None:
    conn.execute(binary_data.insert().values(
        id=binary_id, **_capture_values(origin, capture, upload_id), time_requested_us=time_requested_us,
        time_received_us=time_received_us, file_name=file_name, file_ext=file_ext, size=len(data)))
    conn.execute(binary_blobs.insert().values(id=binary_id, data=data))


# -- filters ------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """viam.app.data.v1.Filter, as plain values (empty: no condition)."""

    component_name: str = ""
    component_type: str = ""
    method: str = ""
    robot_name: str = ""
    robot_id: str = ""
    part_name: str = ""
    part_id: str = ""
    location_ids: tuple[str, ...] = ()
    organization_ids: tuple[str, ...] = ()
    mime_types: tuple[str, ...] = ()
    start_us: int | None = None
    end_us: int | None = None
    tags: tuple[str, ...] = ()
    tags_mode: str = ""  # "" (any of tags, when given), "tagged", "untagged"
    dataset_id: str = ""


def _api_matches(column: Any, value: str) -> ColumnElement[bool]:
    """A component type as the API triplet (rdk:component:sensor) or its subtype (sensor)."""
    if ":" in value:
        return column == value
    return or_(column == value, column.like(f"%:{value}"))


def condition(table: Any, f: Filter) -> ColumnElement[bool]:
    """The SQL condition of ``f`` on ``table`` (tabular_data or binary_data)."""
    c = table.c
    parts: list[ColumnElement[bool]] = []
    for name, column in (("component_name", c.component_name), ("method", c.method_name),
                         ("robot_name", c.robot_name), ("robot_id", c.robot_id), ("part_name", c.part_name),
                         ("part_id", c.part_id)):
        value = getattr(f, name)
        if value:
            parts.append(column == value)
    if f.component_type:
        parts.append(_api_matches(c.component_type, f.component_type))
    if f.location_ids:
        parts.append(c.location_id.in_(f.location_ids))
    if f.organization_ids:
        parts.append(c.organization_id.in_(f.organization_ids))
    if f.mime_types:
        parts.append(c.mime_type.in_(f.mime_types))
    if f.start_us is not None:
        parts.append(c.time_requested_us >= f.start_us)
    if f.end_us is not None:
        parts.append(c.time_requested_us <= f.end_us)
    if f.tags_mode == "untagged":
        parts.append(c.tags == "[]")
    elif f.tags_mode == "tagged":
        parts.append(c.tags != "[]")
    if f.tags:
        parts.append(or_(*(c.tags.like(f"%{json.dumps(t)}%") for t in f.tags)))
    if f.dataset_id:
        if table is binary_data:
            members = select(dataset_members.c.binary_id).where(dataset_members.c.dataset_id == f.dataset_id)
            parts.append(c.id.in_(members))
        else:
            parts.append(false())  # datasets hold binary data only
    return and_(true(), *parts)


def scope_condition(table: Any, organizations: Sequence[str], locations: Sequence[tuple[str, str]],
                    robots: Sequence[tuple[str, str]]) -> ColumnElement[bool]:
    """Rows a principal may see: whole organizations, and (organization, location) and
    (organization, machine) pairs."""
    c = table.c
    ors: list[ColumnElement[bool]] = []
    if organizations:
        ors.append(c.organization_id.in_(list(organizations)))
    ors += [and_(c.organization_id == org, c.location_id == loc) for org, loc in locations]
    ors += [and_(c.organization_id == org, c.robot_id == robot) for org, robot in robots]
    return or_(false(), *ors)


# -- reading ------------------------------------------------------------------------


def _order(table: Any, descending: bool) -> list[Any]:
    c = table.c
    return [c.time_requested_us.desc(), c.id.desc()] if descending else [c.time_requested_us, c.id]


def _after(table: Any, last: tuple[int, Any] | None, descending: bool) -> ColumnElement[bool]:
    if last is None:
        return true()
    t, i = last
    c = table.c
    if descending:
        return or_(c.time_requested_us < t, and_(c.time_requested_us == t, c.id < i))
    return or_(c.time_requested_us > t, and_(c.time_requested_us == t, c.id > i))


def count(conn: Connection, table: Any, where: ColumnElement[bool]) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(where)).scalar_one())


def page(conn: Connection, table: Any, where: ColumnElement[bool], *, limit: int, last: tuple[int, Any] | None,
         descending: bool) -> list[Any]:
    """Rows in capture-time order after ``last`` (time requested µs, row id)."""
    query = select(table).where(where, _after(table, last, descending)).order_by(*_order(table, descending))
    return list(conn.execute(query.limit(limit)))


def stream(conn: Connection, table: Any, where: ColumnElement[bool], batch: int = 2000) -> Iterator[Any]:
    """Every matching row in capture-time order, from one query read ``batch`` rows at a
    time (a server-side cursor on PostgreSQL), so an export of millions holds few in memory."""
    query = select(table).where(where).order_by(*_order(table, False))
    result = conn.execution_options(yield_per=batch).execute(query)
    try:
        yield from result
    finally:
        result.close()


def binaries(conn: Connection, ids: Sequence[str], where: ColumnElement[bool]) -> list[Any]:
    if not ids:
        return []
    query = select(binary_data).where(binary_data.c.id.in_(list(ids)), where).order_by(*_order(binary_data, False))
    return list(conn.execute(query))


def blobs(conn: Connection, ids: Sequence[str]) -> dict[str, bytes]:
    if not ids:
        return {}
    rows = conn.execute(select(binary_blobs.c.id, binary_blobs.c.data).where(binary_blobs.c.id.in_(list(ids))))
    return {r.id: bytes(r.data) for r in rows}


def datasets_of(conn: Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        query = (select(dataset_members.c.binary_id, dataset_members.c.dataset_id)
                 .where(dataset_members.c.binary_id.in_(list(ids))).order_by(dataset_members.c.dataset_id))
        for row in conn.execute(query):
            out[row.binary_id].append(row.dataset_id)
    return out


# -- deleting -----------------------------------------------------------------------


def delete_tabular(conn: Connection, where: ColumnElement[bool]) -> int:
    return int(conn.execute(delete(tabular_data).where(where)).rowcount or 0)


def delete_binaries(conn: Connection, where: ColumnElement[bool]) -> int:
    ids = [r.id for r in conn.execute(select(binary_data.c.id).where(where))]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        conn.execute(delete(dataset_members).where(dataset_members.c.binary_id.in_(chunk)))
        conn.execute(delete(binary_blobs).where(binary_blobs.c.id.in_(chunk)))
        conn.execute(delete(binary_data).where(binary_data.c.id.in_(chunk)))
    return len(ids)
