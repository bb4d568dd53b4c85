"""Viam's orientation forms (orientation vectors in radians and degrees, Euler angles, axis-angle)
and the config's ``orientation`` blocks, as quaternions."""
from __future__ import annotations

import math
from dataclasses import dataclass

from viamlite.spatial.algebra import POLE_EPSILON, Quaternion, Vector3, _clamp1, _rx, _ry, _rz, _wrap

# --------------------------------------------------------------------------- orientation


@dataclass(frozen=True, slots=True)
class OrientationVector:
    """Viam's wire orientation: z-axis direction ``(o_x, o_y, o_z)`` and spin ``theta_deg``."""

    o_x: float = 0.0
    o_y: float = 0.0
    o_z: float = 1.0
    theta_deg: float = 0.0

    def to_quaternion(self) -> Quaternion:
        """The rotation this orientation vector describes."""
        return ov_degrees_to_quat(self.o_x, self.o_y, self.o_z, self.theta_deg)

    @classmethod
    def from_quaternion(cls, q: Quaternion) -> OrientationVector:
        """The orientation vector of rotation ``q`` (unit direction, theta in (-180, 180])."""
        return quat_to_ov_degrees(q)


def ov_radians_to_quat(o_x: float, o_y: float, o_z: float, theta: float) -> Quaternion:
    """Orientation vector (theta in radians) to quaternion; a zero vector is the identity."""
    n = math.sqrt(o_x * o_x + o_y * o_y + o_z * o_z)
    if n == 0.0:
        return Quaternion()
    o_z = _clamp1(o_z / n)
    lon = math.atan2(o_y, o_x) if 1.0 - abs(o_z) > POLE_EPSILON else 0.0
    return _rz(lon) * _ry(math.acos(o_z)) * _rz(theta)


def ov_degrees_to_quat(o_x: float, o_y: float, o_z: float, theta_deg: float) -> Quaternion:
    """Orientation vector (theta in degrees, the wire form) to quaternion."""
    return ov_radians_to_quat(o_x, o_y, o_z, math.radians(theta_deg))


def quat_to_ov_radians(q: Quaternion) -> tuple[float, float, float, float]:
    """Quaternion to ``(o_x, o_y, o_z, theta)``: unit z-axis direction, theta in (-pi, pi]."""
    q = q.normalized()
    d = q.rotate(Vector3(0.0, 0.0, 1.0))
    oz = _clamp1(d.z)
    if 1.0 - abs(oz) > POLE_EPSILON:
        base = _rz(math.atan2(d.y, d.x)) * _ry(math.acos(oz))
    else:  # vertical: longitude is 0 and theta is read as if exactly at the pole
        base = Quaternion() if oz > 0 else _ry(math.pi)
    x = (base.conjugate() * q).rotate(Vector3(1.0, 0.0, 0.0))
    return (d.x, d.y, d.z, math.atan2(x.y, x.x))


def quat_to_ov_degrees(q: Quaternion) -> OrientationVector:
    """Quaternion to the wire orientation vector (theta in degrees, in (-180, 180])."""
    ox, oy, oz, th = quat_to_ov_radians(q)
    return OrientationVector(ox, oy, oz, math.degrees(th))


def euler_to_quat(roll: float, pitch: float, yaw: float) -> Quaternion:
    """Euler angles in radians to quaternion: ``Rz(yaw) * Ry(pitch) * Rx(roll)``."""
    return _rz(yaw) * _ry(pitch) * _rx(roll)


def quat_to_euler(q: Quaternion) -> tuple[float, float, float]:
    """Quaternion to ``(roll, pitch, yaw)``, pitch in [-pi/2, pi/2].

    At gimbal lock (pitch = +-pi/2) roll is reported as 0 and yaw carries the rest.
    """
    q = q.normalized()
    w, x, y, z = q.w, q.x, q.y, q.z
    sinp = 2.0 * (w * y - z * x)
    if abs(sinp) >= 1.0 - 1e-12:
        pitch = math.copysign(math.pi / 2, sinp)
        rest = q * _ry(pitch).conjugate()  # == Rz(yaw) when roll is taken as 0
        return (0.0, pitch, _wrap(2.0 * math.atan2(rest.z, rest.w)))
    roll = math.atan2(2.0 * (w * x + y * z), 1.0 - 2.0 * (x * x + y * y))
    yaw = math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))
    return (roll, math.asin(sinp), yaw)


