"""The client against a real ``viamlite serve``: resources, machine calls, errors, reconnect."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

import viamlite
from viamlite.client.status import error_for
from viamlite.components.motor import Motor
from viamlite.components.servo import Servo
from viamlite.errors import (
    ConnectError,
    InvalidArgumentError,
    NotSupportedError,
    ResourceClosedError,
    ResourceNotFoundError,
)
from viamlite.spatial import Pose, Vector3

from .conftest import ServeProcess
from .peers import free_port


@pytest.fixture(scope="module")
def machine(demo_server):
    client = viamlite.connect(demo_server.address)
    yield client
    client.close()


def test_servo_from_robot_runs_against_a_remote_machine(machine) -> None:
    servo = Servo.from_robot(machine, "servo1")
    servo.move(90)
    assert servo.get_position() == 90
    servo.move(15)
    assert machine["servo1"].get_position() == 15
    assert Servo.from_robot(machine, "servo1") is servo


def test_every_component_api_has_a_proxy(machine) -> None:
    names = {n.full_name: n for n in machine.resource_names}
    assert {"servo1", "motor1", "board1", "switch1"} <= set(names)
    for name in names.values():
        res = machine.resource(name.api, name.full_name)
        assert isinstance(res, Servo) if name.api.subtype == "servo" else True
        assert res.API == name.api
    assert machine["switch1"].get_number_of_positions().labels == ["off", "low", "high"]
    machine["board1"].set_gpio("11", True)
    assert machine["board1"].get_gpio("11") is True
    readings = machine["movement_sensor1"].get_readings()
    assert isinstance(readings["linear_velocity"], Vector3)
    assert machine["generic1"].do_command({"echo": [1, "a"]})
    geometry = machine["servo1"].get_geometries()[0]
    assert (geometry.kind, geometry.dims_mm) == ("box", Vector3(40, 20, 40))


def test_typed_errors_come_back(machine) -> None:
    with pytest.raises(InvalidArgumentError, match="out of range"):
        machine["servo1"].move(1000)
    with pytest.raises(ResourceNotFoundError, match="servo9"):
        Servo.from_robot(machine, "servo9")
    with pytest.raises(ResourceNotFoundError, match="servo1"):  # motor1 is no servo; the servos are listed
        Servo.from_robot(machine, "motor1")


def test_status_codes_map_to_error_families() -> None:
    assert isinstance(error_for("NOT_FOUND", "x"), ResourceNotFoundError)
    assert isinstance(error_for("UNIMPLEMENTED", "x"), NotSupportedError)
    assert isinstance(error_for("UNAVAILABLE", "failed to connect to all addresses"), ConnectError)
    assert isinstance(error_for("DEADLINE_EXCEEDED", "x"), TimeoutError)
    assert error_for("INTERNAL", "boom").code == "INTERNAL"


def test_machine_calls(machine) -> None:
    version = machine.get_version()
    assert version.version == viamlite.__version__ and "viamlite" in version.platform
    status = machine.get_machine_status()
    assert status.state == "running"
    assert {r.name.full_name: r.state for r in status.resources}["servo1"] == "ready"
    assert machine.get_cloud_metadata().machine_id == ""
    frames = {f.name: f for f in machine.get_frame_system_config()}
    assert frames["servo1"].parent == "world" and frames["servo1"].pose.point == Vector3(100, 0, 50)
    assert machine.get_pose("servo1").point == Vector3(100, 0, 50)
    moved = machine.transform_pose(Pose(Vector3(1, 2, 3)), "servo1", "world")
    assert moved.point == Vector3(101, 2, 53)
    machine.log("a line from the client test")
    assert machine.stop_all() == []


def test_operations_list_cancel_and_block(machine) -> None:
    motor = Motor.from_robot(machine, "motor1")
    outcome: list[BaseException | None] = []

    def long_move() -> None:
        try:
            motor.go_for(60, 100)  # 100 s if nothing cancels it
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=long_move)
    thread.start()
    deadline = time.monotonic() + 5
    ops = []
    while not ops and time.monotonic() < deadline:
        ops = [o for o in machine.get_operations() if o.method.endswith("/GoFor")]
        time.sleep(0.05)
    assert ops and ops[0].arguments["name"] == "motor1"
    machine.cancel_operation(ops[0].id)
    machine.block_for_operation(ops[0].id, timeout=5)
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert outcome and outcome[0] is not None  # the move ended early: cancelled
    assert not motor.is_moving()


def test_async_twin_cancels_the_call_on_the_wire(demo_server) -> None:
    async def main() -> tuple[int, bool]:
        async with await viamlite.connect_async(demo_server.address) as machine:
            servo = await machine.get("servo1")
            await servo.move(42)
            position = await servo.get_position()
            motor = await machine.get("motor1")
            task = asyncio.ensure_future(motor.go_for(60, 100))
            await asyncio.sleep(0.5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # the cancellation reaches the machine on its own schedule; it must stop the motor
            for _ in range(100):
                if not await motor.is_moving():
                    break
                await asyncio.sleep(0.02)
            return position, await motor.is_moving()

    position, moving = asyncio.run(asyncio.wait_for(main(), 20))
    assert position == 42 and moving is False


def test_closed_client_raises_typed_errors(demo_server) -> None:
    client = viamlite.connect(demo_server.address)
    servo = client["servo1"]
    client.close()
    client.close()  # idempotent
    with pytest.raises(ResourceClosedError):
        servo.get_position()
    with pytest.raises(ConnectError, match="closed"):
        client.get_version()


def test_connect_to_nothing_is_a_clear_connect_error() -> None:
    with pytest.raises(ConnectError, match="cannot reach"):
        viamlite.connect(f"127.0.0.1:{free_port()}", timeout=2)


def test_reconnects_after_the_server_restarts() -> None:
    port = free_port()
    server = ServeProcess(["--bind", f"127.0.0.1:{port}"])
    try:
        client = viamlite.connect(f"127.0.0.1:{port}", check_interval=0.2)
        servo = Servo.from_robot(client, "servo1")
        servo.move(30)
        server.stop()
        deadline = time.monotonic() + 10
        error = None
        while time.monotonic() < deadline:
            try:
                servo.get_position()
            except ConnectError as exc:
                error = exc
                break
            time.sleep(0.05)
        assert error is not None and "reconnecting" in str(error)
        assert not client.connected
        server = ServeProcess(["--bind", f"127.0.0.1:{port}"])
        deadline = time.monotonic() + 15
        position = None
        while time.monotonic() < deadline:
            try:
                position = servo.get_position()
                break
            except ConnectError:
                time.sleep(0.1)
        assert position == 0  # a fresh server: the servo is back at its start
        servo.move(60)
        assert servo.get_position() == 60 and client.connected
        client.close()
    finally:
        server.stop()


def test_in_process_machine_offers_the_same_lookup() -> None:
    from viamlite.cli.serve import demo_config

    with viamlite.Machine.from_config(demo_config()) as machine:
        servo = Servo.from_robot(machine, "servo1")
        servo.move(90)
        assert machine["servo1"].get_position() == 90
    assert machine.closed
