"""Tests for viamlite.spatial: orientation conventions, poses and the frame system."""
from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

from viamlite.spatial import (
    IDENTITY,
    POLE_EPSILON,
    FrameCycleError,
    FrameError,
    FrameSystem,
    OrientationVector,
    Pose,
    Quaternion,
    UnknownFrameError,
    Vector3,
    axis_angle_to_quat,
    euler_to_quat,
    ov_degrees_to_quat,
    ov_radians_to_quat,
    parse_orientation,
    quat_to_axis_angle,
    quat_to_euler,
    quat_to_ov_degrees,
    quat_to_ov_radians,
)

TOL = 1e-9
X, Y, Z = Vector3(1, 0, 0), Vector3(0, 1, 0), Vector3(0, 0, 1)


def rot(axis: Vector3, deg: float) -> Quaternion:
    """Reference rotation built directly from the half-angle formula."""
    h = math.radians(deg) / 2
    return Quaternion(math.cos(h), axis.x * math.sin(h), axis.y * math.sin(h), axis.z * math.sin(h))


def assert_vec(got: Vector3, want: Vector3 | tuple, tol: float = TOL) -> None:
    want = want if isinstance(want, Vector3) else Vector3(*want)
    assert (got - want).norm() <= tol, f"{got} != {want}"


def assert_rot(got: Quaternion, want: Quaternion, tol: float = TOL) -> None:
    assert got.same_rotation(want, tol), f"{got} is not the rotation {want}"


def random_quat(rng: random.Random) -> Quaternion:
    return Quaternion(*(rng.gauss(0, 1) for _ in range(4))).normalized()


def angle_diff(a: float, b: float, period: float = math.tau) -> float:
    return abs(math.remainder(a - b, period))


# --------------------------------------------------------------------------- basics


def test_vector_ops() -> None:
    a, b = Vector3(1, 2, 3), Vector3(-2, 0.5, 4)
    assert a + b == Vector3(-1, 2.5, 7)
    assert a - b == Vector3(3, 1.5, -1)
    assert a * 2 == Vector3(2, 4, 6) == 2 * a
    assert -a == Vector3(-1, -2, -3)
    assert a.dot(b) == pytest.approx(-2 + 1 + 12)
    assert X.cross(Y) == Z and Y.cross(Z) == X and Z.cross(X) == Y
    assert a.cross(b).dot(a) == pytest.approx(0) and a.cross(b).dot(b) == pytest.approx(0)
    assert Vector3(3, 4, 12).norm() == pytest.approx(13)


def test_quaternion_algebra() -> None:
    i, j, k = Quaternion(0, 1, 0, 0), Quaternion(0, 0, 1, 0), Quaternion(0, 0, 0, 1)
    assert i * j == k and j * k == i and k * i == j
    assert j * i == -k
    assert i.multiply(i) == Quaternion(-1, 0, 0, 0)
    q = Quaternion(1, 2, 3, 4)
    assert q.conjugate() == Quaternion(1, -2, -3, -4)
    n = q.normalized()
    assert n.norm() == pytest.approx(1)
    assert n.w / n.x == pytest.approx(0.5)
    assert_rot(n * n.conjugate(), Quaternion())
    with pytest.raises(ValueError, match="norm"):
        Quaternion(0, 0, 0, 0).normalized()


def test_quaternion_rotate_matches_sandwich_product() -> None:
    rng = random.Random(7)
    for _ in range(50):
        q = random_quat(rng)
        v = Vector3(rng.uniform(-5, 5), rng.uniform(-5, 5), rng.uniform(-5, 5))
        s = q * Quaternion(0, v.x, v.y, v.z) * q.conjugate()
        assert_vec(q.rotate(v), (s.x, s.y, s.z))
        assert q.rotate(v).norm() == pytest.approx(v.norm())
    assert_vec(rot(Z, 90).rotate(X), Y)
    assert_vec(rot(X, 90).rotate(Y), Z)
    assert_vec(rot(Y, 90).rotate(Z), X)


# --------------------------------------------------------------------------- orientation vectors


