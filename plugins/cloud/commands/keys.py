"""``organizations|locations|machines api-key create``: an owner key of that scope.

Prints ``Key ID: ...`` and ``Key Value: ...`` as the Viam CLI does (``--json``: an object).
"""
from __future__ import annotations

import datetime
from typing import Any

from viamlite_plugins.cloud.commands.context import Context
from viamlite_plugins.cloud.commands.errors import CommandError


def _create(ctx: Context, resource_type: str, resource_id: str, org_id: str) -> int:
    from viamlite.gen.app import app_pb2

    name = ctx.args.name or f"{resource_type}-owner-{datetime.datetime.now(datetime.timezone.utc).isoformat()}"
    authorization = app_pb2.Authorization(authorization_type="role", authorization_id=f"{resource_type}_owner",
                                          resource_type=resource_type, resource_id=resource_id,
                                          organization_id=org_id, identity_type="api-key")
    response = ctx.app.call("CreateKey", authorizations=[authorization], name=name,
                            what=f"{resource_type} {resource_id!r}")
    ctx.out.emit({"key_id": response.id, "key": response.key, "name": name, "resource_type": resource_type,
                  "resource_id": resource_id, "organization_id": org_id},
                 [f"Successfully created key:", f"Key ID: {response.id}", f"Key Value: {response.key}", "",
                  "Keep this key somewhere safe; it is shown only once."])
    return 0


def _owning_org(ctx: Context, location_id: str, org_flag: str) -> str:
    """The organization owning ``location_id`` (``--org-id`` when several do)."""
    if org_flag:
        return ctx.resolve.organization(org_flag).id
    owners = ctx.app.call("GetOrganizationsWithAccessToLocation", location_id=location_id,
                          what=f"location {location_id!r}").organization_identities
    if len(owners) > 1:
        raise CommandError(f"location {location_id!r} belongs to multiple orgs: give --org-id (one of "
                           f"{', '.join(o.id for o in owners)})", 2)
    if not owners:
        raise CommandError(f"no organization owns location {location_id!r}: give --org-id")
    return owners[0].id


def create_org_key(ctx: Context) -> int:
    org = ctx.resolve.organization(ctx.args.org_id)
    return _create(ctx, "organization", org.id, org.id)


def create_location_key(ctx: Context) -> int:
    location = ctx.resolve.location_by_id(ctx.args.location_id)
    return _create(ctx, "location", location.id, _owning_org(ctx, location.id, ctx.args.org_id))


def create_machine_key(ctx: Context) -> int:
    robot: Any = ctx.resolve.robot(ctx.args.machine_id)
    return _create(ctx, "robot", robot.id, _owning_org(ctx, robot.location, ctx.args.org_id))
