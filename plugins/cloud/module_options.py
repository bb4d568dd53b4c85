"""The ``module`` commands' names and flags, as the Viam CLI has them: ``module create``,
``update``, ``upload``, ``build local`` and ``build start|list|logs``. Only argparse here;
:mod:`.commands.module` runs them."""
from __future__ import annotations

import argparse

from viamlite.cli.tree import subcommands


def _module_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--module", default="meta.json", metavar="PATH",
                        help="the module's meta.json (default: ./meta.json)")


def register(subparsers: argparse._SubParsersAction, leaf: object, usage: object, json_flag: object) -> None:
    """Add ``module``; ``leaf``, ``usage`` and ``json_flag`` as :mod:`viamlite_plugins.cloud.options` makes them."""
    module = subparsers.add_parser("module", aliases=["modules"], help="work with modules in the registry")
    module.set_defaults(func=usage(module))  # type: ignore[operator]
    sub = subcommands(module, "module_command")

    create = leaf(sub, "create", "module:create", "create a module in the registry and write its meta.json")  # type: ignore[operator]
    create.add_argument("--name", required=True, help="the module's name")
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--org-id", default="", metavar="ID", help="the organization that owns it")
    owner.add_argument("--public-namespace", default="", metavar="NS",
                       help="the owning organization's public namespace")
    create.add_argument("--local-only", action="store_true", help="write meta.json only (no call to the app)")
    create.add_argument("--output", default="meta.json", metavar="PATH", help="where to write it (./meta.json)")

    update = leaf(sub, "update", "module:update", "send meta.json (and README.md beside it) to the registry")  # type: ignore[operator]
    _module_flag(update)

    upload = leaf(sub, "upload", "module:upload", "upload a version of the module for a platform")  # type: ignore[operator]
    upload.add_argument("--version", required=True, help="the version (semantic: 1.2.3)")
    upload.add_argument("--platform", required=True,
                        help="the platform it runs on: linux/amd64, linux/arm64, linux/arm, darwin/arm64 or any")
    upload.add_argument("--tags", default="", metavar="TAGS", help="comma-separated platform tags (distro:debian)")
    upload.add_argument("--org-id", default="", metavar="ID", help="the owning organization (checks meta.json)")
    upload.add_argument("--public-namespace", default="", metavar="NS", help="its public namespace (checks meta.json)")
    upload.add_argument("--force", action="store_true", help="skip checking the package before uploading it")
    _module_flag(upload)
    upload.add_argument("path", metavar="PATH", help="a .tar.gz (or .tgz) package, or a folder to pack")

    build_group = sub.add_parser("build", help="build the module: here, or on the fleet's host")
    build_group.set_defaults(func=usage(build_group))  # type: ignore[operator]
    build_sub = subcommands(build_group, "build_command")
    local = leaf(build_sub, "local", "module:build_local", "run meta.json's build steps here")  # type: ignore[operator]
    _module_flag(local)
    start = leaf(build_sub, "start", "module:build_start", "start a build on the app's build runner")  # type: ignore[operator]
    _module_flag(start)
    start.add_argument("--version", required=True, help="the version to build")
    start.add_argument("--platforms", default="", metavar="LIST",
                       help="comma-separated platforms (default: meta.json's build.arch, else this host's)")
    start.add_argument("--ref", default="", help="(accepted for the Viam CLI; the fleet builds the uploaded source)")
    start.add_argument("--wait", action="store_true", help="wait for the build and print its logs")
    listing = leaf(build_sub, "list", "module:build_list", "list the module's builds")  # type: ignore[operator]
    _module_flag(listing)
    listing.add_argument("--id", default="", help="one build's id")
    listing.add_argument("--count", type=int, default=0, metavar="N", help="at most N builds")
    json_flag(listing)  # type: ignore[operator]
    logs = leaf(build_sub, "logs", "module:build_logs", "print a build's logs")  # type: ignore[operator]
    logs.add_argument("--id", required=True, help="the build's id")
    logs.add_argument("--platform", default="", help="one platform's logs")
    logs.add_argument("--wait", action="store_true", help="follow the logs until the build ends")