def test_ov_yaw_90_is_rotation_about_z() -> None:
    q = ov_degrees_to_quat(0, 0, 1, 90)
    assert_rot(q, rot(Z, 90))
    assert_rot(q, euler_to_quat(0, 0, math.pi / 2))
    assert_vec(q.rotate(X), Y)
    assert_rot(OrientationVector(0, 0, 1, 90).to_quaternion(), q)


def test_ov_pointing_along_x_is_plus_90_about_y() -> None:
    q = ov_degrees_to_quat(1, 0, 0, 0)
    assert_rot(q, rot(Y, 90))
    assert_vec(q.rotate(Z), X)  # the frame's z axis points along +x
    assert_vec(q.rotate(X), (0, 0, -1))
    assert _ov_close(quat_to_ov_degrees(q), (1, 0, 0, 0))


def _ov_close(ov: OrientationVector, want: tuple[float, float, float, float], tol: float = 1e-7) -> bool:
    return (
        abs(ov.o_x - want[0]) <= tol
        and abs(ov.o_y - want[1]) <= tol
        and abs(ov.o_z - want[2]) <= tol
        and angle_diff(ov.theta_deg, want[3], 360.0) <= tol
    )


def test_ov_theta_is_right_handed_spin_about_pointing_direction() -> None:
    # z along +x, then +90 degrees about +x: the frame's x axis (which was -z) turns to +y
    q = ov_degrees_to_quat(1, 0, 0, 90)
    assert_vec(q.rotate(Z), X)
    assert_vec(q.rotate(X), Y)
    assert_rot(q, rot(X, 90) * rot(Y, 90))


@pytest.mark.parametrize("theta", [0.0, 30.0, 90.0, -135.0, 180.0])
def test_ov_pointing_straight_down(theta: float) -> None:
    q = ov_degrees_to_quat(0, 0, -1, theta)
    # longitude is 0 at the pole, so this is Ry(180) then the spin about the original z
    assert_rot(q, rot(Y, 180) * rot(Z, theta))
    assert_vec(q.rotate(Z), (0, 0, -1))
    if theta == 0.0:
        assert_vec(q.rotate(X), (-1, 0, 0))
        assert_vec(q.rotate(Y), Y)
    assert _ov_close(quat_to_ov_degrees(q), (0, 0, -1, theta))


@pytest.mark.parametrize("theta", [0.0, 45.0, -90.0, 180.0])
def test_ov_pointing_straight_up(theta: float) -> None:
    q = ov_degrees_to_quat(0, 0, 1, theta)
    assert_rot(q, rot(Z, theta))
    assert _ov_close(quat_to_ov_degrees(q), (0, 0, 1, theta))


def test_ov_non_unit_vector_is_normalised() -> None:
    # Viam's docs example: (0, -4, -1) is stored as (0, -0.97, -0.24)
    q = ov_degrees_to_quat(0, -4, -1, 25)
    n = math.sqrt(17)
    assert_rot(q, ov_degrees_to_quat(0, -4 / n, -1 / n, 25))
    ov = quat_to_ov_degrees(q)
    assert _ov_close(ov, (0, -4 / n, -1 / n, 25))
    assert ov.o_y == pytest.approx(-0.970, abs=1e-3) and ov.o_z == pytest.approx(-0.243, abs=1e-3)
    assert_vec(q.rotate(Z), (0, -4 / n, -1 / n))


@pytest.mark.parametrize("theta", [0.0, 45.0])
def test_ov_zero_vector_is_default_orientation(theta: float) -> None:
    assert ov_degrees_to_quat(0, 0, 0, theta) == Quaternion()
    assert Pose.from_viam(0, 0, 0, 0, 0, 0, theta).orientation == Quaternion()
    assert _ov_close(quat_to_ov_degrees(Quaternion()), (0, 0, 1, 0))


def test_ov_theta_wraps_every_360_degrees() -> None:
    assert_rot(ov_degrees_to_quat(0.3, -0.2, 0.5, 370), ov_degrees_to_quat(0.3, -0.2, 0.5, 10))
    assert quat_to_ov_degrees(ov_degrees_to_quat(0, 0, 1, 370)).theta_deg == pytest.approx(10)


