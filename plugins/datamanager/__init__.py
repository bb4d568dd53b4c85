"""The bundled ``datamanager`` plugin: viam-server's data manager service
(``rdk:service:data_manager``, model ``rdk:builtin:builtin``), with viam-server's config.

Components name what to capture in their ``service_configs`` (``capture_methods``); the
service captures it into Viam's capture files under ``capture_dir``, recovers them after a
crash, syncs them to the fleet of the machine's ``cloud`` block (deleting a file only
after the fleet acknowledged it, never storing a retry twice) and keeps the directory
within a bound (oldest files dropped first, counted and logged). See :mod:`.service`.

Only hooks live here: loading the plugin imports none of the service's code, which is
imported when a config names the service.
"""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from viamlite.hookspecs import hookimpl
from viamlite.names import API
from viamlite.registry import LazyModel

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.registry import ModelRegistry

MODELS = [LazyModel(API.parse("rdk:service:data_manager"), "rdk:builtin:builtin", "service:DataManager")]

#: Machines that have started; a data manager finds the machine it belongs to here.
started_machines: "weakref.WeakSet[Any]" = weakref.WeakSet()


@hookimpl
def viamlite_register_models(registry: "ModelRegistry") -> None:
    """Register viam-server's built-in data manager."""
    registry.register_lazy_models(__name__, MODELS)


@hookimpl
def viamlite_machine_started(machine: Any) -> None:
    """Remember the machine, and bind the data managers it built to it."""
    started_machines.add(machine)
    for entry in machine.entries():
        if entry.config.api == MODELS[0].api and entry.resource is not None:
            entry.resource.bind(machine)
