"""Built-in commands ``repl`` and ``machines`` (alias ``robots``), named as the Viam CLI names them.

    viamlite repl [ADDRESS | --config PATH]
    viamlite machines part run --address ADDR [--key-id ID --key KEY] [--stream 100ms] --data JSON METHOD
    viamlite machines part status --address ADDR [--json]

Registered as a plugin like any other; heavy imports happen only when a command runs.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from viamlite.hookspecs import hookimpl


def _add_connection_args(parser: argparse.ArgumentParser, address_required: bool = True) -> None:
    if address_required:
        parser.add_argument("--address", "-a", required=True, metavar="HOST:PORT",
                            help="the machine's address (host:port or unix:/path)")
    parser.add_argument("--key-id", metavar="ID", help="API key id (with --key)")
    parser.add_argument("--key", metavar="KEY", help="API key (with --key-id)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="dial timeout (default 10)")


@hookimpl
def viamlite_register_commands(subparsers: argparse._SubParsersAction) -> None:
    repl = subparsers.add_parser("repl", help="open a Python REPL on a machine (remote, or in-process with --config)",
                                 description="ptpython with `machine` and every resource bound to a name.")
    repl.add_argument("address", nargs="?", metavar="ADDRESS", help="a running machine's address (host:port)")
    repl.add_argument("--config", "-c", metavar="PATH", help="build the machine in this process from a config")
    _add_connection_args(repl, address_required=False)
    repl.set_defaults(func=_repl)

    machines = subparsers.add_parser("machines", aliases=["robots"], help="work with machines (as the Viam CLI does)")
    machine_sub = machines.add_subparsers(dest="machines_command", metavar="COMMAND", required=True)
    part = machine_sub.add_parser("part", help="work with a machine part")
    part_sub = part.add_subparsers(dest="part_command", metavar="COMMAND", required=True)

    run = part_sub.add_parser("run", help="call a gRPC method on the part (resolved by server reflection)",
                              description="Call METHOD (package.Service.Method) with --data as the request, "
                                          "print the reply as JSON.")
    _add_connection_args(run)
    run.add_argument("--data", "-d", default="{}", help="the request as JSON (default {})")
    run.add_argument("--stream", "-s", metavar="DURATION",
                     help="repeat the call at this interval (such as 100ms) until Ctrl-C or the first error")
    run.add_argument("method", metavar="METHOD", help="such as viam.component.servo.v1.ServoService.Move")
    run.set_defaults(func=_part_run)

    status = part_sub.add_parser("status", help="show the part's machine and resource status")
    _add_connection_args(status)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=_part_status)


def _fail(command: str, message: str) -> int:
    print(f"viamlite {command}: {message}", file=sys.stderr)
    return 1


# -- repl ----------------------------------------------------------------------------


def _repl(args: argparse.Namespace) -> int:
    from viamlite.errors import ConfigError, ViamliteError
    from viamlite.cli.repl import run_repl

    if bool(args.address) == bool(args.config):
        print("viamlite repl: give either ADDRESS (a running machine) or --config PATH (in this process)",
              file=sys.stderr)
        return 2
    if args.config:
        from viamlite.machine import Machine

        try:
            machine = Machine.from_config(args.config, plugin_manager=args.plugin_manager)
        except ConfigError as exc:
            print(f"viamlite repl: config error: {exc}", file=sys.stderr)
            return 2
        with machine:
            run_repl(machine, args.config)
        return 0
    from viamlite.client import connect

    try:
        client = connect(args.address, api_key_id=args.key_id, api_key=args.key, timeout=args.timeout)
    except ViamliteError as exc:
        return _fail("repl", str(exc))
    with client:
        run_repl(client, args.address)
    return 0


# -- machines part run ------------------------------------------------------------------


def _part_run(args: argparse.Namespace) -> int:
    import grpc
    from google.protobuf import json_format

    from viamlite.client.reflection import resolve
    from viamlite.config import parse_duration
    from viamlite.errors import ConfigError, ViamliteError
    from viamlite.transport.dial import dial

    interval = None
    if args.stream:
        try:
            interval = parse_duration(args.stream, "--stream")
        except ConfigError as exc:
            print(f"viamlite machines part run: {exc}", file=sys.stderr)
            return 2
    try:
        data = json.loads(args.data)
    except json.JSONDecodeError as exc:
        print(f"viamlite machines part run: --data is not JSON: {exc}", file=sys.stderr)
        return 2
    try:
        dialed = dial(args.address, api_key_id=args.key_id, api_key=args.key, timeout=args.timeout)
    except ViamliteError as exc:
        return _fail("machines part run", str(exc))
    try:
        try:
            method = resolve(dialed.channel, args.method, timeout=args.timeout)
        except ViamliteError as exc:
            return _fail("machines part run", str(exc))
        if method.client_streaming:
            return _fail("machines part run", f"{method.path} takes a stream of requests; part run sends one")
        request = method.request_class()
        try:
            json_format.ParseDict(data, request)
        except json_format.ParseError as exc:
            print(f"viamlite machines part run: --data does not fit {request.DESCRIPTOR.full_name}: {exc}",
                  file=sys.stderr)
            return 2
        make = dialed.channel.unary_stream if method.server_streaming else dialed.channel.unary_unary
        call = make(method.path, request_serializer=lambda m: m.SerializeToString(),
                    response_deserializer=method.response_class.FromString)
        indent = None if interval is not None else 2
        while True:
            try:
                if method.server_streaming:
                    for reply in call(request):
                        print(json_format.MessageToJson(reply, indent=indent), flush=True)
                else:
                    reply = call(request)
                    print(json_format.MessageToJson(reply, indent=indent), flush=True)
            except grpc.RpcError as err:
                return _fail("machines part run", f"{method.path} failed: {err.code().name}: {err.details()}")
            if interval is None:
                return 0
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0
    finally:
        dialed.close()


# -- machines part status -----------------------------------------------------------------


def _part_status(args: argparse.Namespace) -> int:
    from viamlite.client import connect
    from viamlite.errors import NotSupportedError, ViamliteError

    try:
        client = connect(args.address, api_key_id=args.key_id, api_key=args.key, timeout=args.timeout)
    except ViamliteError as exc:
        return _fail("machines part status", str(exc))
    with client:
        out: dict[str, Any] = {"address": args.address, "tls": client.connection.tls}
        try:
            version = client.get_version()
            out["version"] = {"platform": version.platform, "version": version.version,
                              "api_version": version.api_version}
        except NotSupportedError:
            out["version"] = None
        try:
            status = client.get_machine_status()
            out["state"] = status.state
            out["config_revision"] = status.revision
            resources = [{"name": r.name.full_name, "api": str(r.name.api), "state": r.state, "error": r.error}
                         for r in status.resources]
        except NotSupportedError:  # a server without GetMachineStatus: list what it has
            out["state"] = "running"
            out["config_revision"] = ""
            resources = [{"name": n.full_name, "api": str(n.api), "state": "unknown", "error": ""}
                         for n in client.resource_names()]
        except ViamliteError as exc:
            return _fail("machines part status", str(exc))
        out["resources"] = resources
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    version = out["version"]
    running = f"{version['platform']} {version['version']}" if version else "version unknown (GetVersion not offered)"
    print(f"machine at {args.address} ({'TLS' if out['tls'] else 'plaintext'}): {out['state']}, {running}"
          + (f", config revision {out['config_revision']}" if out["config_revision"] else ""))
    if not resources:
        print("  (no resources)")
    width_name = max((len(r["name"]) for r in resources), default=0)
    width_api = max((len(r["api"]) for r in resources), default=0)
    for r in resources:
        error = f"  {r['error']}" if r["error"] else ""
        print(f"  {r['name']:<{width_name}}  {r['api']:<{width_api}}  {r['state']}{error}")
    return 0
