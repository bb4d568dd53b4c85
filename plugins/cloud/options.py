"""The cloud commands' names, aliases and flags (the Viam CLI's), and nothing else.

Loaded as every ``viamlite`` command starts, so it imports only argparse; each command's
code (:mod:`viamlite_plugins.cloud.commands`) is imported when that command runs.
The ``machines`` group and its ``part run``/``part status`` are the built-in ones
(:mod:`viamlite.cli.machines`), extended here with the app's side.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from viamlite.cli.tree import group, subcommands

Parser = argparse.ArgumentParser


def _command(target: str) -> Callable[[argparse.Namespace], int]:
    """The function running ``module:function`` of :mod:`viamlite_plugins.cloud.commands`."""
    def run(args: argparse.Namespace) -> int:
        from viamlite_plugins.cloud.commands import runner

        return runner.run(target, args)

    run.__qualname__ = target
    return run


def _base_url(parser: Parser) -> None:
    parser.add_argument("--base-url", default=argparse.SUPPRESS, metavar="URL",
                        help="the app to talk to (as before the command)")


def _json(parser: Parser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def _where(parser: Parser, machine: bool = True) -> None:
    """The flags that pick an organization, a location and (with ``machine``) a machine."""
    parser.add_argument("--organization", "--org", default="", metavar="NAME|ID",
                        help="the organization (default: the first)")
    parser.add_argument("--location", default="", metavar="NAME|ID", help="the location (default: the first)")
    if machine:
        parser.add_argument("--machine", "--robot", dest="machine", default="", metavar="NAME|ID",
                            help="the machine (default: the first)")


def _part(parser: Parser) -> None:
    _where(parser)
    parser.add_argument("--part", default="", metavar="NAME|ID", help="the part (default: the machine's main part)")


def _leaf(commands: argparse._SubParsersAction, name: str, target: str, help: str, **kwargs: Any) -> Parser:
    parser = commands.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".", **kwargs)
    _base_url(parser)
    parser.set_defaults(func=_command(target), command_prog=parser.prog)
    return parser


def _usage(parser: Parser) -> Callable[[argparse.Namespace], int]:
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _key_create(parent: argparse._SubParsersAction, target: str, scope_flag: str, what: str,
                aliases: tuple[str, ...] = ()) -> Parser:
    keys = parent.add_parser("api-key", help=f"work with API keys for {what}")
    keys.set_defaults(func=_usage(keys))
    create = _leaf(subcommands(keys, "api_key_command"), "create", target, f"create an owner API key for {what}")
    dest = scope_flag.lstrip("-").replace("-", "_")
    create.add_argument(scope_flag, *aliases, dest=dest, required=True, metavar="ID", help=f"{what}'s id")
    if scope_flag != "--org-id":
        create.add_argument("--org-id", default="", metavar="ID", help="the organization the key belongs to "
                            "(default: the one owning it)")
    create.add_argument("--name", default="", help="the key's name (default: the key's scope and the time)")
    _json(create)
    return create


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the cloud commands to ``viamlite``'s command tree."""
    # -- login, logout, whoami --------------------------------------------------------------
    login = subparsers.add_parser("login", help="log in to a Viam app (ours or Viam's) with an API key",
                                  description="Log in to a Viam app; remembered in $VIAMLITE_HOME/cli.json.")
    _base_url(login)
    login.set_defaults(func=_command("auth:login_usage"), command_prog=login.prog)
    login_sub = subcommands(login, "login_command", required=False)
    key = _leaf(login_sub, "api-key", "auth:login_api_key", "log in with an API key (organization, location or machine)")
    key.add_argument("--key-id", required=True, metavar="ID", help="the key's id")
    key.add_argument("--key", required=True, metavar="KEY", help="the key")
    _leaf(login_sub, "print-access-token", "auth:print_access_token", "print an access token for the logged-in key")
    _leaf(subparsers, "logout", "auth:logout", "forget the login")
    _leaf(subparsers, "whoami", "auth:whoami", "print the logged-in key, or Not logged in")

    # -- organizations and locations -------------------------------------------------------
    orgs = subparsers.add_parser("organizations", aliases=["organization"], help="work with organizations")
    orgs.set_defaults(func=_usage(orgs))
    orgs_sub = subcommands(orgs, "organizations_command")
    _json(_leaf(orgs_sub, "list", "organizations:list_organizations", "list the organizations the key sees"))
    _key_create(orgs_sub, "keys:create_org_key", "--org-id", "an organization")

    locations = subparsers.add_parser("locations", aliases=["location"], help="work with locations")
    locations.set_defaults(func=_usage(locations))
    loc_sub = subcommands(locations, "locations_command")
    loc_list = _leaf(loc_sub, "list", "organizations:list_locations", "list the locations of an organization")
    loc_list.add_argument("organization_arg", nargs="?", default="", metavar="ORGANIZATION",
                          help="the organization (name or id), as --organization")
    loc_list.add_argument("--organization", "--org", default="", metavar="NAME|ID",
                          help="the organization (default: every one the key sees)")
    _json(loc_list)
    _key_create(loc_sub, "keys:create_location_key", "--location-id", "a location")

    # -- machines ----------------------------------------------------------------------------
    machines = group(subparsers, "machines", aliases=["machine", "robots", "robot"], help="work with machines")
    machines_sub = subcommands(machines, "machines_command")
    listing = _leaf(machines_sub, "list", "machines:list_machines", "list machines")
    _where(listing, machine=False)
    listing.add_argument("--all", action="store_true", help="every location of every organization")
    _json(listing)
    create = _leaf(machines_sub, "create", "machines:create_machine", "create a machine (and its main part)")
    create.add_argument("--name", required=True, help="the machine's name")
    create.add_argument("--location", required=True, metavar="NAME|ID", help="its location")
    create.add_argument("--organization", "--org", default="", metavar="NAME|ID", help="its organization")
    _json(create)
    delete = _leaf(machines_sub, "delete", "machines:delete_machine", "delete a machine and its parts")
    _where(delete)
    status = _leaf(machines_sub, "status", "machines:machine_status", "show a machine and its parts")
    _where(status)
    _json(status)
    logs = _leaf(machines_sub, "logs", "logs:machine_logs", "print a machine's logs (every part, newest last)")
    _where(logs)
    _log_filters(logs)
    logs.add_argument("--levels", default="", metavar="LEVELS", help="comma-separated levels, such as error,warn")
    logs.add_argument("--start", default="", metavar="TIME", help="from (RFC 3339; default 24 hours ago)")
    logs.add_argument("--end", default="", metavar="TIME", help="until (RFC 3339)")
    logs.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json lines")
    logs.add_argument("--output", default="", metavar="FILE", help="write to FILE instead of standard output")
    _key_create(machines_sub, "keys:create_machine_key", "--machine-id", "a machine", aliases=("--robot-id",))

    # -- machines part ---------------------------------------------------------------------------
    part = group(machines_sub, "part", help="work with a machine part")
    part_sub = subcommands(part, "part_command")
    for name in ("run", "status"):  # the built-in ones: by --address, or through the app
        builtin = part_sub.choices[name]
        _part(builtin)
        _base_url(builtin)
        builtin.set_defaults(func=_command(f"part:part_{name}"), command_prog=builtin.prog)
    part_logs = _leaf(part_sub, "logs", "logs:part_logs", "print a part's logs, or follow them with --tail")
    _part(part_logs)
    part_logs.add_argument("--errors", action="store_true", help="errors only")
    part_logs.add_argument("--tail", nargs="?", const="true", default="false", metavar="true|false",
                           help="follow the logs until Ctrl-C")
    _log_filters(part_logs)
    part_logs.add_argument("--format", choices=("text", "json"), default="text", help="text (default) or json lines")
    add = _leaf(part_sub, "add-resource", "part:add_resource", "add a component or service to the part's config")
    _part(add)
    add.add_argument("--name", required=True, help="the resource's name")
    add.add_argument("--model-name", required=True, metavar="MODEL", help="its model, such as rdk:builtin:fake")
    kind = add.add_mutually_exclusive_group(required=True)
    kind.add_argument("--resource-subtype", metavar="SUBTYPE", help="its component API's subtype, such as servo")
    kind.add_argument("--api", metavar="API", help="its API triplet, such as rdk:service:shell")
    remove = _leaf(part_sub, "remove-resource", "part:remove_resource", "remove a resource from the part's config")
    _part(remove)
    remove.add_argument("--name", required=True, help="the resource's name")
    _part(_leaf(part_sub, "restart", "part:restart", "ask the part to restart"))
    shell = _leaf(part_sub, "shell", "shell:part_shell", "open a shell on the part (its shell service)")
    _part(shell)
    shell.add_argument("--service", default="", metavar="NAME", help="the shell service's name (default: the only one)")
    cloud_config = _leaf(part_sub, "cloud-config", "part:cloud_config",
                         "write the part's cloud block, which makes a machine this part")
    _part(cloud_config)
    cloud_config.add_argument("--output", default="", metavar="FILE", help="write to FILE (mode 0600) instead")

    from viamlite_plugins.cloud.data_options import register as register_data

    register_data(subparsers, _leaf, _usage, _json)

    from viamlite_plugins.cloud.module_options import register as register_module

    register_module(subparsers, _leaf, _usage, _json)


def _log_filters(parser: Parser) -> None:
    parser.add_argument("--keyword", default="", help="only lines containing this")
    parser.add_argument("--count", type=int, default=0, metavar="N", help="at most N lines (default: all, or 100)")
