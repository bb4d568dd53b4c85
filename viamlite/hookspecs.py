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
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import MachineConfig, ModuleConfig, RemoteConfig
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


# -- config sources ----------------------------------------------------------------


class ConfigSource(Protocol):
    """Where a served machine's config comes from when its file hands it elsewhere (a fleet).

    ``viamlite serve`` calls :meth:`initial` before it builds the machine, :meth:`start`
    once the machine serves, and :meth:`close` once it has stopped every actuator and closed
    every resource (so their last log records can still go out).
    """

    def initial(self) -> "MachineConfig":
        """The config to start from; raises :class:`~viamlite.errors.ConfigError` when there
        is none to be had (the message says why and the fix)."""

    def start(self, machine: "Machine", address: tuple[str, int], restart: Callable[[], None]) -> None:
        """Keep ``machine`` on the source's config from now on (applying changes with
        ``machine.apply``, as file edits are). ``address`` is the (bound host, port) the
        machine's gRPC server listens on; ``restart()`` asks ``viamlite serve`` for a clean
        restart (actuators stopped, resources closed, then the same command again)."""

    def close(self) -> None:
        """Stop all background work; idempotent."""


@hookspec(firstresult=True)
def viamlite_config_source(config: "MachineConfig", plugin_manager: "pluggy.PluginManager") -> "ConfigSource | None":
    """Return a :class:`ConfigSource` when the local ``config`` (the file given to ``viamlite
    serve``) hands the machine's config to another place, or None. ``plugin_manager`` is the
    one the machine will be built with (a source checks the configs it gets against the
    models it offers).

    Called once by ``viamlite serve``, before the machine is built, only for a config whose
    ``cloud`` block makes it a fleet member (``config.cloud`` is set), so a plugin's heavy
    code is imported only then. Stops at the first non-None result (``firstresult``). The
    bundled ``cloud`` plugin answers with a member of the fleet at ``config.cloud.app_address``.
    """


@hookspec
def viamlite_config_applying(machine: "Machine", config: "MachineConfig") -> None:
    """Called by ``machine.apply(config)`` before it validates ``config`` (under the machine's
    apply lock), on every plugin; the return value is ignored.

    Prepare what the config's resources need before their models are looked up: the bundled
    module support starts the config's modules here, so their models are known. Raise
    :class:`~viamlite.errors.ConfigError` to refuse the config (nothing of the machine changes).
    """


@hookspec
def viamlite_config_applied(machine: "Machine", config: "MachineConfig") -> None:
    """Called by ``machine.apply(config)`` once ``config`` runs (resources built, removed and
    reconfigured), on every plugin; the return value is ignored.

    Release what the previous config needed and this one does not: the bundled module
    support stops modules the config no longer names here.
    """


@hookspec(firstresult=True)
def viamlite_module_executable(config: "ModuleConfig", machine: "Machine") -> "str | None":
    """Return the path of the program to run for module entry ``config`` of ``machine`` (for a
    ``"type": "registry"`` entry, its package's entrypoint once unpacked), or None to leave it
    to another plugin.

    Called each time the module is started (a restart too), before a local entry's
    ``executable_path`` is used; stops at the first non-None result (``firstresult``). A
    plugin that fetches packages from a fleet answers for registry entries; raise
    ``RuntimeError`` with the reason when the package cannot be had (the module's resources
    are then unhealthy with it, and the start is tried again with backoff).
    """


# -- command line ------------------------------------------------------------------


@hookspec
def viamlite_register_commands(subparsers: "argparse._SubParsersAction") -> None:
    """Add subcommands to the ``viamlite`` command.

    ``subparsers`` is the argparse sub-parser collection of the top-level parser. Add a
    parser with ``subparsers.add_parser(name, help=...)`` and attach the function to run
    with ``parser.set_defaults(func=fn)``; ``fn(args)`` returns the exit code (0 ok, 1
    runtime failure, 2 usage or config error). Every plugin is called; returns nothing.
    To add to a group another plugin made (``machines``), mark the implementation
    ``trylast=True`` and find the group with :func:`viamlite.cli.tree.group`. Every
    command takes ``--debug`` after it as well (added once all plugins have registered).
    """
