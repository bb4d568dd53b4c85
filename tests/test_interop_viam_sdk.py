"""The official viam-sdk client (PyPI) drives ``viamlite serve`` unchanged."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

viam = pytest.importorskip("viam", reason="the viam-sdk test dependency is not installed (pip install -e .[test])")

from grpclib.const import Status  # noqa: E402
from grpclib.exceptions import GRPCError  # noqa: E402
from viam.components.base import Base, Vector3  # noqa: E402
from viam.components.board import Board  # noqa: E402
from viam.components.button import Button  # noqa: E402
from viam.components.encoder import Encoder  # noqa: E402
from viam.components.generic import Generic  # noqa: E402
from viam.components.gripper import Gripper  # noqa: E402
from viam.components.motor import Motor  # noqa: E402
from viam.components.movement_sensor import MovementSensor  # noqa: E402
from viam.components.power_sensor import PowerSensor  # noqa: E402
from viam.components.sensor import Sensor  # noqa: E402
from viam.components.servo import Servo  # noqa: E402
from viam.components.switch import Switch  # noqa: E402
from viam.errors import ViamError  # noqa: E402
from viam.proto.common import Pose, PoseInFrame  # noqa: E402
from viam.robot.client import RobotClient  # noqa: E402
from viam.rpc.dial import DialOptions  # noqa: E402

from .peers import run_viam_sdk  # noqa: E402


def run(address: str, body: Callable[[RobotClient], Awaitable[Any]]) -> Any:
    return run_viam_sdk(address, body)


async def operation_of(robot: RobotClient, suffix: str, timeout: float = 10.0) -> Any:
    """The machine's operation whose method ends with ``suffix``, once it has started (the
    SDK starts a session first, which takes longer on a loaded machine)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        ops = [op for op in await robot.get_operations() if op.method.endswith(suffix)]
        if ops or asyncio.get_running_loop().time() > deadline:
            return ops[0] if ops else None
        await asyncio.sleep(0.02)


