"""Conformance with viam-server: the official viam-sdk client makes the same calls on the same
fake components of a real viam-server (built from rdk, ``tools/build_peers.py``) and of
``viamlite serve``, and the answers are compared field by field, API by API.

Every difference found must be listed, with its reason, in the table of ``docs/conformance.md``;
a difference that is not listed fails the test, and so does a listed one that has gone (the table
must say what is true). Error messages are each server's own words: for a failed call only the
status code is compared.

Skipped when viam-server is not built here or cannot get its network namespace (see
tests/rdk_peers.py); in CI (``VIAMLITE_REQUIRE_TOOLCHAIN=1``) that is a failure instead.
"""
from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from . import rdk_peers
from .conftest import ServeProcess

viam = pytest.importorskip("viam", reason="the viam-sdk test dependency is not installed (pip install -e .[test])")

DOC = Path(__file__).resolve().parent.parent / "docs" / "conformance.md"

#: One machine of fake components, written for viam-server; viamlite reads it unchanged.
CONFIG: dict[str, Any] = {"components": [
    {"name": "servo1", "api": "rdk:component:servo", "model": "fake",
     "frame": {"parent": "world", "translation": {"x": 100, "y": 0, "z": 50},
               "geometry": {"type": "box", "x": 40, "y": 20, "z": 40}}},
    {"name": "motor1", "api": "rdk:component:motor", "model": "fake",
     "attributes": {"max_rpm": 120, "encoder": "encoder1", "ticks_per_rotation": 200}},
    {"name": "encoder1", "api": "rdk:component:encoder", "model": "fake"},
    {"name": "sensor1", "api": "rdk:component:sensor", "model": "fake"},
    {"name": "board1", "api": "rdk:component:board", "model": "fake",
     "attributes": {"analogs": [{"name": "a1", "pin": "1"}], "digital_interrupts": [{"name": "di1", "pin": "14"}]}},
    {"name": "movement_sensor1", "api": "rdk:component:movement_sensor", "model": "fake"},
    {"name": "power_sensor1", "api": "rdk:component:power_sensor", "model": "fake"},
    {"name": "generic1", "api": "rdk:component:generic", "model": "fake"},
    {"name": "base1", "api": "rdk:component:base", "model": "fake"},
    {"name": "gripper1", "api": "rdk:component:gripper", "model": "fake",
     "frame": {"parent": "servo1", "translation": {"x": 0, "y": 0, "z": 80},
               "orientation": {"type": "ov_degrees", "value": {"x": 0, "y": 0, "z": 1, "th": 90}}}},
    {"name": "button1", "api": "rdk:component:button", "model": "fake"},
    {"name": "switch1", "api": "rdk:component:switch", "model": "fake",
     "attributes": {"position_count": 3, "labels": ["off", "low", "high"]}},
]}


# -- the calls ------------------------------------------------------------------------------
Call = Callable[[Any], Awaitable[Any]]


