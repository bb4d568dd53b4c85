"""Vectors and quaternions: the algebra the rest of :mod:`viamlite.spatial` builds on (see
the package's conventions)."""
from __future__ import annotations

import math
from dataclasses import dataclass

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


__all__ = ["POLE_EPSILON", "Quaternion", "Vector3", "WORLD"]
