"""API keys and what they authorize. A key is shown once, when made; only its hash is kept."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from viamlite.errors import ResourceNotFoundError
from viamlite_plugins.fleet.db.schema import api_keys, authorizations, settings
from viamlite_plugins.fleet.store import new_id, new_secret, now_us

ROLES = ("owner", "operator")
RESOURCE_TYPES = ("organization", "location", "robot")


@dataclass(frozen=True)
class Grant:
    """One authorization: ``role`` on the organization, location or machine ``resource_id``."""

    organization_id: str
    role: str
    resource_type: str
    resource_id: str


def key_hash(key: str) -> str:
    """What the fleet (and a member machine) keeps of a key. Keys are 32 random characters,
    so a plain SHA-256 cannot be searched backwards."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: Connection, name: str, grants: Iterable[Grant]) -> tuple[str, str]:
    """A new key with ``grants``: (key id, the key, to be shown once)."""
    key_id, key = new_id(), new_secret()
    conn.execute(api_keys.insert().values(id=key_id, name=name, key_hash=key_hash(key), created_us=now_us()))
    rows = [{"key_id": key_id, "organization_id": g.organization_id, "role": g.role,
             "resource_type": g.resource_type, "resource_id": g.resource_id} for g in grants]
    if rows:
        conn.execute(authorizations.insert(), rows)
    _keys_changed(conn)
    return key_id, key


def _keys_changed(conn: Connection) -> None:
    """Mark that the set of keys changed (members' configs carry them)."""
    from viamlite_plugins.fleet.store import new_id

    changed = conn.execute(settings.update().where(settings.c.name == "keys_version").values(value=new_id()))
    if not changed.rowcount:
        conn.execute(settings.insert().values(name="keys_version", value=new_id()))


def keys_version(conn: Connection) -> str:
    """A value that changes whenever a key is made or deleted."""
    return conn.execute(select(settings.c.value).where(settings.c.name == "keys_version")).scalar() or ""


def find_key(conn: Connection, key_id: str):  # type: ignore[no-untyped-def]
    return conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()


def grants_of(conn: Connection, key_ids: Iterable[str]) -> dict[str, list[Grant]]:
    ids = list(key_ids)
    out: dict[str, list[Grant]] = {key_id: [] for key_id in ids}
    if not ids:
        return out
    query = select(authorizations).where(authorizations.c.key_id.in_(ids)).order_by(authorizations.c.id)
    for row in conn.execute(query):
        out[row.key_id].append(Grant(row.organization_id, row.role, row.resource_type, row.resource_id))
    return out


def keys_in_organization(conn: Connection, org_id: str) -> list:
    query = (select(api_keys).where(api_keys.c.id.in_(
        select(authorizations.c.key_id).where(authorizations.c.organization_id == org_id)))
        .order_by(api_keys.c.created_us, api_keys.c.id))
    return list(conn.execute(query))


def keys_on(conn: Connection, resources: Iterable[tuple[str, str]]) -> list:
    """Keys with an authorization on any of ``resources`` ((resource type, id) pairs)."""
    pairs = list(resources)
    if not pairs:
        return []
    from sqlalchemy import and_, or_

    where = or_(*(and_(authorizations.c.resource_type == kind, authorizations.c.resource_id == rid)
                  for kind, rid in pairs))
    query = (select(api_keys).where(api_keys.c.id.in_(select(authorizations.c.key_id).where(where)))
             .order_by(api_keys.c.created_us, api_keys.c.id))
    return list(conn.execute(query))


def delete_key(conn: Connection, key_id: str) -> None:
    if find_key(conn, key_id) is None:
        raise ResourceNotFoundError(f"no API key with id {key_id!r}")
    conn.execute(authorizations.delete().where(authorizations.c.key_id == key_id))
    conn.execute(api_keys.delete().where(api_keys.c.id == key_id))
    _keys_changed(conn)
