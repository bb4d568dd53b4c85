"""The machine: its resources and their lifecycle, the machine-wide API, operations,
sessions, the frame system built from the config, and config watching.

    from viamlite.machine import Machine
    machine = Machine(config)

Names load on first use, so importing one of the submodules stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from viamlite.lazy import lazy_names

_LAZY = {
    "Machine": "viamlite.machine.runtime",
    "State": "viamlite.machine.runtime",
    "Entry": "viamlite.machine.runtime",
    "ConfigWatcher": "viamlite.machine.watch",
}

__all__ = list(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine.runtime import Entry, Machine, State
    from viamlite.machine.watch import ConfigWatcher


__getattr__ = lazy_names(__name__, _LAZY)
