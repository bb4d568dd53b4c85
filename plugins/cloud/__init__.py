"""The bundled ``cloud`` plugin: the machine's side of a fleet (``viamlite serve`` with a
``cloud`` block, :mod:`.member`), and the Viam CLI's cloud commands (``login``,
``organizations``, ``locations``, ``machines ...``: :mod:`.options` names them,
:mod:`.commands` runs them).

Only hook implementations live here, and they import nothing heavy until a config asks for a
fleet or a cloud command runs: serving a machine without a ``cloud`` block loads none of the
member's code, none of the commands' code, nor the app API's generated code.
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from viamlite.hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import MachineConfig, ModuleConfig


@hookimpl
def viamlite_config_source(config: "MachineConfig", plugin_manager: Any) -> Any:
    """A :class:`~viamlite_plugins.cloud.member.FleetMember` for a config whose cloud block
    names a fleet."""
    if config.cloud is None:
        return None
    from viamlite_plugins.cloud.member import FleetMember

    return FleetMember(config, plugin_manager=plugin_manager)


@hookimpl(tryfirst=True)  # before the modules start: they may need this fleet for their packages
def viamlite_config_applying(machine: Any, config: "MachineConfig") -> None:
    if config.cloud is not None and any(m.type == "registry" for m in config.modules):
        from viamlite_plugins.cloud.member.packages import remember

        remember(machine, config.cloud)


@hookimpl
def viamlite_module_executable(config: "ModuleConfig", machine: Any) -> "str | None":
    """A registry module's entrypoint: its package from disk, or fetched from the machine's fleet."""
    if config.type != "registry":
        return None
    from viamlite_plugins.cloud.member.packages import executable

    return executable(config, machine)


@hookimpl(trylast=True)  # after the built-in commands: it extends their ``machines`` group
def viamlite_register_commands(subparsers: argparse._SubParsersAction) -> None:
    from viamlite_plugins.cloud.options import register

    register(subparsers)
