"""Poses: a rigid transform, a point and an orientation in a parent frame."""
from __future__ import annotations

from dataclasses import dataclass

from viamlite.spatial.algebra import Quaternion, Vector3
from viamlite.spatial.orientation import ov_degrees_to_quat, quat_to_ov_degrees

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


__all__ = ["IDENTITY", "Pose"]
