"""Spatial math for viamlite: vectors, quaternions, Viam orientation forms, poses, frames.

Conventions follow viam-server:

* Lengths are in whatever unit the caller uses (Viam uses millimetres); angles are in
  radians unless a name says ``deg``.
* A rotation is a unit :class:`Quaternion` that maps vectors of the child frame into the
  parent frame; ``q.rotate(v)`` is that map.
* An *orientation vector* ``(o_x, o_y, o_z, theta)`` says where the frame's z axis points
  (the unit direction ``o``; a non-unit vector is normalised, the zero vector means "no
  rotation") and ``theta`` is the right-handed spin about that direction.  As a rotation it
  is ``Rz(lon) * Ry(lat) * Rz(theta)`` with ``lat = acos(o_z)`` and
  ``lon = atan2(o_y, o_x)``.  Like viam-server, when ``|o_z| >= 1 - 1e-4`` (the z axis
  points straight up or down, within that band) ``lon`` is taken as 0, so ``theta`` is
  then measured from the parent's x axis.  The wire ``viam.common.v1.Pose`` carries
  ``theta`` in degrees.
* Euler angles are ``(roll, pitch, yaw)`` about x, y, z: ``Rz(yaw) * Ry(pitch) * Rx(roll)``.

Only :mod:`math` and :mod:`dataclasses` are imported, so the module loads quickly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

__all__ = [
    "IDENTITY",
    "WORLD",
    "FrameCycleError",
    "FrameError",
    "FrameSystem",
    "OrientationVector",
    "POLE_EPSILON",
    "Pose",
    "Quaternion",
    "UnknownFrameError",
    "Vector3",
    "axis_angle_to_quat",
    "euler_to_quat",
    "ov_degrees_to_quat",
    "ov_radians_to_quat",
    "parse_orientation",
    "quat_to_axis_angle",
    "quat_to_euler",
    "quat_to_ov_degrees",
    "quat_to_ov_radians",
]

#: viam-server treats an orientation vector with ``1 - |o_z| <= POLE_EPSILON`` as vertical.
POLE_EPSILON = 1e-4
#: Name of the root frame of every :class:`FrameSystem`.
WORLD = "world"


@dataclass(frozen=True, slots=True)
class Vector3:
    """A 3-D vector (or point)."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.0

    def __add__(self, other: Vector3) -> Vector3:
        return Vector3(self.x + other.x, self.y + other.y, self.z + other.z)

    def __sub__(self, other: Vector3) -> Vector3:
        return Vector3(self.x - other.x, self.y - other.y, self.z - other.z)

    def __mul__(self, k: float) -> Vector3:
        if not isinstance(k, (int, float)):
            return NotImplemented
        return Vector3(self.x * k, self.y * k, self.z * k)

    __rmul__ = __mul__

    def __neg__(self) -> Vector3:
        return Vector3(-self.x, -self.y, -self.z)

    def dot(self, other: Vector3) -> float:
        """Scalar product."""
        return self.x * other.x + self.y * other.y + self.z * other.z

    def cross(self, other: Vector3) -> Vector3:
        """Vector product ``self x other`` (right-handed)."""
        return Vector3(
            self.y * other.z - self.z * other.y,
            self.z * other.x - self.x * other.z,
            self.x * other.y - self.y * other.x,
        )

    def norm(self) -> float:
        """Euclidean length."""
        return math.sqrt(self.x * self.x + self.y * self.y + self.z * self.z)