def calls() -> list[tuple[str, str, Call]]:
    """(API, call, coroutine on a connected RobotClient), in the order they run."""
    from viam.components.base import Base, Vector3
    from viam.components.board import Board
    from viam.components.button import Button
    from viam.components.encoder import Encoder
    from viam.components.generic import Generic
    from viam.components.gripper import Gripper
    from viam.components.motor import Motor
    from viam.components.movement_sensor import MovementSensor
    from viam.components.power_sensor import PowerSensor
    from viam.components.sensor import Sensor
    from viam.components.servo import Servo
    from viam.components.switch import Switch
    from viam.proto.common import Pose, PoseInFrame

    servo = lambda r: Servo.from_robot(r, "servo1")
    motor = lambda r: Motor.from_robot(r, "motor1")
    encoder = lambda r: Encoder.from_robot(r, "encoder1")
    board = lambda r: Board.from_robot(r, "board1")
    ms = lambda r: MovementSensor.from_robot(r, "movement_sensor1")
    ps = lambda r: PowerSensor.from_robot(r, "power_sensor1")
    base = lambda r: Base.from_robot(r, "base1")
    gripper = lambda r: Gripper.from_robot(r, "gripper1")
    switch = lambda r: Switch.from_robot(r, "switch1")

    async def gpio(r: Any, op: str, *args: Any) -> Any:
        pin = await board(r).gpio_pin_by_name("8")
        return await getattr(pin, op)(*args)

    async def unknown_servo(r: Any) -> Any:
        from viam.components.servo.client import ServoClient

        return await ServoClient("no-such-servo", r._channel).get_position()

    robot_calls: list[tuple[str, Call]] = [
        ("resource_names", lambda r: _async(sorted((n.namespace, n.type, n.subtype, n.name)
                                                    for n in r.resource_names if n.type == "component"))),
        ("get_machine_status", _machine_status),
        ("get_version", lambda r: r.get_version()),
        ("get_cloud_metadata", lambda r: r.get_cloud_metadata()),
        ("get_frame_system_config", _frame_system_config),
        ("get_pose", lambda r: r.get_pose("gripper1", "world")),
        ("get_pose_unknown_frame", lambda r: r.get_pose("no-such-frame", "world")),
        ("transform_pose", lambda r: r.transform_pose(PoseInFrame(reference_frame="gripper1", pose=Pose(x=1, o_z=1)),
                                                      "world")),
        ("get_operations", lambda r: r.get_operations()),
        ("stop_all", lambda r: r.stop_all()),
    ]
    table: list[tuple[str, str, Call]] = [("robot", name, fn) for name, fn in robot_calls]
    table += [
        ("servo", "move", lambda r: servo(r).move(45)),
        ("servo", "get_position", lambda r: servo(r).get_position()),
        ("servo", "is_moving", lambda r: servo(r).is_moving()),
        ("servo", "stop", lambda r: servo(r).stop()),
        ("servo", "get_geometries", lambda r: servo(r).get_geometries()),
        ("servo", "do_command", lambda r: servo(r).do_command({"echo": 1})),
        ("servo", "unknown_name", unknown_servo),
        ("motor", "set_power", lambda r: motor(r).set_power(0.5)),
        ("motor", "is_powered", lambda r: motor(r).is_powered()),
        ("motor", "is_moving", lambda r: motor(r).is_moving()),
        ("motor", "stop", lambda r: motor(r).stop()),
        ("motor", "is_powered_after_stop", lambda r: motor(r).is_powered()),
        ("motor", "get_properties", lambda r: motor(r).get_properties()),
        ("motor", "reset_zero_position", lambda r: motor(r).reset_zero_position(0)),
        ("motor", "get_position", lambda r: motor(r).get_position()),
        ("motor", "go_for_zero_rpm", lambda r: motor(r).go_for(0, 1)),
        ("motor", "set_rpm", lambda r: motor(r).set_rpm(30)),
        ("motor", "is_moving_at_rpm", lambda r: motor(r).is_moving()),
        ("motor", "stop_rpm", lambda r: motor(r).stop()),
        ("encoder", "get_properties", lambda r: encoder(r).get_properties()),
        ("encoder", "reset_position", lambda r: encoder(r).reset_position()),
        ("encoder", "get_position", lambda r: encoder(r).get_position()),
        ("sensor", "get_readings", lambda r: Sensor.from_robot(r, "sensor1").get_readings()),
        ("board", "set_gpio", lambda r: gpio(r, "set", True)),
        ("board", "get_gpio", lambda r: gpio(r, "get")),
        ("board", "set_pwm", lambda r: gpio(r, "set_pwm", 0.25)),
        ("board", "get_pwm", lambda r: gpio(r, "get_pwm")),
        ("board", "set_pwm_frequency", lambda r: gpio(r, "set_pwm_frequency", 1000)),
        ("board", "get_pwm_frequency", lambda r: gpio(r, "get_pwm_frequency")),
        ("board", "read_analog", lambda r: _then(board(r).analog_by_name("a1"), lambda a: a.read())),
        ("board", "write_analog", lambda r: _then(board(r).analog_by_name("a1"), lambda a: a.write(7))),
        ("board", "digital_interrupt_value", lambda r: _then(board(r).digital_interrupt_by_name("di1"),
                                                             lambda d: d.value())),
        ("movement_sensor", "get_position", lambda r: ms(r).get_position()),
        ("movement_sensor", "get_linear_velocity", lambda r: ms(r).get_linear_velocity()),
        ("movement_sensor", "get_angular_velocity", lambda r: ms(r).get_angular_velocity()),
        ("movement_sensor", "get_linear_acceleration", lambda r: ms(r).get_linear_acceleration()),
        ("movement_sensor", "get_compass_heading", lambda r: ms(r).get_compass_heading()),
        ("movement_sensor", "get_orientation", lambda r: ms(r).get_orientation()),
        ("movement_sensor", "get_properties", lambda r: ms(r).get_properties()),
        ("movement_sensor", "get_accuracy", lambda r: ms(r).get_accuracy()),
        ("movement_sensor", "get_readings", lambda r: ms(r).get_readings()),
        ("power_sensor", "get_voltage", lambda r: ps(r).get_voltage()),
        ("power_sensor", "get_current", lambda r: ps(r).get_current()),
        ("power_sensor", "get_power", lambda r: ps(r).get_power()),
        ("power_sensor", "get_readings", lambda r: ps(r).get_readings()),
        ("generic", "do_command", lambda r: Generic.from_robot(r, "generic1").do_command({"echo": 1})),
        ("base", "move_straight", lambda r: base(r).move_straight(10, 100)),
        ("base", "spin", lambda r: base(r).spin(10, 90)),
        ("base", "set_power", lambda r: base(r).set_power(Vector3(y=0.5), Vector3(z=0.1))),
        ("base", "is_moving", lambda r: base(r).is_moving()),
        ("base", "set_velocity", lambda r: base(r).set_velocity(Vector3(y=100), Vector3(z=10))),
        ("base", "stop", lambda r: base(r).stop()),
        ("base", "get_properties", lambda r: base(r).get_properties()),
        ("base", "get_geometries", lambda r: base(r).get_geometries()),
        ("gripper", "open", lambda r: gripper(r).open()),
        ("gripper", "grab", lambda r: gripper(r).grab()),
        ("gripper", "is_holding_something", lambda r: gripper(r).is_holding_something()),
        ("gripper", "is_moving", lambda r: gripper(r).is_moving()),
        ("gripper", "stop", lambda r: gripper(r).stop()),
        ("gripper", "get_geometries", lambda r: gripper(r).get_geometries()),
        ("button", "push", lambda r: Button.from_robot(r, "button1").push()),
        ("switch", "get_number_of_positions", lambda r: switch(r).get_number_of_positions()),
        ("switch", "set_position", lambda r: switch(r).set_position(2)),
        ("switch", "get_position", lambda r: switch(r).get_position()),
        ("switch", "set_position_out_of_range", lambda r: switch(r).set_position(7)),
    ]
    return table


