"""``organizations list`` and ``locations list``."""
from __future__ import annotations

from viamlite_plugins.cloud.commands.context import Context


def list_organizations(ctx: Context) -> int:
    orgs = ctx.resolve.organizations()
    lines = [f"Organizations for {ctx.login.who!r}:"]
    for org in orgs:
        namespace = f" (namespace: {org.public_namespace})" if org.public_namespace else ""
        lines.append(f"\t{org.name} (id: {org.id}){namespace}")
    ctx.out.emit([{"id": o.id, "name": o.name, "public_namespace": o.public_namespace} for o in orgs], lines)
    return 0


def list_locations(ctx: Context) -> int:
    flag = ctx.args.organization or ctx.args.organization_arg
    orgs = [ctx.resolve.organization(flag)] if flag else ctx.resolve.organizations()
    data, lines = [], []
    for org in orgs:
        locations = ctx.resolve.locations(org)
        if len(orgs) > 1:
            lines.append(f"Locations of {org.name!r}:")
        for loc in locations:
            lines.append(f"\t{loc.name} (id: {loc.id})")
            data.append({"id": loc.id, "name": loc.name, "organization_id": org.id, "organization": org.name,
                         "robot_count": loc.robot_count})
        if not locations:
            lines.append(f"\t(organization {org.name!r} has no locations)")
    ctx.out.emit(data, lines)
    return 0