@dataclass(frozen=True, slots=True)
class Quaternion:
    """A quaternion ``w + xi + yj + zk``; unit quaternions are rotations."""

    w: float = 1.0
    x: float = 0.0
    y: float = 0.0
    z: float = 0.0

    def __mul__(self, o: Quaternion) -> Quaternion:
        """Hamilton product: ``(a * b).rotate(v) == a.rotate(b.rotate(v))``."""
        if not isinstance(o, Quaternion):
            return NotImplemented
        return Quaternion(
            self.w * o.w - self.x * o.x - self.y * o.y - self.z * o.z,
            self.w * o.x + self.x * o.w + self.y * o.z - self.z * o.y,
            self.w * o.y - self.x * o.z + self.y * o.w + self.z * o.x,
            self.w * o.z + self.x * o.y - self.y * o.x + self.z * o.w,
        )

    def multiply(self, other: Quaternion) -> Quaternion:
        """Same as ``self * other``."""
        return self * other

    def __neg__(self) -> Quaternion:
        return Quaternion(-self.w, -self.x, -self.y, -self.z)

    def conjugate(self) -> Quaternion:
        """``w - xi - yj - zk``; the inverse rotation of a unit quaternion."""
        return Quaternion(self.w, -self.x, -self.y, -self.z)

    def norm(self) -> float:
        """Euclidean length of ``(w, x, y, z)``."""
        return math.sqrt(self.w * self.w + self.x * self.x + self.y * self.y + self.z * self.z)

    def normalized(self) -> Quaternion:
        """The unit quaternion in the same direction; ``ValueError`` for the zero quaternion."""
        n = self.norm()
        if n == 0.0 or not math.isfinite(n):
            raise ValueError(f"cannot normalise quaternion {self}: its norm is {n}")
        return Quaternion(self.w / n, self.x / n, self.y / n, self.z / n)

    def rotate(self, v: Vector3) -> Vector3:
        """Rotate ``v`` by this (unit) quaternion, i.e. ``q v q*``."""
        # v' = v + w t + u x t, with u the vector part and t = 2 u x v
        tx = 2.0 * (self.y * v.z - self.z * v.y)
        ty = 2.0 * (self.z * v.x - self.x * v.z)
        tz = 2.0 * (self.x * v.y - self.y * v.x)
        return Vector3(
            v.x + self.w * tx + self.y * tz - self.z * ty,
            v.y + self.w * ty + self.z * tx - self.x * tz,
            v.z + self.w * tz + self.x * ty - self.y * tx,
        )

    def same_rotation(self, other: Quaternion, tol: float = 1e-9) -> bool:
        """True when both (unit) quaternions are the same rotation (``q`` and ``-q`` are)."""
        d = self.w * other.w + self.x * other.x + self.y * other.y + self.z * other.z
        return abs(abs(d) - 1.0) <= tol


def _rx(a: float) -> Quaternion:
    return Quaternion(math.cos(a / 2), math.sin(a / 2), 0.0, 0.0)


def _ry(a: float) -> Quaternion:
    return Quaternion(math.cos(a / 2), 0.0, math.sin(a / 2), 0.0)


def _rz(a: float) -> Quaternion:
    return Quaternion(math.cos(a / 2), 0.0, 0.0, math.sin(a / 2))


def _wrap(a: float) -> float:
    """Angle ``a`` wrapped into ``(-pi, pi]``."""
    a = math.remainder(a, math.tau)
    return a + math.tau if a <= -math.pi else a


def _clamp1(v: float) -> float:
    return -1.0 if v < -1.0 else 1.0 if v > 1.0 else v


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


# --------------------------------------------------------------------------- poses


@dataclass(frozen=True, slots=True)
class Pose:
    """A rigid transform: the child frame's origin ``point`` and ``orientation`` in the parent.

    A non-unit ``orientation`` is normalised on construction.
    """

    point: Vector3 = Vector3()
    orientation: Quaternion = Quaternion()

    def __post_init__(self) -> None:
        q = self.orientation
        if abs(q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z - 1.0) > 1e-12:
            object.__setattr__(self, "orientation", q.normalized())

    def compose(self, other: Pose) -> Pose:
        """``self`` then ``other``: ``other`` is expressed in ``self``'s frame."""
        return Pose(
            self.point + self.orientation.rotate(other.point),
            self.orientation * other.orientation,
        )

    def inverse(self) -> Pose:
        """The pose that undoes this one: ``p.compose(p.inverse())`` is the identity."""
        qi = self.orientation.conjugate()
        return Pose(-qi.rotate(self.point), qi)

    def transform_point(self, v: Vector3) -> Vector3:
        """Map point ``v`` from the child frame to the parent frame."""
        return self.point + self.orientation.rotate(v)

    def isclose(self, other: Pose, tol: float = 1e-9) -> bool:
        """True when points agree within ``tol`` and orientations are the same rotation."""
        return (self.point - other.point).norm() <= tol and self.orientation.same_rotation(other.orientation, tol)

    @classmethod
    def from_viam(
        cls, x: float, y: float, z: float, o_x: float, o_y: float, o_z: float, theta_deg: float
    ) -> Pose:
        """Build from the fields of a wire ``viam.common.v1.Pose`` (theta in degrees)."""
        return cls(Vector3(x, y, z), ov_degrees_to_quat(o_x, o_y, o_z, theta_deg))

    def to_viam(self) -> tuple[float, float, float, float, float, float, float]:
        """The fields of a wire ``viam.common.v1.Pose``: ``(x, y, z, o_x, o_y, o_z, theta_deg)``."""
        ov = quat_to_ov_degrees(self.orientation)
        return (self.point.x, self.point.y, self.point.z, ov.o_x, ov.o_y, ov.o_z, ov.theta_deg)


IDENTITY = Pose()


# --------------------------------------------------------------------------- frame system


class FrameError(ValueError):
    """A frame-system problem: bad frame definition, unknown frame, missing parent, cycle."""


