"""Bundled plugin: ``viamlite fleet``, a self-hosted Viam app (see README.md in this folder).

Only the command's options are defined here; the database, the protos and the server are
imported when a fleet command runs, so other commands (``viamlite serve``) never load them.
"""
from __future__ import annotations

import argparse

from viamlite.hookspecs import hookimpl

DEFAULT_BIND = "localhost:8443"


@hookimpl
def viamlite_register_commands(subparsers: argparse._SubParsersAction) -> None:
    fleet = subparsers.add_parser("fleet", help="a self-hosted Viam app: organizations, locations, machines, keys, logs",
                                  description="A self-hosted Viam app on SQLite (default) or PostgreSQL.")
    commands = fleet.add_subparsers(dest="fleet_command", metavar="COMMAND")
    init = commands.add_parser("init", help="create an organization, a location and an owner API key")
    _db_option(init)
    init.add_argument("--organization", default="", metavar="NAME", help="the organization's name (default: my-org)")
    init.add_argument("--location", default="", metavar="NAME", help="the location's name (default: main)")
    init.add_argument("--json", action="store_true", help="print the ids and the key as one JSON object")
    init.set_defaults(func=_run("init"))
    serve = commands.add_parser("serve", help="serve the app API (the Viam CLI's and SDKs' cloud calls)")
    _db_option(serve)
    serve.add_argument("--bind", default=DEFAULT_BIND, metavar="HOST:PORT",
                       help=f"address to listen on (default {DEFAULT_BIND}; port 0 picks a free one)")
    serve.add_argument("--no-tls", action="store_true", help="serve plaintext (keys and tokens travel in clear text)")
    serve.add_argument("--token-lifetime", type=float, default=3600.0, metavar="SECONDS",
                       help="how long an access token stays valid (default 3600)")
    serve.add_argument("--build-runner", action="store_true",
                       help="run module builds (module build start) on this host: runs the modules' build steps, "
                            "code from their repositories, as this user; off by default")
    serve.set_defaults(func=_run("serve"))
    fleet.set_defaults(func=lambda args: (fleet.print_help(), 2)[1])


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", help="sqlite:///PATH (default $VIAMLITE_HOME/fleet.db) or postgresql://...")


def _run(command: str):  # type: ignore[no-untyped-def]
    def run(args: argparse.Namespace) -> int:
        from viamlite_plugins.fleet import cli

        return getattr(cli, command)(args)

    return run
