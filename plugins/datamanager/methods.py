"""viam-server's capture methods for each API viamlite serves, and what each records.

A tabular method returns a JSON-like dict (the method's reply as viam-server records it,
``{"readings": {...}}`` for Readings); a binary one returns a list of (bytes, MIME type),
one capture record each. ``additional_params`` are the capture method's parameters
(``reader_name`` for board Analogs, ``pin_name`` for Gpios).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from viamlite.config import ConfigError
from viamlite.names import API

TABULAR, BINARY = "tabular", "binary"
EXTENSIONS = {"image/jpeg": ".jpeg", "image/png": ".png", "pointcloud/pcd": ".pcd"}


@dataclass(frozen=True)
class MethodSpec:
    kind: str  # TABULAR or BINARY
    capture: Callable[[Any, Mapping[str, str]], Any]
    needs: tuple[str, ...] = ()  # additional_params it requires


_SCALARS = (int, float, str, bool, type(None))


def plain(value: Any) -> Any:
    """Values as JSON-like data, spatial types as the Viam SDKs write them."""
    if type(value) is dict and all(type(v) in _SCALARS for v in value.values()):
        return value  # the common case (flat readings), as it is
    from viamlite.spatial.algebra import Vector3
    from viamlite.spatial.orientation import OrientationVector

    if isinstance(value, Vector3):
        return {"x": value.x, "y": value.y, "z": value.z}
    if isinstance(value, OrientationVector):
        return {"o_x": value.o_x, "o_y": value.o_y, "o_z": value.o_z, "theta": value.theta_deg}
    if hasattr(value, "latitude") and hasattr(value, "longitude"):
        return {"latitude": value.latitude, "longitude": value.longitude}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return value


def _readings(r: Any, p: Mapping[str, str]) -> dict[str, Any]:
    return {"readings": plain(r.get_readings())}


def _geo(r: Any, p: Mapping[str, str]) -> dict[str, Any]:
    pos = r.get_position()
    return {"coordinate": plain(pos.coordinate), "altitude_m": pos.altitude_m}


def _analog(r: Any, p: Mapping[str, str]) -> dict[str, Any]:
    v = r.read_analog(p["reader_name"])
    return {"value": v.value, "min_range": v.min_range, "max_range": v.max_range, "step_size": v.step_size}


def _images(r: Any, p: Mapping[str, str]) -> list[tuple[bytes, str]]:
    return [(bytes(image.data), image.mime_type) for image in r.get_images().images]


def _powered(r: Any, p: Mapping[str, str]) -> dict[str, Any]:
    state = r.is_powered()
    return {"is_on": state.is_on, "power_pct": state.power_pct}


def _voltage(r: Any, p: Mapping[str, str]) -> dict[str, Any]:
    v = r.get_voltage()
    return {"volts": v.volts, "is_ac": v.is_ac}


def _current(r: Any, p: Mapping[str, str]) -> dict[str, Any]:
    c = r.get_current()
    return {"amperes": c.amperes, "is_ac": c.is_ac}


def _ticks(r: Any, p: Mapping[str, str]) -> dict[str, Any]:
    pos = r.get_position()
    return {"value": pos.value, "position_type": pos.position_type}


TABLE: dict[tuple[str, str], MethodSpec] = {
    ("sensor", "Readings"): MethodSpec(TABULAR, _readings),
    ("servo", "Position"): MethodSpec(TABULAR, lambda r, p: {"position_deg": r.get_position()}),
    ("motor", "Position"): MethodSpec(TABULAR, lambda r, p: {"position": r.get_position()}),
    ("motor", "IsPowered"): MethodSpec(TABULAR, _powered),
    ("encoder", "TicksCount"): MethodSpec(TABULAR, _ticks),
    ("movement_sensor", "Position"): MethodSpec(TABULAR, _geo),
    ("movement_sensor", "LinearVelocity"): MethodSpec(TABULAR, lambda r, p: {"linear_velocity": plain(r.get_linear_velocity())}),
    ("movement_sensor", "AngularVelocity"): MethodSpec(TABULAR, lambda r, p: {"angular_velocity": plain(r.get_angular_velocity())}),
    ("movement_sensor", "LinearAcceleration"): MethodSpec(
        TABULAR, lambda r, p: {"linear_acceleration": plain(r.get_linear_acceleration())}),
    ("movement_sensor", "CompassHeading"): MethodSpec(TABULAR, lambda r, p: {"value": r.get_compass_heading()}),
    ("movement_sensor", "Orientation"): MethodSpec(TABULAR, lambda r, p: {"orientation": plain(r.get_orientation())}),
    ("movement_sensor", "Readings"): MethodSpec(TABULAR, _readings),
    ("board", "Analogs"): MethodSpec(TABULAR, _analog, ("reader_name",)),
    ("board", "Gpios"): MethodSpec(TABULAR, lambda r, p: {"high": r.get_gpio(p["pin_name"])}, ("pin_name",)),
    ("power_sensor", "Voltage"): MethodSpec(TABULAR, _voltage),
    ("power_sensor", "Current"): MethodSpec(TABULAR, _current),
    ("power_sensor", "Power"): MethodSpec(TABULAR, lambda r, p: {"watts": r.get_power()}),
    ("power_sensor", "Readings"): MethodSpec(TABULAR, _readings),
    ("camera", "GetImages"): MethodSpec(BINARY, _images),
}


def method_for(api: API, method: str, where: str = "") -> MethodSpec:
    """The capture method ``method`` of ``api``; a ConfigError naming the ones there are."""
    spec = TABLE.get((api.subtype, method))
    if spec is None:
        offered = sorted(m for (subtype, m) in TABLE if subtype == api.subtype)
        fix = (f"use one of: {', '.join(offered)}" if offered else
               f"viamlite captures no method of {api}; capture one of the APIs: "
               f"{', '.join(sorted({s for s, _ in TABLE}))}")
        raise ConfigError(f"{api} has no capture method {method!r}", path=f"{where}.method" if where else "", fix=fix)
    return spec


def check_params(spec: MethodSpec, params: Mapping[str, str], method: str, where: str) -> None:
    missing = [k for k in spec.needs if not params.get(k)]
    if missing:
        raise ConfigError(f"capture method {method} needs additional_params {', '.join(missing)}",
                          path=f"{where}.additional_params", fix=f'write "additional_params": {{"{missing[0]}": "NAME"}}')