async def _async(value: Any) -> Any:
    return value


async def _then(first: Awaitable[Any], then: Callable[[Any], Awaitable[Any]]) -> Any:
    return await then(await first)


async def _frame_system_config(robot: Any) -> Any:
    return {c.frame.reference_frame: c for c in await robot.get_frame_system_config()}


async def _machine_status(robot: Any) -> Any:
    status = await robot.get_machine_status()
    return {"state": status.state,
            "resources": {r.name.name: r.state for r in status.resources if r.name.type == "component"}}


# -- answers as comparable values -------------------------------------------------------------
def normalize(value: Any) -> Any:
    """An answer as plain JSON-like values: messages as dicts (proto field names), floats rounded."""
    from google.protobuf.json_format import MessageToDict
    from google.protobuf.message import Message

    if isinstance(value, Message):
        return normalize(MessageToDict(value, preserving_proto_field_name=True,
                                       always_print_fields_with_no_presence=True))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return normalize({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return round(value, 6) + 0.0
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, Sequence):  # lists, tuples, protobuf repeated fields
        return [normalize(v) for v in value]
    if hasattr(value, "__dict__"):
        return normalize({k: v for k, v in vars(value).items() if not k.startswith("_")})
    return repr(value)


def error_code(exc: BaseException) -> str:
    """The gRPC status code a failed call came back with."""
    from grpclib.exceptions import GRPCError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, GRPCError):
            return seen.status.name
        seen = seen.__cause__ or seen.__context__
    status = getattr(exc, "grpc_code", None) or getattr(exc, "status", None)
    return getattr(status, "name", None) or type(exc).__name__