def test_ov_generic_direction_and_theta() -> None:
    d = Vector3(1, 1, 1) * (1 / math.sqrt(3))
    q = ov_degrees_to_quat(1, 1, 1, 37)
    assert_vec(q.rotate(Z), d)
    # theta = 0 keeps the frame's x axis in the plane of world z and the pointing direction,
    # tilted away from world z; theta spins it right-handedly about the direction
    x0 = ov_degrees_to_quat(1, 1, 1, 0).rotate(X)
    assert x0.dot(d) == pytest.approx(0, abs=TOL)
    assert x0.dot(d.cross(Z)) == pytest.approx(0, abs=TOL)
    assert x0.z < 0
    assert_rot(q, rot(d, 37) * ov_degrees_to_quat(1, 1, 1, 0))
    assert _ov_close(quat_to_ov_degrees(q), (d.x, d.y, d.z, 37))


def test_ov_near_pole_uses_viam_band() -> None:
    # inside the band |o_z| >= 1 - 1e-4 the longitude is 0, exactly like viam-server
    oz = 1 - POLE_EPSILON / 2
    oy = math.sqrt(1 - oz * oz)
    q = ov_degrees_to_quat(0, oy, oz, 30)
    assert_rot(q, _ry_rad(math.acos(oz)) * rot(Z, 30))
    # and theta of a slightly tilted yaw is read relative to the parent's x axis
    tilted = rot(X, 0.5) * rot(Z, 40)
    ov = quat_to_ov_degrees(tilted)
    assert ov.theta_deg == pytest.approx(40, abs=0.01)
    assert_vec(Vector3(ov.o_x, ov.o_y, ov.o_z), tilted.rotate(Z))
    # just outside the band the true longitude is used
    oz = 1 - 2 * POLE_EPSILON
    oy = math.sqrt(1 - oz * oz)
    assert_vec(ov_degrees_to_quat(0, oy, oz, 30).rotate(Z), (0, oy, oz))


def _ry_rad(a: float) -> Quaternion:
    return Quaternion(math.cos(a / 2), 0, math.sin(a / 2), 0)


def test_ov_round_trips() -> None:
    rng = random.Random(1234)
    checked = 0
    for _ in range(300):
        q = random_quat(rng)
        ox, oy, oz, th = quat_to_ov_radians(q)
        assert math.sqrt(ox * ox + oy * oy + oz * oz) == pytest.approx(1)
        assert -math.pi <= th <= math.pi
        if 1 - abs(oz) <= POLE_EPSILON:
            continue  # inside the pole band Viam's conversion is deliberately lossy
        checked += 1
        assert_rot(ov_radians_to_quat(ox, oy, oz, th), q)
        ov = quat_to_ov_degrees(q)
        assert ov.theta_deg == pytest.approx(math.degrees(th))
        assert_rot(ov.to_quaternion(), q)
        assert_rot(OrientationVector.from_quaternion(q).to_quaternion(), q)
    assert checked > 290
    for _ in range(100):  # OV -> quaternion -> OV, random directions and angles
        v = Vector3(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1))
        th = rng.uniform(-179.9, 179.9)
        back = quat_to_ov_degrees(ov_degrees_to_quat(v.x, v.y, v.z, th))
        u = v * (1 / v.norm())
        assert _ov_close(back, (u.x, u.y, u.z, th), 1e-6)


# --------------------------------------------------------------------------- euler and axis-angle


def test_euler_known_values() -> None:
    assert_rot(euler_to_quat(math.pi / 2, 0, 0), rot(X, 90))
    assert_rot(euler_to_quat(0, math.pi / 2, 0), rot(Y, 90))
    assert_rot(euler_to_quat(0, 0, math.pi / 2), rot(Z, 90))
    # roll first, then yaw (both about fixed axes): x -> x -> y, y -> z -> z
    q = euler_to_quat(math.pi / 2, 0, math.pi / 2)
    assert_vec(q.rotate(X), Y)
    assert_vec(q.rotate(Y), Z)
    assert_rot(q, rot(Z, 90) * rot(X, 90))


