"""Machines (robots, in the app API's words) and their parts, with each part's config history."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError

from viamlite.errors import FailedPreconditionError, InvalidArgumentError, ResourceNotFoundError
from viamlite_plugins.fleet.db.schema import part_history, parts, robots
from viamlite_plugins.fleet.store import new_id, new_secret, now_us

EMPTY_CONFIG = "{}"


def new_robot(conn: Connection, location_id: str, name: str) -> tuple[str, str]:
    """A machine in ``location_id`` with its main part (``<name>-main``): (robot id, part id)."""
    robot_id = new_id()
    try:
        with conn.begin_nested():
            conn.execute(robots.insert().values(id=robot_id, location_id=location_id, name=name, created_us=now_us()))
    except IntegrityError:
        raise FailedPreconditionError(f"location {location_id!r} already has a machine named {name!r}: "
                                      f"choose another name") from None
    part_id = new_part(conn, robot_id, f"{name}-main", main=True)
    return robot_id, part_id


def get_robot(conn: Connection, robot_id: str):  # type: ignore[no-untyped-def]
    row = conn.execute(select(robots).where(robots.c.id == robot_id)).first()
    if row is None:
        raise ResourceNotFoundError(f"no machine with id {robot_id!r}")
    return row


def list_robots(conn: Connection, location_id: str) -> list:
    query = select(robots).where(robots.c.location_id == location_id).order_by(robots.c.created_us, robots.c.id)
    return list(conn.execute(query))


def last_access(conn: Connection, robot_ids: list[str]) -> dict[str, int | None]:
    """Each machine's most recent part access (microseconds), for Robot.last_access."""
    if not robot_ids:
        return {}
    query = (select(parts.c.robot_id, func.max(parts.c.last_access_us)).where(parts.c.robot_id.in_(robot_ids))
             .group_by(parts.c.robot_id))
    return dict(conn.execute(query).all())  # type: ignore[arg-type]


def update_robot(conn: Connection, robot_id: str, name: str, location_id: str) -> None:
    get_robot(conn, robot_id)
    try:
        with conn.begin_nested():
            conn.execute(update(robots).where(robots.c.id == robot_id).values(name=name, location_id=location_id))
    except IntegrityError:
        raise FailedPreconditionError(f"location {location_id!r} already has a machine named {name!r}: "
                                      f"choose another name") from None


def delete_robot(conn: Connection, robot_id: str) -> None:
    get_robot(conn, robot_id)
    conn.execute(robots.delete().where(robots.c.id == robot_id))


# -- parts ----------------------------------------------------------------------------


def new_part(conn: Connection, robot_id: str, name: str, *, main: bool = False) -> str:
    get_robot(conn, robot_id)
    part_id, now = new_id(), now_us()
    try:
        with conn.begin_nested():
            conn.execute(parts.insert().values(
                id=part_id, robot_id=robot_id, name=name, main_part=main, secret=new_secret(), config=EMPTY_CONFIG,
                fqdn="", local_fqdn="", agent_info="{}", last_access_us=None, online_window_s=30,
                needs_restart=False, created_us=now, updated_us=now))
    except IntegrityError:
        raise FailedPreconditionError(f"machine {robot_id!r} already has a part named {name!r}: "
                                      f"choose another name") from None
    return part_id


def get_part(conn: Connection, part_id: str):  # type: ignore[no-untyped-def]
    row = conn.execute(select(parts).where(parts.c.id == part_id)).first()
    if row is None:
        raise ResourceNotFoundError(f"no machine part with id {part_id!r}")
    return row


def list_parts(conn: Connection, robot_id: str) -> list:
    query = (select(parts).where(parts.c.robot_id == robot_id)
             .order_by(parts.c.main_part.desc(), parts.c.created_us, parts.c.id))
    return list(conn.execute(query))


def update_part(conn: Connection, part_id: str, name: str, config: dict[str, Any] | None, edited_by: str) -> None:
    """Rename the part and, when ``config`` is given, replace its config; the previous
    version goes to the part's history."""
    old = get_part(conn, part_id)
    values: dict[str, Any] = {"name": name, "updated_us": now_us()}
    if config is not None:
        values["config"] = json.dumps(config, sort_keys=True, separators=(",", ":"))
    if values.get("config", old.config) == old.config and name == old.name:
        return
    conn.execute(part_history.insert().values(part_id=part_id, robot_id=old.robot_id, name=old.name,
                                              config=old.config, edited_by=edited_by, when_us=values["updated_us"]))
    try:
        with conn.begin_nested():
            conn.execute(update(parts).where(parts.c.id == part_id).values(**values))
    except IntegrityError:
        raise FailedPreconditionError(f"the machine already has a part named {name!r}: choose another name") from None


def delete_part(conn: Connection, part_id: str) -> None:
    part = get_part(conn, part_id)
    if part.main_part:
        raise FailedPreconditionError(f"part {part_id!r} is its machine's main part: delete the machine "
                                      f"(DeleteRobot) instead")
    conn.execute(parts.delete().where(parts.c.id == part_id))


def part_history_page(conn: Connection, part_id: str, *, before_id: int | None, limit: int,
                      start_us: int | None, end_us: int | None) -> list:
    """The part's earlier versions, newest first."""
    get_part(conn, part_id)
    query = select(part_history).where(part_history.c.part_id == part_id)
    if before_id is not None:
        query = query.where(part_history.c.id < before_id)
    if start_us is not None:
        query = query.where(part_history.c.when_us >= start_us)
    if end_us is not None:
        query = query.where(part_history.c.when_us <= end_us)
    return list(conn.execute(query.order_by(part_history.c.id.desc()).limit(limit)))


def mark_for_restart(conn: Connection, part_id: str) -> None:
    get_part(conn, part_id)
    conn.execute(update(parts).where(parts.c.id == part_id).values(needs_restart=True))


def take_restart(conn: Connection, part_id: str) -> bool:
    """Whether the part was marked for restart; the mark is cleared as it is read."""
    result = conn.execute(update(parts).where(parts.c.id == part_id, parts.c.needs_restart.is_(True))
                          .values(needs_restart=False))
    return bool(result.rowcount)


def touch(conn: Connection, part_id: str, *, address: str | None = None, agent_info: dict[str, Any] | None = None,
          online_window_s: int | None = None) -> None:
    """Record an access from the part: when, and where it serves (``address`` becomes its fqdn)."""
    values: dict[str, Any] = {"last_access_us": now_us()}
    if address:
        values["fqdn"] = values["local_fqdn"] = address
    if agent_info is not None:
        values["agent_info"] = json.dumps(agent_info, sort_keys=True)
    if online_window_s is not None:
        values["online_window_s"] = online_window_s
    conn.execute(update(parts).where(parts.c.id == part_id).values(**values))


def place_of(conn: Connection, part_id: str) -> tuple[str, str, str] | None:
    """(organization id, location id, machine id) of a part, in one query; None if it is gone."""
    from viamlite_plugins.fleet.db.schema import locations

    row = conn.execute(select(locations.c.organization_id, robots.c.location_id, parts.c.robot_id)
                       .join(robots, robots.c.id == parts.c.robot_id)
                       .join(locations, locations.c.id == robots.c.location_id)
                       .where(parts.c.id == part_id)).first()
    return (row.organization_id, row.location_id, row.robot_id) if row is not None else None


def config_of(part) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    try:
        value = json.loads(part.config)
    except ValueError:
        raise InvalidArgumentError(f"part {part.id!r} has a config that is not JSON") from None
    return value if isinstance(value, dict) else {}