def axis_angle_to_quat(x: float, y: float, z: float, th: float) -> Quaternion:
    """Rotation by ``th`` radians about axis ``(x, y, z)`` (normalised).

    A zero axis is the identity when ``th == 0`` and a ``ValueError`` otherwise.
    """
    n = math.sqrt(x * x + y * y + z * z)
    if n == 0.0:
        if th == 0:
            return Quaternion()
        raise ValueError(f"axis-angle rotation of {th} rad about the zero axis is undefined")
    s = math.sin(th / 2) / n
    return Quaternion(math.cos(th / 2), x * s, y * s, z * s)


def quat_to_axis_angle(q: Quaternion) -> tuple[float, float, float, float]:
    """Quaternion to ``(x, y, z, th)``: unit axis, ``th`` in [0, pi]; identity is (0, 0, 1, 0)."""
    q = q.normalized()
    if q.w < 0:
        q = -q
    s = math.sqrt(q.x * q.x + q.y * q.y + q.z * q.z)
    if s == 0.0:
        return (0.0, 0.0, 1.0, 0.0)
    return (q.x / s, q.y / s, q.z / s, 2.0 * math.atan2(s, q.w))


# --------------------------------------------------------------------------- config form

_FORMS: dict[str, tuple[str, ...]] = {
    "ov_degrees": ("x", "y", "z", "th"),
    "ov_radians": ("x", "y", "z", "th"),
    "euler_angles": ("roll", "pitch", "yaw"),
    "axis_angles": ("x", "y", "z", "th"),
    "quaternion": ("w", "x", "y", "z"),
}
_ACCEPTED = (
    'accepted forms: {"type": "ov_degrees"|"ov_radians"|"axis_angles", "value": {x, y, z, th}}, '
    '{"type": "euler_angles", "value": {roll, pitch, yaw}}, '
    '{"type": "quaternion", "value": {W, X, Y, Z}}'
)


def parse_orientation(obj: dict | None) -> Quaternion:
    """Parse a viam-server frame ``orientation`` block into a unit quaternion.

    ``obj`` is ``{"type": T, "value": {...}}`` where ``T`` is ``ov_degrees``, ``ov_radians``
    or ``axis_angles`` (keys ``x, y, z, th``), ``euler_angles`` (``roll, pitch, yaw``) or
    ``quaternion`` (``W, X, Y, Z``, normalised).  Keys match case-insensitively; missing
    keys are 0, as in viam-server.  ``None``, ``{}`` or an empty type is the identity.
    Anything else raises ``ValueError`` naming the offending key or type and the forms.
    """
    if obj is None:
        return Quaternion()
    if not isinstance(obj, dict):
        raise ValueError(f"orientation must be an object, got {type(obj).__name__}; {_ACCEPTED}")
    extra = [k for k in obj if k not in ("type", "value")]
    if extra:
        raise ValueError(f"unknown orientation key {extra[0]!r} (expected 'type' and 'value'); {_ACCEPTED}")
    kind, raw = obj.get("type"), obj.get("value")
    if kind is None or kind == "":
        if raw:
            raise ValueError(f"orientation has a 'value' but no 'type'; {_ACCEPTED}")
        return Quaternion()
    keys = _FORMS.get(kind) if isinstance(kind, str) else None
    if keys is None:
        raise ValueError(f"unknown orientation type {kind!r}; {_ACCEPTED}")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        got = type(raw).__name__
        raise ValueError(f"orientation 'value' for type {kind!r} must be an object, got {got}; {_ACCEPTED}")
    vals: dict[str, float] = {}
    for key, v in raw.items():
        low = key.lower() if isinstance(key, str) else key
        if low not in keys:
            accepted = ", ".join(keys)
            raise ValueError(f"unknown key {key!r} in {kind} orientation value (accepted keys: {accepted}); {_ACCEPTED}")
        if low in vals:
            raise ValueError(f"key {key!r} given twice (keys are case-insensitive) in {kind} orientation value")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"orientation value key {key!r} ({kind}) must be a finite number, got {v!r}")
        vals[low] = float(v)
    a = [vals.get(k, 0.0) for k in keys]
    if kind == "ov_degrees":
        return ov_degrees_to_quat(*a)
    if kind == "ov_radians":
        return ov_radians_to_quat(*a)
    if kind == "euler_angles":
        return euler_to_quat(*a)
    if kind == "axis_angles":
        return axis_angle_to_quat(*a)
    q = Quaternion(*a)
    if q.norm() == 0.0:
        raise ValueError(f"quaternion orientation {raw!r} is all zeros; W, X, Y, Z must not all be 0")
    return q.normalized()


__all__ = ["OrientationVector", "axis_angle_to_quat", "euler_to_quat", "ov_degrees_to_quat", "ov_radians_to_quat", "parse_orientation", "quat_to_axis_angle", "quat_to_euler", "quat_to_ov_degrees", "quat_to_ov_radians"]