def test_resource_names_and_status(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        names = {(r.subtype, r.name) for r in robot.resource_names}
        status = await robot.get_machine_status()
        version = await robot.get_version()
        return names, status, version

    names, status, version = run(demo_server.address, body)
    for subtype in ("servo", "motor", "sensor", "board", "encoder", "movement_sensor", "power_sensor",
                    "generic", "base", "gripper", "button", "switch", "camera"):
        assert (subtype, f"{subtype}1") in names
    assert status.state == status.STATE_RUNNING
    ready = {r.name.name for r in status.resources if r.state == r.STATE_READY}
    assert "servo1" in ready and "motor1" in ready
    assert version.platform.startswith("viamlite")


def test_servo(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        servo = Servo.from_robot(robot, "servo1")
        await servo.move(75)
        pos = await servo.get_position()
        moving = await servo.is_moving()
        await servo.stop()
        geoms = await servo.get_geometries()
        return pos, moving, geoms

    pos, moving, geoms = run(demo_server.address, body)
    assert pos == 75
    assert moving is False
    assert len(geoms) == 1 and geoms[0].box.dims_mm.x == pytest.approx(40)


def test_servo_error_surfaces_our_message(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        with pytest.raises(GRPCError) as info:
            await Servo.from_robot(robot, "servo1").move(400)
        return info.value

    err = run(demo_server.address, body)
    assert err.status == Status.INVALID_ARGUMENT
    assert "servo1" in err.message and "180" in err.message


def test_unknown_resource_not_found(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        client = Servo.from_robot(robot, "servo1")
        client.name = "no-such-servo"
        with pytest.raises(GRPCError) as info:
            await client.get_position()
        return info.value

    err = run(demo_server.address, body)
    assert err.status == Status.NOT_FOUND
    assert "no-such-servo" in err.message


def test_motor_go_for_runs_over_time(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        motor = Motor.from_robot(robot, "motor1")
        await motor.reset_zero_position(0)
        task = asyncio.create_task(motor.go_for(rpm=60, revolutions=1))  # 1 s
        op = await operation_of(robot, "MotorService/GoFor")
        moving = await motor.is_moving()
        ops = [op] if op is not None else []
        mid = await motor.get_position()
        await task
        end = await motor.get_position()
        powered = await motor.is_powered()
        props = await motor.get_properties()
        await motor.set_power(0.5)
        powered_on = await motor.is_powered()
        await motor.stop()
        return moving, ops, mid, end, powered, props, powered_on, await motor.is_moving()

    moving, ops, mid, end, powered, props, powered_on, still = run(demo_server.address, body)
    assert moving is True
    assert any(op.method.endswith("MotorService/GoFor") for op in ops)
    assert 0 < mid < 1
    assert end == pytest.approx(1, abs=0.05)
    assert powered[0] is False
    assert props.position_reporting is True
    assert powered_on[0] is True and powered_on[1] == pytest.approx(0.5)
    assert still is False


def test_cancel_operation_stops_go_for(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        motor = Motor.from_robot(robot, "motor1")
        task = asyncio.create_task(motor.go_for(rpm=60, revolutions=100))
        op = await operation_of(robot, "MotorService/GoFor")
        assert op is not None, "GoFor never started"
        await robot.cancel_operation(op.id)
        with pytest.raises(GRPCError) as info:
            await asyncio.wait_for(task, 5)
        return info.value, await motor.is_moving()

    err, moving = run(demo_server.address, body)
    assert err.status == Status.CANCELLED
    assert moving is False


def test_encoder_follows_motor(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        motor, encoder = Motor.from_robot(robot, "motor1"), Encoder.from_robot(robot, "encoder1")
        await encoder.reset_position()
        await motor.go_for(rpm=120, revolutions=0.5)
        ticks = await encoder.get_position()
        props = await encoder.get_properties()
        return ticks, props

    (value, kind), props = run(demo_server.address, body)
    assert value == pytest.approx(100, abs=8)  # 0.5 rev * 200 ticks per rotation
    assert props.ticks_count_supported


def test_board(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        board = Board.from_robot(robot, "board1")
        pin = await board.gpio_pin_by_name("11")
        await pin.set(True)
        high = await pin.get()
        await pin.set_pwm(0.25)
        await pin.set_pwm_frequency(1000)
        analog = await board.analog_by_name("a1")
        await analog.write(42)
        reading = await analog.read()
        di = await board.digital_interrupt_by_name("11")
        stream = await board.stream_ticks([di])
        first = asyncio.create_task(stream.__anext__())  # the SDK opens the stream on first read
        tick = None
        for _ in range(50):  # toggle until the subscription is live and a tick arrives
            await pin.set(False)
            await pin.set(True)
            done, _ = await asyncio.wait({first}, timeout=0.1)
            if done:
                tick = first.result()
                break
        count = await di.value()
        return high, await pin.get_pwm(), await pin.get_pwm_frequency(), reading, tick, count

    high, duty, freq, reading, tick, count = run(demo_server.address, body)
    assert high is True
    assert duty == pytest.approx(0.25)
    assert freq == 1000
    assert reading.max_range > reading.min_range
    assert tick.pin_name == "11"
    assert count >= 1


def test_sensors(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        sensor = Sensor.from_robot(robot, "sensor1")
        ms = MovementSensor.from_robot(robot, "movement_sensor1")
        ps = PowerSensor.from_robot(robot, "power_sensor1")
        return (await sensor.get_readings(), await ms.get_linear_velocity(), await ms.get_orientation(),
                await ms.get_position(), await ms.get_properties(), await ms.get_readings(),
                await ps.get_voltage(), await ps.get_power(), await ps.get_readings(), await ms.get_accuracy())

    readings, lin, orient, pos, props, ms_readings, volts, watts, ps_readings, accuracy = run(demo_server.address, body)
    assert readings and all(isinstance(k, str) for k in readings)
    assert isinstance(lin.x, float)
    assert props.linear_velocity_supported
    assert "linear_velocity" in ms_readings
    assert volts[0] > 0 and watts == pytest.approx(volts[0] * ps_readings["amps"])
    assert -90 <= pos[0].latitude <= 90


def test_base_gripper_button_switch_generic(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        base = Base.from_robot(robot, "base1")
        await base.move_straight(distance=50, velocity=500)
        await base.spin(angle=45, velocity=450)
        await base.set_velocity(Vector3(x=0, y=100, z=0), Vector3(x=0, y=0, z=10))
        moving = await base.is_moving()
        await base.stop()
        props = await base.get_properties()
        gripper = Gripper.from_robot(robot, "gripper1")
        await gripper.open()
        grabbed = await gripper.grab()
        holding = await gripper.is_holding_something()
        await Button.from_robot(robot, "button1").push()
        button_status = await Button.from_robot(robot, "button1").get_status()
        switch = Switch.from_robot(robot, "switch1")
        await switch.set_position(2)
        count = await switch.get_number_of_positions()
        echo = await Generic.from_robot(robot, "generic1").do_command({"hello": [1, "two", {"three": True}]})
        return moving, await base.is_moving(), props, grabbed, holding, button_status, await switch.get_position(), count, echo

    moving, after, props, grabbed, holding, bstatus, position, count, echo = run(demo_server.address, body)
    assert moving is True and after is False
    assert props.width_meters > 0
    assert grabbed is True and holding.is_holding_something is True
    assert position == 2
    assert count[0] == 3
    assert echo["hello"] == [1, "two", {"three": True}]


def test_frames(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        from viam.proto.common import Transform

        extra = Transform(reference_frame="camera", pose_in_observer_frame=PoseInFrame(reference_frame="world", pose=Pose(z=1)))
        frames = await robot.get_frame_system_config([extra])
        pose = await robot.get_pose("gripper1", "world")
        moved = await robot.transform_pose(PoseInFrame(reference_frame="servo1", pose=Pose(x=10, o_z=1)), "world")
        return frames, pose, moved

    frames, pose, moved = run(demo_server.address, body)
    names = {f.frame.reference_frame for f in frames}
    assert {"servo1", "gripper1", "base1", "camera"} <= names
    assert (pose.pose.x, pose.pose.y, pose.pose.z) == pytest.approx((100, 0, 130))
    assert pose.pose.theta == pytest.approx(90)
    assert (moved.pose.x, moved.pose.z) == pytest.approx((110, 50))


def test_stop_all_stops_motor(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        motor = Motor.from_robot(robot, "motor1")
        await motor.set_rpm(30)
        before = await motor.is_moving()
        await robot.stop_all()
        return before, await motor.is_moving()

    before, after = run(demo_server.address, body)
    assert before is True and after is False


def test_do_command_unsupported_is_clear(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        with pytest.raises((GRPCError, ViamError)) as info:
            await Servo.from_robot(robot, "servo1").do_command({"x": 1})
        return info.value

    err = run(demo_server.address, body)
    assert "servo1" in str(err)


def test_machine_status_reports_unhealthy_resource_and_shutdown(serve: Any) -> None:
    from datetime import datetime

    config = {
        "components": [
            {"name": "s1", "api": "rdk:component:servo", "model": "fake"},
            {"name": "e1", "api": "rdk:component:encoder", "model": "fake", "attributes": {"motor": "s1"}},
        ],
        "cloud": {"id": "part-123", "location_id": "loc-9"},
    }
    proc = serve(config)

    async def body(robot: RobotClient) -> Any:
        status = await robot.get_machine_status()
        cloud = await robot.get_cloud_metadata()
        await robot.log("client-logger", "warn", datetime.now(), "hello from the sdk", "")
        with pytest.raises(GRPCError) as info:
            await Encoder.from_robot(robot, "e1").get_position()
        await robot.shutdown()
        return status, cloud, info.value

    status, cloud, err = run(proc.address, body)
    states = {r.name.name: (r.state, r.error) for r in status.resources}
    assert states["s1"][0] == status.resources[0].STATE_READY
    assert states["e1"][0] == status.resources[0].STATE_UNHEALTHY and "motor" in states["e1"][1]
    assert (cloud.machine_part_id, cloud.location_id) == ("part-123", "loc-9")
    assert err.status == Status.UNAVAILABLE and "e1" in err.message
    code = proc.proc.wait(15)
    _, err_text = proc.proc.communicate()
    assert code == 0
    assert "hello from the sdk" in err_text


def _self_signed(tmp_path: Any) -> tuple[str, str]:
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_tls_from_configured_certificate(serve: Any, tmp_path: Any) -> None:
    cert, key = _self_signed(tmp_path)
    proc = serve({"components": [{"name": "s1", "api": "rdk:component:servo", "model": "fake"}],
                  "network": {"tls_cert_file": cert, "tls_key_file": key}})
    assert "(gRPC, TLS)" in "".join(proc.banner)

    async def main() -> Any:
        robot = await RobotClient.at_address(proc.address, RobotClient.Options(
            dial_options=DialOptions(disable_webrtc=True)))
        try:
            servo = Servo.from_robot(robot, "s1")
            await servo.move(12)
            return await servo.get_position()
        finally:
            await robot.close()

    assert asyncio.run(main()) == 12
