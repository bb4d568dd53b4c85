"""Built-in commands ``repl`` and ``machines`` (aliases ``machine``, ``robots``, ``robot``),
named as the Viam CLI names them.

    viamlite repl [ADDRESS | --config PATH]
    viamlite machines part run --address ADDR [--key-id ID --key KEY] [--stream 100ms] --data JSON METHOD
    viamlite machines part status --address ADDR [--json]

These work on a machine by its address, with no app. The ``cloud`` plugin adds the app's
side to the same group (``machines list``, ``part run --part NAME``, ...; see
:mod:`viamlite.cli.tree`), and calls :func:`run_method` once it has found the address.
Registered as a plugin like any other; heavy imports happen only when a command runs.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from viamlite.hookspecs import hookimpl


def _add_connection_args(parser: argparse.ArgumentParser, address: bool = True) -> None:
    if address:
        parser.add_argument("--address", "-a", metavar="HOST:PORT",
                            help="the machine's address (host:port or unix:/path), with no app")
    parser.add_argument("--key-id", metavar="ID", help="API key id (with --key)")
    parser.add_argument("--key", metavar="KEY", help="API key (with --key-id)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS", help="dial timeout (default 10)")


@hookimpl
def viamlite_register_commands(subparsers: argparse._SubParsersAction) -> None:
    repl = subparsers.add_parser("repl", help="open a Python REPL on a machine (remote, or in-process with --config)",
                                 description="ptpython with `machine` and every resource bound to a name.")
    repl.add_argument("address", nargs="?", metavar="ADDRESS", help="a running machine's address (host:port)")
    repl.add_argument("--config", "-c", metavar="PATH", help="build the machine in this process from a config")
    _add_connection_args(repl, address=False)
    repl.set_defaults(func=_repl)

    machines = subparsers.add_parser("machines", aliases=["machine", "robots", "robot"],
                                     help="work with machines (as the Viam CLI does)")
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
    run.add_argument("method", metavar="METHOD", nargs="?",
                     help="such as viam.component.servo.v1.ServoService.Move (a trailing Request is dropped)")
    run.add_argument("--method", "-m", dest="method_flag", metavar="METHOD", help="METHOD, as a flag")
    run.set_defaults(func=_part_run)

    status = part_sub.add_parser("status", help="show the part's machine and resource status")
    _add_connection_args(status)
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=_part_status)


def _fail(command: str, message: str, code: int = 1) -> int:
    print(f"viamlite {command}: {message}", file=sys.stderr)
    return code


def _no_address(command: str) -> int:
    return _fail(command, "give the machine's --address (HOST:PORT), or log in to an app (viamlite login api-key) "
                          "and name the part with --part", 2)


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
    if not args.address:
        return _no_address("machines part run")
    return run_method(args.address, method_name(args), data=args.data, stream=args.stream, key_id=args.key_id,
                      key=args.key, timeout=args.timeout)


def method_name(args: argparse.Namespace) -> str:
    """The METHOD of ``part run``, given as the argument or as ``--method``."""
    return args.method or getattr(args, "method_flag", None) or ""


def _resolve(channel: Any, name: str, timeout: float) -> Any:
    """The method ``name`` names; ``...Service.MoveRequest`` names ``Move``, as the Viam CLI's
    examples write it."""
    from viamlite.client.reflection import ReflectionError, resolve

    try:
        return resolve(channel, name, timeout=timeout)
    except ReflectionError:
        head, _, last = name.strip().replace("/", ".").rpartition(".")
        if not (last.endswith("Request") and len(last) > len("Request")):
            raise
        return resolve(channel, f"{head}.{last[:-len('Request')]}", timeout=timeout)


def run_method(address: str, method_name: str, *, data: str = "{}", stream: str | None = None,
               key_id: str | None = None, key: str | None = None, timeout: float = 10.0,
               insecure: bool | None = None, command: str = "machines part run") -> int:
    """``part run`` on the machine at ``address``: call ``method_name`` with ``data`` (JSON),
    print each reply as JSON (every ``stream`` interval until Ctrl-C); the exit code."""
    import grpc
    from google.protobuf import json_format

    from viamlite.config import parse_duration
    from viamlite.errors import ConfigError, ViamliteError
    from viamlite.transport.dial import dial

    if not method_name:
        return _fail(command, "name the METHOD to call, such as viam.component.servo.v1.ServoService.Move", 2)
    interval = None
    if stream:
        try:
            interval = parse_duration(stream, "--stream")
        except ConfigError as exc:
            return _fail(command, str(exc), 2)
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        return _fail(command, f"--data is not JSON: {exc}", 2)
    try:
        dialed = dial(address, api_key_id=key_id, api_key=key, timeout=timeout, insecure=insecure)
    except ViamliteError as exc:
        return _fail(command, str(exc))
    try:
        try:
            method = _resolve(dialed.channel, method_name, timeout)
        except ViamliteError as exc:
            return _fail(command, str(exc))
        if method.client_streaming:
            return _fail(command, f"{method.path} takes a stream of requests; part run sends one")
        request = method.request_class()
        try:
            json_format.ParseDict(payload, request)
        except json_format.ParseError as exc:
            return _fail(command, f"--data does not fit {request.DESCRIPTOR.full_name}: {exc}", 2)
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
                return _fail(command, f"{method.path} failed: {err.code().name}: {err.details()}")
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

    if not args.address:
        return _no_address("machines part status")
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
                         for n in client.resource_names]
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
