"""The ``data`` and ``dataset`` commands' names and flags, in both spellings: the seed's
(``data export --data-type``, ``data delete``, ``data dataset add|remove``, ``data database``)
and today's Viam CLI's (``data export tabular|binary``, ``dataset create|list|rename|delete``,
``dataset data add|remove``). Only argparse here; :mod:`.commands.data` runs them.

Every flag's default is left unset (``SUPPRESS``), so a flag given before a subcommand
(``data export --destination D tabular``) is not overwritten by the subcommand's default;
the commands read them with their defaults.
"""
from __future__ import annotations

import argparse

from viamlite.cli.tree import subcommands

S = argparse.SUPPRESS


def _filters(parser: argparse.ArgumentParser) -> None:
    """The seed's data filters."""
    add = parser.add_argument
    add("--org-ids", default=S, metavar="IDS", help="comma-separated organization ids")
    add("--location-ids", default=S, metavar="IDS", help="comma-separated location ids")
    add("--robot-id", "--machine-id", dest="robot_id", default=S, metavar="ID", help="a machine's id")
    add("--robot-name", "--machine-name", dest="robot_name", default=S, metavar="NAME", help="a machine's name")
    add("--part-id", default=S, metavar="ID", help="a part's id")
    add("--part-name", default=S, metavar="NAME", help="a part's name")
    add("--component-type", "--resource-subtype", dest="component_type", default=S, metavar="API",
        help="the resource's API (rdk:component:camera) or subtype (camera)")
    add("--component-name", "--resource-name", dest="component_name", default=S, metavar="NAME",
        help="the resource's name")
    add("--component-model", default=S, metavar="MODEL", help="the resource's model (not filterable: refused)")
    add("--method", default=S, metavar="METHOD", help="the capture method (Readings, GetImages, ...)")
    add("--mime-types", default=S, metavar="TYPES", help="comma-separated MIME types (image/jpeg)")
    add("--tags", default=S, metavar="TAGS", help="comma-separated tags (any of them)")
    add("--start", default=S, metavar="TIME", help="captured at or after (RFC 3339)")
    add("--end", default=S, metavar="TIME", help="captured at or before (RFC 3339)")


