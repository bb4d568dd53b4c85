"""viamlite: a Viam-compatible machine runtime in pure Python.

The package facade stays light: names below are imported on first use, so the CLI
and the REPL start fast on a single-board computer.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from viamlite.lazy import lazy_names

__version__ = "0.1.0"

_LAZY = {
    "hookimpl": "viamlite.hookspecs",
    "Machine": "viamlite.machine",
    "connect": "viamlite.client",
    "connect_async": "viamlite.client",
    "MachineClient": "viamlite.client",
    "API": "viamlite.names",
    "Model": "viamlite.names",
    "ResourceName": "viamlite.names",
    "Resource": "viamlite.resource",
    "ViamliteError": "viamlite.errors",
    "ConfigError": "viamlite.errors",
    "ResourceNotFoundError": "viamlite.errors",
}

__all__ = ["__version__", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.client import MachineClient, connect, connect_async
    from viamlite.errors import ConfigError, ResourceNotFoundError, ViamliteError
    from viamlite.hookspecs import hookimpl
    from viamlite.machine import Machine
    from viamlite.names import API, Model, ResourceName
    from viamlite.resource import Resource


__getattr__ = lazy_names(__name__, _LAZY)
