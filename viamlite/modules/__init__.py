"""Viam modules: child processes speaking ``viam.module.v1``, whose resources the machine
serves as its own.

* :mod:`~viamlite.modules.manager`: the modules of a machine (launch, handshake, crashes and
  restarts, the registry's source of their models);
* :mod:`~viamlite.modules.process`: one module's process (argv, environment, socket, output);
* :mod:`~viamlite.modules.link`: the channel to a module (the module protocol, calls forwarded
  as bytes, its own APIs read by reflection);
* :mod:`~viamlite.modules.resource`: a module's resource as the machine holds it;
* :mod:`~viamlite.modules.convert`: resource configs as the protocol carries them.

Loaded only when a config names modules.
"""
from __future__ import annotations

from viamlite.modules.manager import (
    Module,
    ModuleManager,
    ModuleModel,
    ModuleState,
    ModuleStatus,
)
from viamlite.modules.resource import ModuleResource

__all__ = ["Module", "ModuleManager", "ModuleModel", "ModuleResource", "ModuleState", "ModuleStatus"]