def test_euler_round_trips() -> None:
    rng = random.Random(42)
    for _ in range(200):
        r, p, y = rng.uniform(-math.pi, math.pi), rng.uniform(-1.5, 1.5), rng.uniform(-math.pi, math.pi)
        r2, p2, y2 = quat_to_euler(euler_to_quat(r, p, y))
        assert angle_diff(r, r2) < 1e-9 and abs(p - p2) < 1e-9 and angle_diff(y, y2) < 1e-9
    for _ in range(100):
        q = random_quat(rng)
        assert_rot(euler_to_quat(*quat_to_euler(q)), q)


def test_euler_gimbal_lock() -> None:
    for sign in (1, -1):
        q = euler_to_quat(0.3, sign * math.pi / 2, 0.5)
        roll, pitch, yaw = quat_to_euler(q)
        assert pitch == pytest.approx(sign * math.pi / 2)
        assert roll == 0.0
        assert_rot(euler_to_quat(roll, pitch, yaw), q)
    assert quat_to_euler(euler_to_quat(0.3, math.pi / 2, 0.5))[2] == pytest.approx(0.2)


def test_axis_angle_known_values_and_round_trips() -> None:
    assert_rot(axis_angle_to_quat(0, 0, 1, math.pi / 2), rot(Z, 90))
    assert_rot(axis_angle_to_quat(0, 0, 5, math.pi / 2), rot(Z, 90))  # axis is normalised
    assert quat_to_axis_angle(Quaternion()) == (0.0, 0.0, 1.0, 0.0)
    assert axis_angle_to_quat(0, 0, 0, 0) == Quaternion()
    with pytest.raises(ValueError, match="zero axis"):
        axis_angle_to_quat(0, 0, 0, 1.0)
    x, y, z, th = quat_to_axis_angle(-rot(Y, 90))
    assert (x, y, z) == pytest.approx((0, 1, 0)) and th == pytest.approx(math.pi / 2)
    rng = random.Random(99)
    for _ in range(200):
        q = random_quat(rng)
        x, y, z, th = quat_to_axis_angle(q)
        assert math.sqrt(x * x + y * y + z * z) == pytest.approx(1)
        assert 0 <= th <= math.pi
        assert_rot(axis_angle_to_quat(x, y, z, th), q)
        v = Vector3(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-1, 1))
        a = rng.uniform(0, math.pi)
        x, y, z, th = quat_to_axis_angle(axis_angle_to_quat(v.x, v.y, v.z, a))
        assert th == pytest.approx(a) and Vector3(x, y, z).dot(v) == pytest.approx(v.norm())


def test_quaternion_form_round_trips_through_config() -> None:
    rng = random.Random(5)
    for _ in range(50):
        q = random_quat(rng)
        got = parse_orientation({"type": "quaternion", "value": {"W": q.w * 3, "X": q.x * 3, "Y": q.y * 3, "Z": q.z * 3}})
        assert got.norm() == pytest.approx(1)
        assert_rot(got, q)


# --------------------------------------------------------------------------- config form


def test_parse_orientation_every_type() -> None:
    want = rot(Z, 90)
    assert_rot(parse_orientation({"type": "ov_degrees", "value": {"x": 0, "y": 0, "z": 1, "th": 90}}), want)
    assert_rot(parse_orientation({"type": "ov_radians", "value": {"x": 0, "y": 0, "z": 1, "th": math.pi / 2}}), want)
    assert_rot(parse_orientation({"type": "euler_angles", "value": {"roll": 0, "pitch": 0, "yaw": math.pi / 2}}), want)
    assert_rot(parse_orientation({"type": "axis_angles", "value": {"x": 0, "y": 0, "z": 1, "th": math.pi / 2}}), want)
    h = math.sqrt(0.5)
    assert_rot(parse_orientation({"type": "quaternion", "value": {"W": h, "X": 0, "Y": 0, "Z": h}}), want)
    assert_rot(parse_orientation({"type": "quaternion", "value": {"w": h, "x": 0, "y": 0, "z": h}}), want)
    assert_rot(parse_orientation({"type": "ov_degrees", "value": {"x": 1, "th": 0}}), rot(Y, 90))  # missing keys are 0
    assert_rot(parse_orientation({"type": "ov_degrees", "value": {"X": 0, "Y": 0, "Z": -1, "TH": 0}}), rot(Y, 180))


