"""Adapters between the Viam wire messages and viamlite's resource interfaces.

One module per API (``viamlite.adapters.servo`` serves ``ServoService``), one for the
robot service. Adapters know messages and resources; they know nothing of the transport
beyond the small :class:`~viamlite.adapters.service.Call` view of a call.
"""
from __future__ import annotations

COMPONENT_ADAPTERS: dict[str, str] = {
    "base": "viamlite.adapters.base",
    "board": "viamlite.adapters.board",
    "button": "viamlite.adapters.button",
    "encoder": "viamlite.adapters.encoder",
    "generic": "viamlite.adapters.generic",
    "gripper": "viamlite.adapters.gripper",
    "motor": "viamlite.adapters.motor",
    "movement_sensor": "viamlite.adapters.movement_sensor",
    "power_sensor": "viamlite.adapters.power_sensor",
    "sensor": "viamlite.adapters.sensor",
    "servo": "viamlite.adapters.servo",
    "switch": "viamlite.adapters.switch",
}