def flatten(value: Any, prefix: str) -> dict[str, Any]:
    """``{"a.b.0": leaf}``: one entry per leaf; an empty dict or list is a leaf of its own."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}"))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{i}"))
        return out
    return {prefix: value}


def answers(address: str) -> dict[str, Any]:
    """Every call of :func:`calls` on the machine at ``address``: ``{"api.call": answer}``,
    a failed call as ``{"error": CODE}``."""
    from viam.robot.client import RobotClient
    from viam.rpc.dial import DialOptions

    table = calls()  # imports every component's module: the SDK makes clients only for those imported

    async def main() -> dict[str, Any]:
        opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True))
        opts.attempt_reconnect_interval = 0
        opts.check_connection_interval = 0
        robot = await RobotClient.at_address(address, opts)
        out: dict[str, Any] = {}
        try:
            for api, name, call in table:
                try:
                    out[f"{api}.{name}"] = normalize(await asyncio.wait_for(call(robot), 10))
                except Exception as exc:  # noqa: BLE001 (any failure is an answer: its code is compared)
                    out[f"{api}.{name}"] = {"error": error_code(exc)}
        finally:
            await robot.close()
        return out

    return asyncio.run(main())


def differences(lite: dict[str, Any], server: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{"api.call.field": (viamlite's value, viam-server's value)}`` where they differ;
    a field one side lacks is ``"(absent)"`` there."""
    out: dict[str, tuple[Any, Any]] = {}
    for key in sorted(set(lite) | set(server)):
        a, b = flatten(lite.get(key, "(absent)"), key), flatten(server.get(key, "(absent)"), key)
        for path in sorted(set(a) | set(b)):
            va, vb = a.get(path, "(absent)"), b.get(path, "(absent)")
            if va != vb:
                out[path] = (va, vb)
    return out


def listed_differences(text: str) -> dict[str, str]:
    """The table of ``docs/conformance.md``: ``{"api.call.field": reason}``. A row's first
    cell is the field path in backquotes; a path may end in ``.*`` to cover every field under it."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"`[\w.*-]+`", cells[0]):
            rows[cells[0].strip("`")] = cells[-1]
    return rows


def covered(path: str, listed: dict[str, str]) -> str | None:
    for key in listed:
        if key == path or (key.endswith(".*") and path.startswith(key[:-1])):
            return key
    return None


# -- the test ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def peer_network() -> Iterator[rdk_peers.PeerNetwork]:
    rdk_peers.require("viam-server")
    net = rdk_peers.PeerNetwork()
    yield net
    net.close()


def test_viam_sdk_answers_match_viam_server(peer_network: rdk_peers.PeerNetwork, tmp_path: Path) -> None:
    server = rdk_peers.ViamServer(peer_network, CONFIG, tmp_path).start()
    path = tmp_path / "viamlite.json"
    path.write_text(json.dumps(CONFIG))
    lite = ServeProcess(["--bind", "127.0.0.1:0", "--config", str(path)])
    try:
        from_server = answers(server.address)
        from_lite = answers(lite.address)
    finally:
        lite.stop()
        server.stop()
    assert len(from_server) == len(calls()) and len(from_lite) == len(calls())
    found = differences(from_lite, from_server)
    listed = listed_differences(DOC.read_text())
    report = "\n".join(f"  {path}: viamlite {a!r} / viam-server {b!r}" for path, (a, b) in found.items())
    print(f"\n{len(found)} field differences over {len(calls())} calls:\n{report}")
    unlisted = {path: ab for path, ab in found.items() if covered(path, listed) is None}
    assert not unlisted, ("differences not listed in docs/conformance.md (fix viamlite, or add a row with the reason):\n"
                          + "\n".join(f"  `{p}` | {a!r} | {b!r}" for p, (a, b) in unlisted.items()))
    used = {covered(path, listed) for path in found}
    gone = sorted(set(listed) - used)
    assert not gone, f"rows of docs/conformance.md that no longer differ (remove them): {gone}"
