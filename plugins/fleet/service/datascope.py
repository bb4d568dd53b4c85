"""Who may read and change which data: a principal's grants as SQL conditions.

Data calls take API keys only (a part's secret may only upload its own part's data, in
:mod:`.datasync`). A key sees the data captured in what its grants reach: whole
organizations, locations, machines; changing data (deleting it, datasets, database users)
needs an owner grant there.
"""
from __future__ import annotations

from typing import Any

from viamlite.errors import PermissionDeniedError, ResourceNotFoundError
from viamlite_plugins.fleet.access import OWNER, Principal, Scope
from viamlite_plugins.fleet.service import header, id_field
from viamlite_plugins.fleet.store import data as datastore
from viamlite_plugins.fleet.tokens import Tokens
from viamlite.rpc import Call


def key_principal(tokens: Tokens, call: Call) -> Principal:
    who = tokens.principal(header(call, "authorization"))
    if who.is_part:
        raise PermissionDeniedError("a machine part's secret may only upload its own part's data "
                                    "(DataSyncService); use an API key for the data API")
    return who


def visible(who: Principal, table: Any, *, owner: bool = False) -> Any:
    """The rows of ``table`` within the principal's grants (owner grants only with ``owner``)."""
    grants = [g for g in who.grants if g.role == OWNER or not owner]
    return datastore.scope_condition(
        table,
        sorted({g.organization_id for g in grants if g.resource_type == "organization"}),
        sorted({(g.organization_id, g.resource_id) for g in grants if g.resource_type == "location"}),
        sorted({(g.organization_id, g.resource_id) for g in grants if g.resource_type == "robot"}))


def organization(who: Principal, org_id: str, *, owner: bool = False, action: str = "") -> str:
    """An organization id the principal reaches (NOT_FOUND otherwise); with ``owner``, one
    it owns as a whole."""
    org_id = id_field(org_id, "organization_id")
    if not who.reaches_inside(org_id):
        raise ResourceNotFoundError(f"no organization with id {org_id!r}")
    if owner:
        who.require_owner(Scope(org_id), action)
    return org_id
