"""Component APIs: one interface module per API.

Each module defines the interface class drivers subclass. :data:`COMPONENTS` maps an API
subtype to its interface, imported on first use.
"""
from __future__ import annotations

import importlib

from viamlite.names import API

COMPONENTS: dict[str, str] = {
    "base": "viamlite.components.base:Base",
    "board": "viamlite.components.board:Board",
    "button": "viamlite.components.button:Button",
    "camera": "viamlite.components.camera:Camera",
    "encoder": "viamlite.components.encoder:Encoder",
    "generic": "viamlite.components.generic:Generic",
    "gripper": "viamlite.components.gripper:Gripper",
    "motor": "viamlite.components.motor:Motor",
    "movement_sensor": "viamlite.components.movement_sensor:MovementSensor",
    "power_sensor": "viamlite.components.power_sensor:PowerSensor",
    "sensor": "viamlite.components.sensor:Sensor",
    "servo": "viamlite.components.servo:Servo",
    "switch": "viamlite.components.switch:Switch",
}


def interface_for(api: API) -> type | None:
    """The interface class of a builtin component API, or None."""
    if api.namespace != "rdk" or api.type != "component" or api.subtype not in COMPONENTS:
        return None
    module, _, cls = COMPONENTS[api.subtype].partition(":")
    return getattr(importlib.import_module(module), cls)
