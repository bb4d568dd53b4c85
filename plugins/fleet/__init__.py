"""Bundled plugin: ``viamlite fleet``, a self-hosted Viam app (see README.md in this folder).

Only the command is registered here; the database, the protos and the server are imported
when a fleet command runs, so other commands never load them.
"""
from __future__ import annotations

import argparse

from viamlite.hookspecs import hookimpl


@hookimpl
def viamlite_register_commands(subparsers: argparse._SubParsersAction) -> None:
    from viamlite_plugins.fleet.cli import register

    register(subparsers)
