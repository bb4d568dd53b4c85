"""Resource proxies: the component interfaces, implemented by calls to a remote machine.

One module per API (``viamlite.client.resources.servo`` holds ``ServoClient``);
:func:`proxy_for` builds the proxy of any API, a :class:`RemoteResource` for APIs viamlite
has no interface for (it still offers ``do_command``, ``get_geometries`` and ``get_status``).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from viamlite.client.resources._base import RemoteResource
from viamlite.names import API

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.client.connection import Connection

PROXIES: dict[str, str] = {
    "base": "BaseClient", "board": "BoardClient", "camera": "CameraClient", "button": "ButtonClient", "encoder": "EncoderClient",
    "generic": "GenericClient", "gripper": "GripperClient", "motor": "MotorClient",
    "movement_sensor": "MovementSensorClient", "power_sensor": "PowerSensorClient", "sensor": "SensorClient",
    "servo": "ServoClient", "switch": "SwitchClient",
}


def proxy_for(api: API, name: str, connection: "Connection") -> RemoteResource:
    """The proxy of resource ``name`` of ``api`` over ``connection``."""
    if api.namespace == "rdk" and api.type == "component" and api.subtype in PROXIES:
        module = importlib.import_module(f"viamlite.client.resources.{api.subtype}")
        return getattr(module, PROXIES[api.subtype])(name, connection)
    return RemoteResource(name, connection, api=api)


__all__ = ["PROXIES", "RemoteResource", "proxy_for"]
