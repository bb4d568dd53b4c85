"""``machines part status|run|add-resource|remove-resource|restart|cloud-config``.

``part run`` and ``part status`` are the built-in commands when given ``--address``; without
it the part is found through the app and dialed at its address (``RobotPart.fqdn``) with the
logged-in key, which a fleet member accepts.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

from viamlite_plugins.cloud.commands.context import Context
from viamlite_plugins.cloud.commands.errors import CommandError, UsageError
from viamlite_plugins.cloud.commands.machines import part_data


def _part(ctx: Context) -> Any:
    a = ctx.args
    return ctx.resolve.part(a.part, a.machine, a.organization, a.location)


def part_status(ctx: Context) -> int:
    if ctx.args.address:
        from viamlite.cli import machines

        return machines._part_status(ctx.args)
    part = _part(ctx)
    robot = ctx.app.call("GetRobot", id=part.robot, what=f"machine {part.robot!r}").robot
    data = part_data(part)
    data["machine"] = robot.name
    main = " (main)" if part.main_part else ""
    ctx.out.emit(data, [f"Part: {part.name} (id: {part.id}){main} of machine {robot.name} (id: {robot.id})",
                        f"\t{data['online_state']}, last access {data['last_access'] or 'never'}"
                        + (f", at {part.fqdn}" if part.fqdn else ", no address yet")])
    return 0


def address_of(ctx: Context, part: Any) -> str:
    if not part.fqdn:
        raise CommandError(f"part {part.name!r} has no address yet: it has not come online; start it with its "
                           f"cloud block (viamlite machines part cloud-config --part {part.id} --output "
                           f"machine.json, then viamlite serve --config machine.json)")
    return part.fqdn


def dial_args(ctx: Context, address: str) -> dict[str, Any]:
    """How to dial a part: the logged-in key; plaintext only for a plaintext part of a
    plaintext (``http://``) app on this host."""
    from viamlite.transport.dial import parse_address, probe_certificate

    from viamlite.errors import ConnectError

    login = ctx.login
    try:
        tls = probe_certificate(parse_address(address), 10.0) is not None
    except ConnectError as exc:
        raise CommandError(f"the part is not reachable at its address: {exc}; is it running?") from None
    return {"key_id": login.key_id, "key": login.key, "insecure": None if tls or not ctx.base.plaintext else True}


def part_run(ctx: Context) -> int:
    from viamlite.cli import machines

    args = ctx.args
    if args.address:
        return machines._part_run(args)
    if not machines.method_name(args):
        raise UsageError("name the METHOD to call, such as viam.component.servo.v1.ServoService.Move")
    address = address_of(ctx, _part(ctx))
    return machines.run_method(address, machines.method_name(args), data=args.data, stream=args.stream,
                               timeout=args.timeout, **dial_args(ctx, address))


# -- the part's config ------------------------------------------------------------------


def _edit(ctx: Context, edit: Any) -> Any:
    """Read the part's config, ``edit(config)`` it, write it back (refused if it changed meanwhile)."""
    from viamlite.app.structs import dict_to_struct
    from viamlite.gen.app import app_pb2

    part = _part(ctx)
    got = ctx.app.call("GetRobotPart", id=part.id, what=f"part {part.name!r}")
    config = json.loads(got.config_json) if got.config_json else {}
    message = edit(config)
    request = app_pb2.UpdateRobotPartRequest(id=part.id, name=part.name)
    dict_to_struct(config, request.robot_config)
    request.last_known_update.CopyFrom(got.part.last_updated)
    ctx.app.call("UpdateRobotPart", request, what=f"part {part.name!r}")
    ctx.out.line(message.format(part=part.name))
    return 0


def _api_of(args: Any) -> tuple[str, str]:
    """(API triplet, "components" or "services") from --api or --resource-subtype."""
    if args.api:
        parts = args.api.split(":")
        if len(parts) != 3 or not all(parts) or parts[1] not in ("component", "service"):
            raise UsageError(f"--api {args.api!r} is not an API: write namespace:component|service:subtype, "
                             f"such as rdk:component:servo or rdk:service:shell")
        return args.api, "services" if parts[1] == "service" else "components"
    return f"rdk:component:{args.resource_subtype}", "components"


def add_resource(ctx: Context) -> int:
    args = ctx.args
    api, section = _api_of(args)

    def add(config: dict[str, Any]) -> str:
        for key in ("components", "services"):
            if any(r.get("name") == args.name for r in config.get(key) or []):
                raise CommandError(f"the part already has a resource called {args.name!r}: pick another --name, or "
                                   f"remove it first (viamlite machines part remove-resource --name {args.name})")
        config.setdefault(section, []).append({"name": args.name, "api": api, "model": args.model_name,
                                               "attributes": {}})
        return f"Added {section[:-1]} {args.name!r} ({api}, model {args.model_name}) to part {{part!r}}"

    return _edit(ctx, add)


def remove_resource(ctx: Context) -> int:
    name = ctx.args.name

    def remove(config: dict[str, Any]) -> str:
        for key in ("components", "services"):
            kept = [r for r in config.get(key) or [] if r.get("name") != name]
            if len(kept) != len(config.get(key) or []):
                config[key] = kept
                return f"Removed {key[:-1]} {name!r} from part {{part!r}}"
        names = [r.get("name") for key in ("components", "services") for r in config.get(key) or []]
        raise CommandError(f"part has no resource called {name!r} (it has {', '.join(map(repr, names)) or 'none'})")

    return _edit(ctx, remove)


def restart(ctx: Context) -> int:
    part = _part(ctx)
    ctx.app.call("MarkPartForRestart", part_id=part.id, what=f"part {part.name!r}")
    ctx.out.line(f"Asked part {part.name!r} (id: {part.id}) to restart; it does at its next check")
    return 0


def cloud_config(ctx: Context) -> int:
    part = _part(ctx)
    if not part.secret:
        raise CommandError(f"the logged-in key may not read part {part.name!r}'s secret: log in with an owner key of "
                           f"its machine, location or organization")
    block = {"cloud": {"id": part.id, "secret": part.secret, "app_address": ctx.base.url}}
    text = json.dumps(block, indent=2) + "\n"
    path = ctx.args.output
    if not path:
        sys.stdout.write(text)
        return 0
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(path, 0o600)
    except OSError as exc:
        raise UsageError(f"--output {path!r}: cannot write it ({exc.strerror or exc})") from None
    print(f"Wrote the cloud config of part {part.name!r} to {path}; start the machine with "
          f"viamlite serve --config {path}", file=sys.stderr)
    return 0
