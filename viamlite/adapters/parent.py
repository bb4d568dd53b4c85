"""The built-in plugin that gives a machine its modules: a module manager
(:mod:`viamlite.modules`) made when a config first names modules, with the parent's socket
served by :class:`~viamlite.adapters.serving.ParentServer`, following every config applied.

Importing this module is cheap: module support is loaded only for a config with modules.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from viamlite.hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import MachineConfig
    from viamlite.machine import Machine


@hookimpl
def viamlite_config_applying(machine: Machine, config: MachineConfig) -> None:
    if machine.modules is None:
        if not config.modules:
            return
        from viamlite.adapters.serving import ParentServer
        from viamlite.modules import ModuleManager

        def parent(path: str) -> Any:
            return ParentServer(machine, path, on_log=lambda entries: manager.log_entries(entries))

        manager = ModuleManager(machine, parent)
        machine.modules = manager
        machine.on_close(manager.close)
    machine.modules.apply(config)


@hookimpl
def viamlite_config_applied(machine: Machine, config: MachineConfig) -> None:
    if machine.modules is not None:
        machine.modules.applied(config)
