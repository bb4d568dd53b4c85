"""Organizations and locations."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from viamlite.errors import FailedPreconditionError, ResourceNotFoundError
from viamlite_plugins.fleet.db.schema import locations, organizations, robots
from viamlite_plugins.fleet.store import new_id, new_secret, now_us


def create_organization(conn: Connection, name: str) -> str:
    org_id = new_id()
    conn.execute(organizations.insert().values(id=org_id, name=name, created_us=now_us()))
    return org_id


def get_organization(conn: Connection, org_id: str):  # type: ignore[no-untyped-def]
    row = conn.execute(select(organizations).where(organizations.c.id == org_id)).first()
    if row is None:
        raise ResourceNotFoundError(f"no organization with id {org_id!r}")
    return row


def list_organizations(conn: Connection, ids: Iterable[str] | None = None) -> list:
    query = select(organizations).order_by(organizations.c.created_us, organizations.c.id)
    if ids is not None:
        query = query.where(organizations.c.id.in_(list(ids)))
    return list(conn.execute(query))


def create_location(conn: Connection, org_id: str, name: str, parent_location_id: str = "") -> str:
    get_organization(conn, org_id)
    if parent_location_id:
        parent = get_location(conn, parent_location_id)
        if parent.organization_id != org_id:
            raise ResourceNotFoundError(f"no location with id {parent_location_id!r}")
    location_id = new_id()
    conn.execute(locations.insert().values(id=location_id, organization_id=org_id, name=name,
                                           parent_location_id=parent_location_id or None,
                                           secret=new_secret(), created_us=now_us()))
    return location_id


def get_location(conn: Connection, location_id: str):  # type: ignore[no-untyped-def]
    row = conn.execute(select(locations).where(locations.c.id == location_id)).first()
    if row is None:
        raise ResourceNotFoundError(f"no location with id {location_id!r}")
    return row


def list_locations(conn: Connection, org_id: str) -> list:
    query = (select(locations).where(locations.c.organization_id == org_id)
             .order_by(locations.c.created_us, locations.c.id))
    return list(conn.execute(query))


def robot_counts(conn: Connection, location_ids: Iterable[str]) -> dict[str, int]:
    ids = list(location_ids)
    if not ids:
        return {}
    query = (select(robots.c.location_id, func.count()).where(robots.c.location_id.in_(ids))
             .group_by(robots.c.location_id))
    return {location_id: count for location_id, count in conn.execute(query)}


def delete_location(conn: Connection, location_id: str) -> None:
    get_location(conn, location_id)
    if robot_counts(conn, [location_id]).get(location_id):
        raise FailedPreconditionError(f"location {location_id!r} still has machines: delete or move them first")
    children = conn.execute(select(func.count()).select_from(locations)
                            .where(locations.c.parent_location_id == location_id)).scalar_one()
    if children:
        raise FailedPreconditionError(f"location {location_id!r} has sub-locations: delete them first")
    conn.execute(locations.delete().where(locations.c.id == location_id))