class UnknownFrameError(FrameError, KeyError):
    """A frame (or a frame's parent) is not in the frame system."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return BaseException.__str__(self)


class FrameCycleError(FrameError):
    """Following parents from a frame loops instead of reaching ``world``."""


class FrameSystem:
    """A tree of named frames rooted at ``"world"``; each frame has a pose in its parent.

    Parents are resolved when queried, so frames may be added in any order;
    :meth:`validate` checks the whole tree at once.
    """

    def __init__(self, frames: Iterable[tuple[str, str, Pose]] = ()) -> None:
        self._frames: dict[str, tuple[str, Pose]] = {}
        for name, parent, pose in frames:
            self.add_frame(name, parent, pose)

    @staticmethod
    def _add(frames: dict[str, tuple[str, Pose]], name: str, parent: str, pose: Pose) -> None:
        if not isinstance(name, str) or not name:
            raise FrameError(f"frame name must be a non-empty string, got {name!r}")
        if name == WORLD:
            raise FrameError(f"cannot add a frame named {WORLD!r}: it is the root of every frame system")
        if name in frames:
            raise FrameError(f"frame {name!r} is already defined (parent {frames[name][0]!r})")
        if not isinstance(parent, str) or not parent:
            raise FrameError(f"frame {name!r}: parent must be a non-empty string, got {parent!r}")
        if parent == name:
            raise FrameCycleError(f"frame {name!r} cannot be its own parent")
        if not isinstance(pose, Pose):
            raise TypeError(f"frame {name!r}: pose must be a Pose, got {type(pose).__name__}")
        frames[name] = (parent, pose)

    def add_frame(self, name: str, parent: str = WORLD, pose: Pose = IDENTITY) -> None:
        """Add frame ``name`` whose origin sits at ``pose`` in frame ``parent``."""
        self._add(self._frames, name, parent, pose)

    def parent_of(self, name: str) -> str | None:
        """The parent frame's name (``None`` for ``"world"``)."""
        if name == WORLD:
            return None
        if name not in self._frames:
            raise UnknownFrameError(_unknown(name, self._frames))
        return self._frames[name][0]

    def names(self) -> list[str]:
        """Every frame name, ``"world"`` first, then in the order added."""
        return [WORLD, *self._frames]

    def __contains__(self, name: object) -> bool:
        return name == WORLD or name in self._frames

    def __len__(self) -> int:
        return len(self._frames) + 1

    def _with(self, supplemental: Iterable[tuple[str, str, Pose]] | None) -> dict[str, tuple[str, Pose]]:
        if not supplemental:
            return self._frames
        frames = dict(self._frames)
        for name, parent, pose in supplemental:
            self._add(frames, name, parent, pose)
        return frames

    def validate(self, supplemental: Iterable[tuple[str, str, Pose]] | None = None) -> None:
        """Raise :class:`FrameError` unless every frame's parent chain reaches ``"world"``."""
        frames = self._with(supplemental)
        for name in frames:
            _world_pose(frames, name)

    def pose_in(
        self,
        frame_name: str,
        destination: str = WORLD,
        supplemental: Iterable[tuple[str, str, Pose]] | None = None,
    ) -> Pose:
        """Pose of the origin of ``frame_name`` expressed in frame ``destination``."""
        return self.transform(IDENTITY, frame_name, destination, supplemental)

    def transform(
        self,
        pose: Pose,
        source: str,
        destination: str,
        supplemental: Iterable[tuple[str, str, Pose]] | None = None,
    ) -> Pose:
        """Re-express ``pose``, given in frame ``source``, in frame ``destination``.

        ``supplemental`` frames ``(name, parent, pose)`` exist for this call only.
        """
        frames = self._with(supplemental)
        src = _world_pose(frames, source)
        dst = _world_pose(frames, destination)
        return dst.inverse().compose(src.compose(pose))


def _unknown(name: object, frames: dict[str, tuple[str, Pose]]) -> str:
    known = ", ".join(repr(n) for n in sorted([WORLD, *frames]))
    return f"unknown frame {name!r}; known frames: {known}"


def _world_pose(frames: dict[str, tuple[str, Pose]], name: str) -> Pose:
    """Pose of frame ``name`` in ``"world"``, walking up its parents."""
    if name == WORLD:
        return IDENTITY
    if name not in frames:
        raise UnknownFrameError(_unknown(name, frames))
    chain: list[str] = []
    cur = name
    while cur != WORLD:
        if cur in chain:
            loop = " -> ".join(repr(n) for n in [*chain[chain.index(cur):], cur])
            raise FrameCycleError(f"frame {name!r} never reaches {WORLD!r}: parent cycle {loop}")
        entry = frames.get(cur)
        if entry is None:
            raise UnknownFrameError(
                f"frame {chain[-1]!r} has parent {cur!r}, which is not defined; "
                + _unknown(cur, frames).split("; ", 1)[1]
            )
        chain.append(cur)
        cur = entry[0]
    pose = IDENTITY
    for n in reversed(chain):
        pose = pose.compose(frames[n][1])
    return pose
