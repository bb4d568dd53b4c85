"""Hook specifications: every way a plugin extends viamlite.

A plugin is a module (or object) with functions marked ``@viamlite.hookimpl`` whose names
match the specs below. Bundled plugins and third-party ones are found the same way, through
the ``viamlite`` entry-point group; see :mod:`viamlite.plugins`.

Call order follows pluggy: the plugin registered last is called first. Built-ins are
registered before entry points, and viamlite's own bundled entry points before other
distributions', so an installed plugin can override a bundled one.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import RemoteConfig
    from viamlite.machine import Machine
    from viamlite.registry import ModelRegistry
    from viamlite.remotes import RemoteLink

PROJECT = "viamlite"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- resources ---------------------------------------------------------------------


@hookspec
def viamlite_register_models(registry: "ModelRegistry") -> None:
    """Register resource models (drivers) with ``registry.register(api, model, factory)``.

    Called once for each registry a machine builds, on every plugin; returns nothing.
    The first registration of an (API, model) pair wins, and the plugin registered last
    is called first, so an installed plugin can replace a bundled model.
    """


# -- remote parts ------------------------------------------------------------------


@hookspec(firstresult=True)
def viamlite_remote_link(config: "RemoteConfig", machine_id: str) -> "RemoteLink | None":
    """Return a :class:`~viamlite.remotes.RemoteLink` to the remote ``config`` describes,
    or None to leave it to another plugin.

    Called when a machine's config adds a remote or changes one, before the config is
    applied; the link must not touch the network until its ``start`` is called.
    ``machine_id`` is the linking machine's id, which the link sends so loops can be cut
    (see :mod:`viamlite.remotes`). Stops at the first non-None result (``firstresult``):
    the plugin registered last is asked first, so an installed plugin can take over
    addresses it knows (another transport) and return None for the rest. The bundled
    ``remote`` plugin links over gRPC.
    """


# -- machine lifecycle -------------------------------------------------------------


@hookspec
def viamlite_machine_started(machine: "Machine") -> None:
    """Called once, after ``machine`` has built its resources from its first config.

    Every plugin is called; the return value is ignored. Use it to start background work
    tied to the machine, and ``machine.on_close(callback)`` to stop it.
    """


# -- command line ------------------------------------------------------------------


@hookspec
def viamlite_register_commands(subparsers: "argparse._SubParsersAction") -> None:
    """Add subcommands to the ``viamlite`` command.

    ``subparsers`` is the argparse sub-parser collection of the top-level parser. Add a
    parser with ``subparsers.add_parser(name, help=...)`` and attach the function to run
    with ``parser.set_defaults(func=fn)``; ``fn(args)`` returns the exit code (0 ok, 1
    runtime failure, 2 usage or config error). Every plugin is called; returns nothing.
    """
