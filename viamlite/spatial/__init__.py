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

Only :mod:`math` and :mod:`dataclasses` are imported, so the package loads quickly.
"""
from __future__ import annotations

from viamlite.spatial.algebra import POLE_EPSILON, Quaternion, Vector3, WORLD
from viamlite.spatial.orientation import OrientationVector, axis_angle_to_quat, euler_to_quat, ov_degrees_to_quat, ov_radians_to_quat, parse_orientation, quat_to_axis_angle, quat_to_euler, quat_to_ov_degrees, quat_to_ov_radians
from viamlite.spatial.pose import IDENTITY, Pose
from viamlite.spatial.framesystem import FrameCycleError, FrameError, FrameSystem, UnknownFrameError

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
