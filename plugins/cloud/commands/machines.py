"""``machines list``, ``create``, ``delete``, ``status``."""
from __future__ import annotations

from typing import Any

from viamlite_plugins.cloud.commands.context import Context
from viamlite_plugins.cloud.commands.output import timestamp

_ONLINE = {0: "unknown", 1: "online", 2: "offline", 3: "awaiting setup"}


def _robot_data(robot: Any, location: Any, parts: list[Any]) -> dict[str, Any]:
    main = next((p for p in parts if p.main_part), None)
    return {"id": robot.id, "name": robot.name, "location_id": location.id, "location": location.name,
            "main_part_id": main.id if main else "", "online_state": _ONLINE.get(robot.online_state, "unknown"),
            "last_access": timestamp(robot.last_access)}


def list_machines(ctx: Context) -> int:
    args, resolve = ctx.args, ctx.resolve
    if args.all:
        orgs = [resolve.organization(args.organization)] if args.organization else resolve.organizations()
        places = [(org, loc) for org in orgs for loc in resolve.locations(org)
                  if loc.robot_count or args.location and loc.name == args.location]
    else:
        org = resolve.organization(args.organization)
        places = [(org, resolve.location(org, args.location))]
    data, lines = [], []
    for org, location in places:
        if args.all:
            lines.append(f"{org.name} / {location.name}:")
        robots = resolve.robots(location)
        for robot in robots:
            parts = resolve.parts(robot)
            row = _robot_data(robot, location, parts)
            row["organization"] = org.name
            data.append(row)
            lines.append(f"{robot.name} (id: {robot.id}) (main part id: {row['main_part_id']})")
        if not robots:
            lines.append(f"(no machines in {location.name!r})")
    ctx.out.emit(data, lines)
    return 0


def create_machine(ctx: Context) -> int:
    org = ctx.resolve.organization(ctx.args.organization)
    location = ctx.resolve.location(org, ctx.args.location)
    robot_id = ctx.app.call("NewRobot", name=ctx.args.name, location=location.id,
                            what=f"location {location.name!r}").id
    robot = ctx.app.call("GetRobot", id=robot_id).robot
    main = next((p for p in ctx.resolve.parts(robot) if p.main_part), None)
    ctx.out.emit({"id": robot_id, "name": robot.name, "location_id": location.id,
                  "main_part_id": main.id if main else "", "main_part": main.name if main else ""},
                 [f"Created machine {robot.name!r} (id: {robot_id}) in {org.name} / {location.name}",
                  f"Main part: {main.name} (id: {main.id})" if main else "Main part: none"])
    return 0


def delete_machine(ctx: Context) -> int:
    robot = ctx.resolve.robot(ctx.args.machine, ctx.args.organization, ctx.args.location)
    ctx.app.call("DeleteRobot", id=robot.id, what=f"machine {robot.name!r}")
    ctx.out.line(f"Deleted machine {robot.name!r} (id: {robot.id})")
    return 0


def part_data(part: Any) -> dict[str, Any]:
    return {"id": part.id, "name": part.name, "main_part": part.main_part, "fqdn": part.fqdn,
            "online_state": _ONLINE.get(part.online_state, "unknown"), "last_access": timestamp(part.last_access),
            "machine_id": part.robot, "location_id": part.location_id}


def machine_status(ctx: Context) -> int:
    robot = ctx.resolve.robot(ctx.args.machine, ctx.args.organization, ctx.args.location)
    location = ctx.resolve.location_by_id(robot.location)
    parts = ctx.resolve.parts(robot)
    data = _robot_data(robot, location, parts)
    data["parts"] = [part_data(p) for p in parts]
    lines = [f"Machine: {robot.name} (id: {robot.id}), location {location.name}: "
             f"{data['online_state']}, last access {data['last_access'] or 'never'}", "Parts:"]
    for part in parts:
        main = " (main)" if part.main_part else ""
        row = part_data(part)
        lines.append(f"\t{part.name} (id: {part.id}){main}: {row['online_state']}, last access "
                     f"{row['last_access'] or 'never'}" + (f", at {part.fqdn}" if part.fqdn else ""))
    ctx.out.emit(data, lines)
    return 0