@pytest.mark.parametrize("obj", [None, {}, {"type": ""}, {"type": "ov_degrees", "value": {}}])
def test_parse_orientation_missing_is_identity(obj: dict | None) -> None:
    assert parse_orientation(obj) == Quaternion()


@pytest.mark.parametrize(
    ("obj", "names"),
    [
        ({"type": "ov_degree", "value": {}}, ["'ov_degree'", "ov_degrees", "euler_angles", "quaternion"]),
        ({"type": "ov_degrees", "value": {"x": 0, "y": 0, "z": 1, "theta": 9}}, ["'theta'", "th", "ov_degrees"]),
        ({"type": "euler_angles", "value": {"roll": 0, "x": 1}}, ["'x'", "roll, pitch, yaw"]),
        ({"type": "ov_degrees", "value": {"x": "1"}}, ["'x'", "number"]),
        ({"type": "ov_degrees", "value": {"x": True}}, ["'x'", "number"]),
        ({"type": "ov_degrees", "value": {"th": float("nan")}}, ["'th'", "finite"]),
        ({"type": "ov_degrees", "value": [0, 0, 1, 0]}, ["'value'", "object"]),
        ({"type": "quaternion", "value": {"W": 0, "X": 0, "Y": 0, "Z": 0}}, ["all zeros"]),
        ({"type": "quaternion", "value": {"W": 1, "w": 1}}, ["'w'", "twice"]),
        ({"value": {"x": 1}}, ["'type'"]),
        ({"type": "ov_degrees", "values": {}}, ["'values'"]),
        ({"type": 3}, ["3", "ov_degrees"]),
        ("ov_degrees", ["object", "ov_degrees"]),
        ({"type": "axis_angles", "value": {"th": 1}}, ["zero axis"]),
    ],
)
def test_parse_orientation_errors(obj: object, names: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        parse_orientation(obj)  # type: ignore[arg-type]
    for name in names:
        assert name in str(info.value)


# --------------------------------------------------------------------------- poses


def test_pose_compose_and_inverse_by_hand() -> None:
    a = Pose(Vector3(1, 0, 0), rot(Z, 90))
    b = Pose(Vector3(1, 0, 0), Quaternion())
    ab = a.compose(b)
    assert_vec(ab.point, (1, 1, 0))
    assert_rot(ab.orientation, rot(Z, 90))
    ba = b.compose(a)
    assert_vec(ba.point, (2, 0, 0))
    inv = a.inverse()
    assert_vec(inv.point, (0, 1, 0))
    assert_rot(inv.orientation, rot(Z, -90))
    assert a.compose(inv).isclose(IDENTITY) and inv.compose(a).isclose(IDENTITY)
    assert_vec(a.transform_point(Vector3(0, 2, 3)), (-1, 0, 3))
    assert_vec(inv.transform_point(a.transform_point(Vector3(4, 5, 6))), (4, 5, 6))
    assert not a.isclose(b)


def test_pose_compose_random_properties() -> None:
    rng = random.Random(2024)

    def rnd() -> Pose:
        return Pose(Vector3(*(rng.uniform(-100, 100) for _ in range(3))), random_quat(rng))

    for _ in range(50):
        a, b, c = rnd(), rnd(), rnd()
        assert a.compose(b).compose(c).isclose(a.compose(b.compose(c)), 1e-8)
        assert a.compose(b).inverse().isclose(b.inverse().compose(a.inverse()), 1e-8)
        v = Vector3(*(rng.uniform(-10, 10) for _ in range(3)))
        assert_vec(a.compose(b).transform_point(v), a.transform_point(b.transform_point(v)), 1e-8)


def test_pose_normalises_orientation() -> None:
    p = Pose(Vector3(), Quaternion(2, 0, 0, 0))
    assert p.orientation == Quaternion(1, 0, 0, 0)
    with pytest.raises(ValueError):
        Pose(Vector3(), Quaternion(0, 0, 0, 0))


def test_pose_viam_wire_form() -> None:
    p = Pose.from_viam(1, 2, 3, 0, 0, 1, 90)
    assert_vec(p.transform_point(X), (1, 3, 3))
    x, y, z, ox, oy, oz, th = p.to_viam()
    assert (x, y, z) == (1, 2, 3)
    assert (ox, oy, oz, th) == pytest.approx((0, 0, 1, 90))
    rng = random.Random(3)
    for _ in range(50):
        v = Vector3(rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(-0.9, 0.9))
        fields = (rng.uniform(-9, 9), 0.5, -2.0, v.x, v.y, v.z, rng.uniform(-179, 179))
        p = Pose.from_viam(*fields)
        assert Pose.from_viam(*p.to_viam()).isclose(p)
        u = v * (1 / v.norm())
        assert p.to_viam() == pytest.approx((*fields[:3], u.x, u.y, u.z, fields[6]))
    assert IDENTITY.to_viam() == (0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0)


# --------------------------------------------------------------------------- frame system


@pytest.fixture()
def fs() -> FrameSystem:
    """world -> base -> arm -> gripper, and world -> camera (looking straight down)."""
    f = FrameSystem()
    f.add_frame("base", "world", Pose.from_viam(100, 0, 0, 0, 0, 1, 90))  # yawed 90 degrees
    f.add_frame("arm", "base", Pose(Vector3(0, 50, 0)))
    f.add_frame("gripper", "arm", Pose.from_viam(0, 0, 10, 1, 0, 0, 0))  # z along arm's +x
    f.add_frame("camera", "world", Pose.from_viam(0, 0, 500, 0, 0, -1, 0))
    return f


def test_frame_system_structure(fs: FrameSystem) -> None:
    assert fs.names() == ["world", "base", "arm", "gripper", "camera"]
    assert fs.parent_of("gripper") == "arm" and fs.parent_of("base") == "world"
    assert fs.parent_of("world") is None
    assert "arm" in fs and "nope" not in fs and len(fs) == 5
    fs.validate()


def test_frame_system_pose_in_by_hand(fs: FrameSystem) -> None:
    # arm origin: base origin + Rz90 (0, 50, 0) = (100, 0, 0) + (-50, 0, 0)
    assert_vec(fs.pose_in("arm", "world").point, (50, 0, 0))
    g = fs.pose_in("gripper")
    assert_vec(g.point, (50, 0, 10))
    assert_vec(g.orientation.rotate(Z), Y)  # gripper z -> arm x -> world y
    assert_vec(g.orientation.rotate(X), (0, 0, -1))
    assert_vec(fs.pose_in("gripper", "base").point, (0, 50, 10))
    # world origin seen from base: Rz(-90) applied to -(100, 0, 0)
    w = fs.pose_in("world", "base")
    assert_vec(w.point, (0, 100, 0))
    assert_rot(w.orientation, rot(Z, -90))
    assert fs.pose_in("arm", "arm").isclose(IDENTITY)


def test_frame_system_transform_by_hand(fs: FrameSystem) -> None:
    tip = Pose(Vector3(0, 0, 5))  # 5 units out along the gripper's z axis
    in_world = fs.transform(tip, "gripper", "world")
    assert_vec(in_world.point, (50, 5, 10))
    # camera at (0, 0, 500) flipped by Ry(180): (x, y, z) -> (-x, y, -z) after removing the offset
    in_cam = fs.transform(tip, "gripper", "camera")
    assert_vec(in_cam.point, (-50, 5, 490))
    assert_vec(in_cam.orientation.rotate(Z), Y)
    _, _, _, ox, oy, oz, _ = in_cam.to_viam()
    assert (ox, oy, oz) == pytest.approx((0, 1, 0), abs=TOL)
    assert fs.transform(in_cam, "camera", "gripper").isclose(tip)
    p = Pose.from_viam(1, 2, 3, 0.2, 0.3, 0.9, 40)
    assert fs.transform(p, "base", "base").isclose(p)
    assert fs.transform(fs.transform(p, "camera", "arm"), "arm", "camera").isclose(p)


def test_frame_system_supplemental_frames(fs: FrameSystem) -> None:
    extra = [
        ("tool", "marker", Pose(Vector3(2, 0, 0))),  # listed before its parent on purpose
        ("marker", "gripper", Pose(Vector3(0, 0, 1))),
    ]
    assert_vec(fs.pose_in("marker", "world", supplemental=extra).point, (50, 1, 10))
    # tool: 2 along marker's x = gripper's x = world -z
    assert_vec(fs.pose_in("tool", "world", supplemental=extra).point, (50, 1, 8))
    assert_vec(fs.transform(Pose(), "camera", "tool", supplemental=extra).point,
               fs.pose_in("tool", "camera", supplemental=extra).inverse().point)
    assert "marker" not in fs and fs.names() == ["world", "base", "arm", "gripper", "camera"]
    with pytest.raises(UnknownFrameError, match="marker"):
        fs.pose_in("marker")
    with pytest.raises(FrameError, match="already defined"):
        fs.pose_in("arm", supplemental=[("arm", "world", IDENTITY)])
    assert_vec(fs.pose_in("arm").point, (50, 0, 0))  # unchanged by the failed query


def test_frame_system_unknown_frame(fs: FrameSystem) -> None:
    for call in (lambda: fs.pose_in("nope"), lambda: fs.pose_in("arm", "nope"),
                 lambda: fs.transform(IDENTITY, "nope", "world"), lambda: fs.parent_of("nope")):
        with pytest.raises(UnknownFrameError) as info:
            call()
        assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
        msg = str(info.value)
        assert "'nope'" in msg and "'gripper'" in msg and "'world'" in msg
        assert not msg.startswith('"')  # not KeyError's quoted repr


def test_frame_system_missing_parent(fs: FrameSystem) -> None:
    fs.add_frame("orphan", "nowhere", IDENTITY)
    fs.add_frame("child", "orphan", IDENTITY)
    with pytest.raises(UnknownFrameError) as info:
        fs.pose_in("child")
    msg = str(info.value)
    assert "'orphan'" in msg and "'nowhere'" in msg and "'camera'" in msg
    with pytest.raises(UnknownFrameError, match="nowhere"):
        fs.validate()
    assert_vec(fs.pose_in("gripper").point, (50, 0, 10))  # the rest still works
    # a supplemental frame can supply the missing parent for one query
    assert_vec(fs.pose_in("child", supplemental=[("nowhere", "world", Pose(Vector3(7, 0, 0)))]).point, (7, 0, 0))


def test_frame_system_cycle() -> None:
    f = FrameSystem([("a", "b", IDENTITY), ("b", "c", IDENTITY), ("c", "a", IDENTITY), ("d", "a", IDENTITY)])
    with pytest.raises(FrameCycleError) as info:
        f.pose_in("d")
    assert isinstance(info.value, FrameError) and isinstance(info.value, ValueError)
    msg = str(info.value)
    assert "'d'" in msg and all(f"'{n}'" in msg for n in "abc")
    with pytest.raises(FrameCycleError):
        f.validate()
    with pytest.raises(FrameCycleError, match="own parent"):
        f.add_frame("e", "e", IDENTITY)


def test_frame_system_bad_definitions(fs: FrameSystem) -> None:
    with pytest.raises(FrameError, match="'arm' is already defined"):
        fs.add_frame("arm", "world", IDENTITY)
    with pytest.raises(FrameError, match="'world'"):
        fs.add_frame("world", "base", IDENTITY)
    with pytest.raises(FrameError, match="non-empty"):
        fs.add_frame("", "world", IDENTITY)
    with pytest.raises(FrameError, match="parent"):
        fs.add_frame("x", "", IDENTITY)
    with pytest.raises(TypeError, match="Pose"):
        fs.add_frame("x", "world", (0, 0, 0))  # type: ignore[arg-type]
    assert fs.names() == ["world", "base", "arm", "gripper", "camera"]


# --------------------------------------------------------------------------- packaging


def test_import_is_light() -> None:
    root = Path(__file__).resolve().parents[1]
    code = (
        "import sys, math, dataclasses, viamlite; before = set(sys.modules); "
        "import viamlite.spatial; print(sorted(set(sys.modules) - before))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         env={"PYTHONPATH": str(root)}, check=True)
    loaded = eval(out.stdout)  # only the package's own modules and the error root (which imports nothing)
    assert loaded and all(name in ("viamlite.spatial", "viamlite.errors") or name.startswith("viamlite.spatial.")
                          for name in loaded), loaded
    assert "viamlite.spatial.geometry" not in loaded