def _destination(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--destination", default=S, metavar="DIR", help="the folder to write to")
    parser.add_argument("--parallel", type=int, default=S, metavar="N",
                        help="binary files downloaded at once (default 8)")


def register(subparsers: argparse._SubParsersAction, leaf: object, usage: object, json_flag: object) -> None:
    """Add ``data`` and ``dataset``; ``leaf(parent, name, target, help)`` makes a command
    (see :mod:`viamlite_plugins.cloud.options`), ``usage(parser)`` a group's help."""
    # -- data -------------------------------------------------------------------------------
    data = subparsers.add_parser("data", help="export, delete and query captured data")
    data.set_defaults(func=usage(data))  # type: ignore[operator]
    data_sub = subcommands(data, "data_command")

    export = leaf(data_sub, "export", "data:export", "export captured data to a folder")  # type: ignore[operator]
    export.add_argument("--data-type", choices=("tabular", "binary"), default=S, help="what to export (seed spelling)")
    _destination(export)
    _filters(export)
    export_sub = subcommands(export, "export_command", required=False)
    tabular = leaf(export_sub, "tabular", "data:export_tabular", "export a resource's tabular data to data.ndjson")  # type: ignore[operator]
    _destination(tabular)
    tabular.add_argument("--part-id", default=S, metavar="ID", help="the part's id")
    tabular.add_argument("--resource-name", default=S, metavar="NAME", help="the resource's name")
    tabular.add_argument("--resource-subtype", default=S, metavar="API", help="its API (rdk:component:sensor)")
    tabular.add_argument("--method", default=S, metavar="METHOD", help="the capture method (Readings)")
    tabular.add_argument("--start", default=S, metavar="TIME", help="from (RFC 3339)")
    tabular.add_argument("--end", default=S, metavar="TIME", help="until (RFC 3339)")
    tabular.add_argument("--additional-params", default=S, metavar="JSON", help="the capture's parameters (JSON)")
    binary = export_sub.add_parser("binary", help="export binary data (images) by filter or by id")
    binary.set_defaults(func=usage(binary))  # type: ignore[operator]
    binary_sub = subcommands(binary, "binary_command")
    by_filter = leaf(binary_sub, "filter", "data:export_binary_filter", "export the binary data a filter matches")  # type: ignore[operator]
    _destination(by_filter)
    _filters(by_filter)
    by_ids = leaf(binary_sub, "ids", "data:export_binary_ids", "export binary data by id")  # type: ignore[operator]
    _destination(by_ids)
    by_ids.add_argument("--binary-data-ids", default=S, metavar="IDS", help="comma-separated binary data ids")

    delete = data_sub.add_parser("delete", help="delete captured data")
    delete.set_defaults(func=usage(delete))  # type: ignore[operator]
    delete_sub = subcommands(delete, "delete_command")
    _filters(leaf(delete_sub, "binary", "data:delete_binary", "delete the binary data a filter matches"))  # type: ignore[operator]
    delete_tabular = leaf(delete_sub, "tabular", "data:delete_tabular", "delete an organization's older tabular data")  # type: ignore[operator]
    delete_tabular.add_argument("--org-id", required=True, metavar="ID", help="the organization")
    delete_tabular.add_argument("--delete-older-than-days", type=int, required=True, metavar="DAYS",
                                help="received more than DAYS days ago (0: all)")

    _dataset_data(data_sub, "dataset", leaf, usage)

    database = data_sub.add_parser("database", help="direct SQL access to an organization's tabular data")
    database.set_defaults(func=usage(database))  # type: ignore[operator]
    database_sub = subcommands(database, "database_command")
    configure = leaf(database_sub, "configure", "data:database_configure",  # type: ignore[operator]
                     "make (or give a new password to) the organization's database user")
    configure.add_argument("--org-id", required=True, metavar="ID", help="the organization")
    configure.add_argument("--password", required=True, help="the user's password (8 characters or more)")
    configure.add_argument("--yes", "-y", action="store_true", help="replace an existing user's password "
                           "without asking")
    hostname = leaf(database_sub, "hostname", "data:database_hostname",  # type: ignore[operator]
                    "print where to connect, and the connection URI")
    hostname.add_argument("--org-id", required=True, metavar="ID", help="the organization")

    # -- dataset ------------------------------------------------------------------------------
    dataset = subparsers.add_parser("dataset", help="work with datasets")
    dataset.set_defaults(func=usage(dataset))  # type: ignore[operator]
    dataset_sub = subcommands(dataset, "dataset_command")
    create = leaf(dataset_sub, "create", "data:dataset_create", "create a dataset")  # type: ignore[operator]
    create.add_argument("--org-id", required=True, metavar="ID", help="its organization")
    create.add_argument("--name", required=True, help="its name")
    json_flag(create)  # type: ignore[operator]
    listing = leaf(dataset_sub, "list", "data:dataset_list", "list an organization's datasets, or some by id")  # type: ignore[operator]
    listing.add_argument("--org-id", default=S, metavar="ID", help="the organization")
    listing.add_argument("--dataset-ids", default=S, metavar="IDS", help="comma-separated dataset ids")
    json_flag(listing)  # type: ignore[operator]
    rename = leaf(dataset_sub, "rename", "data:dataset_rename", "rename a dataset")  # type: ignore[operator]
    rename.add_argument("--dataset-id", required=True, metavar="ID")
    rename.add_argument("--name", required=True, help="its new name")
    remove = leaf(dataset_sub, "delete", "data:dataset_delete", "delete a dataset (its data stays)")  # type: ignore[operator]
    remove.add_argument("--dataset-id", required=True, metavar="ID")
    _dataset_data(dataset_sub, "data", leaf, usage)


def _dataset_data(parent: argparse._SubParsersAction, name: str, leaf: object, usage: object) -> None:
    """``data dataset add|remove ids|filter`` (the seed's) and ``dataset data ...`` (today's)."""
    group = parent.add_parser(name, help="add binary data to a dataset, or remove it")
    group.set_defaults(func=usage(group))  # type: ignore[operator]
    group_sub = subcommands(group, f"{name}_dataset_command")
    for verb in ("add", "remove"):
        action = group_sub.add_parser(verb, help=f"{verb} binary data {'to' if verb == 'add' else 'from'} a dataset")
        action.set_defaults(func=usage(action))  # type: ignore[operator]
        how = subcommands(action, f"{verb}_how")
        ids = leaf(how, "ids", f"data:dataset_{verb}_ids", f"{verb} binary data by id")  # type: ignore[operator]
        ids.add_argument("--dataset-id", required=True, metavar="ID")
        ids.add_argument("--binary-data-ids", required=True, metavar="IDS", help="comma-separated binary data ids")
        by_filter = leaf(how, "filter", f"data:dataset_{verb}_filter", f"{verb} the binary data a filter matches")  # type: ignore[operator]
        by_filter.add_argument("--dataset-id", required=True, metavar="ID")
        _filters(by_filter)
