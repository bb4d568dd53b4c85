"""Conversions between protobuf messages and viamlite's Python values."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from viamlite.components.movement_sensor import AngularVelocity
from viamlite.errors import InvalidArgumentError
from viamlite.gen import common_pb2, struct_pb2_of_pool
from viamlite.spatial import OrientationVector, Pose, Vector3

Struct = struct_pb2_of_pool()[0]


def struct_to_dict(struct: Any) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def dict_to_struct(obj: Mapping[str, Any], out: Any = None) -> Any:
    struct = Struct() if out is None else out
    try:
        struct.update(_plain(obj))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"result cannot be sent as a JSON-like struct: {exc}") from None
    return struct


def extra_of(request: Any) -> dict[str, Any] | None:
    """The request's ``extra`` field as a dict, or None when it is empty."""
    return json_format.MessageToDict(request.extra) if request.HasField("extra") else None


def vector_to_proto(v: Vector3) -> Any:
    return common_pb2.Vector3(x=v.x, y=v.y, z=v.z)


def vector_from_proto(msg: Any) -> Vector3:
    return Vector3(msg.x, msg.y, msg.z)


def orientation_to_proto(ov: OrientationVector) -> Any:
    return common_pb2.Orientation(o_x=ov.o_x, o_y=ov.o_y, o_z=ov.o_z, theta=ov.theta_deg)


def pose_to_proto(pose: Pose) -> Any:
    x, y, z, ox, oy, oz, th = pose.to_viam()
    return common_pb2.Pose(x=x, y=y, z=z, o_x=ox, o_y=oy, o_z=oz, theta=th)


_POSE_FIELDS = ("x", "y", "z", "o_x", "o_y", "o_z", "theta")


def pose_from_proto(msg: Any) -> Pose:
    values = [getattr(msg, f) for f in _POSE_FIELDS]
    bad = [f for f, v in zip(_POSE_FIELDS, values) if not math.isfinite(v)]
    if bad:
        raise InvalidArgumentError(f"the pose has non-finite {', '.join(bad)}; every pose field must be a finite number")
    try:
        return Pose.from_viam(*values)
    except ValueError as exc:
        raise InvalidArgumentError(f"the pose is not usable: {exc}") from None


def geometry_to_proto(geometry: Any) -> Any:
    msg = common_pb2.Geometry(center=pose_to_proto(geometry.center), label=geometry.label)
    if geometry.kind == "box":
        msg.box.dims_mm.CopyFrom(vector_to_proto(geometry.dims_mm))
    elif geometry.kind == "sphere":
        msg.sphere.radius_mm = geometry.radius_mm
    elif geometry.kind == "capsule":
        msg.capsule.radius_mm = geometry.radius_mm
        msg.capsule.length_mm = geometry.length_mm
    return msg


def _plain(obj: Any) -> Any:
    """Turn readings into JSON-like values, encoding spatial types as the Viam SDKs do."""
    if isinstance(obj, Vector3):
        kind = "angular_velocity" if isinstance(obj, AngularVelocity) else "vector3"
        return {"x": obj.x, "y": obj.y, "z": obj.z, "_type": kind}
    if isinstance(obj, OrientationVector):
        return {"ox": obj.o_x, "oy": obj.o_y, "oz": obj.o_z, "theta": obj.theta_deg, "_type": "orientation_vector_degrees"}
    if hasattr(obj, "latitude") and hasattr(obj, "longitude"):
        return {"lat": obj.latitude, "lng": obj.longitude, "_type": "geopoint"}
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (bytes, bytearray)):
        return obj.decode("utf-8", "replace")
    return obj


def readings_to_proto(readings: Mapping[str, Any], out: Any) -> None:
    """Fill a ``map<string, Value>`` field with readings."""
    if not isinstance(readings, Mapping):
        raise TypeError(f"readings must be a dict, got {type(readings).__name__}")
    for key, value in _plain(readings).items():
        out[key].CopyFrom(_value(value))


def _value(obj: Any) -> Any:
    wrapper = Struct()
    wrapper.update({"v": obj})
    return wrapper.fields["v"]


def require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidArgumentError(message)


# -- client side: messages back to Python values ------------------------------------


def geometry_from_proto(msg: Any) -> Any:
    from viamlite.spatial.geometry import Geometry

    center = pose_from_proto(msg.center)
    kind = msg.WhichOneof("geometry_type") or "box"
    if kind == "sphere":
        return Geometry("sphere", center, radius_mm=msg.sphere.radius_mm, label=msg.label)
    if kind == "capsule":
        return Geometry("capsule", center, radius_mm=msg.capsule.radius_mm, length_mm=msg.capsule.length_mm,
                        label=msg.label)
    return Geometry("box", center, dims_mm=vector_from_proto(msg.box.dims_mm), label=msg.label)


def orientation_from_proto(msg: Any) -> OrientationVector:
    return OrientationVector(msg.o_x, msg.o_y, msg.o_z, msg.theta)


def from_plain(obj: Any) -> Any:
    """Undo :func:`_plain`: JSON-like values with ``_type`` tags back to spatial types."""
    if isinstance(obj, dict):
        kind = obj.get("_type")
        if kind in ("vector3", "angular_velocity") and {"x", "y", "z"} <= obj.keys():
            cls = AngularVelocity if kind == "angular_velocity" else Vector3
            return cls(obj["x"], obj["y"], obj["z"])
        if kind == "orientation_vector_degrees" and {"ox", "oy", "oz", "theta"} <= obj.keys():
            return OrientationVector(obj["ox"], obj["oy"], obj["oz"], obj["theta"])
        if kind == "geopoint" and {"lat", "lng"} <= obj.keys():
            from viamlite.components.movement_sensor import GeoPoint

            return GeoPoint(obj["lat"], obj["lng"])
        return {k: from_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [from_plain(v) for v in obj]
    return obj


def readings_from_proto(readings: Any) -> dict[str, Any]:
    """A ``map<string, Value>`` field as readings (spatial values decoded)."""
    return {key: from_plain(json_format.MessageToDict(value)) for key, value in readings.items()}
