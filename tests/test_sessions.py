"""Sessions: heartbeats keep what a client moved running; silence stops it."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from viamlite.gen import motor_pb2, robot_pb2
from viamlite.machine.sessions import Session, SessionExpiredError, SessionManager

ROBOT = "/viam.robot.v1.RobotService"
MOTOR = "/viam.component.motor.v1.MotorService"


def wait_for(predicate: Any, timeout: float, step: float = 0.005) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


# -- the manager on its own ---------------------------------------------------------


def test_heartbeats_keep_a_session_and_silence_expires_it_once() -> None:
    expired: list[Session] = []
    manager = SessionManager(lambda: 0.4, expired.append)
    try:
        session = manager.start()
        manager.track(session.id, "motor1")
        for _ in range(12):  # 600 ms of heartbeats, one every 50 ms (an eighth of the window)
            time.sleep(0.05)
            manager.heartbeat(session.id)
        assert expired == []
        assert manager.start(resume=session.id).id == session.id  # a resumed session keeps its id
        assert wait_for(lambda: expired, 2)
        assert [s.id for s in expired] == [session.id] and list(expired[0].moved) == ["motor1"]
        with pytest.raises(SessionExpiredError, match="expired"):
            manager.heartbeat(session.id)
        with pytest.raises(SessionExpiredError, match="unknown"):
            manager.heartbeat("no-such-session")
        assert manager.start(resume=session.id).id != session.id  # an expired one is not resumed
        assert wait_for(lambda: len(expired) == 2, 3)  # the new, silent session expires too
        time.sleep(0.5)
        assert len(expired) == 2  # and each only once
    finally:
        manager.close()


# -- through the gRPC server --------------------------------------------------------


@pytest.fixture
def session_machine() -> Iterator[Any]:
    """A served machine with a motor and a 500 ms heartbeat window: (machine, channel)."""
    from viamlite.machine import Machine
    from viamlite.adapters.serving import MachineServer

    machine = Machine.from_config({
        "components": [{"name": "motor1", "api": "rdk:component:motor", "model": "fake"}],
        "network": {"sessions": {"heartbeat_window": "500ms"}},
    })
    server = MachineServer(machine)
    port = server.start("127.0.0.1:0")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield machine, channel
    channel.close()
    server.stop(0)
    machine.close()


def rpc(channel: grpc.Channel, path: str, response: Any) -> Any:
    return channel.unary_unary(path, request_serializer=lambda m: m.SerializeToString(),
                               response_deserializer=response.FromString)


def start_session(channel: grpc.Channel) -> str:
    resp = rpc(channel, f"{ROBOT}/StartSession", robot_pb2.StartSessionResponse)(robot_pb2.StartSessionRequest(),
                                                                                 timeout=5)
    assert resp.heartbeat_window.ToMilliseconds() == 500
    return resp.id


def is_moving(channel: grpc.Channel) -> bool:
    return rpc(channel, f"{MOTOR}/IsMoving", motor_pb2.IsMovingResponse)(
        motor_pb2.IsMovingRequest(name="motor1"), timeout=5).is_moving


def test_a_silent_session_stops_what_it_moved_and_later_calls_are_session_expired(session_machine: Any) -> None:
    machine, channel = session_machine
    sid = start_session(channel)
    set_power = rpc(channel, f"{MOTOR}/SetPower", motor_pb2.SetPowerResponse)
    set_power(motor_pb2.SetPowerRequest(name="motor1", power_pct=0.5), metadata=(("viam-sid", sid),), timeout=5)
    assert is_moving(channel)
    heartbeat = rpc(channel, f"{ROBOT}/SendSessionHeartbeat", robot_pb2.SendSessionHeartbeatResponse)
    for _ in range(15):  # 750 ms of heartbeats, one every 50 ms: still moving
        time.sleep(0.05)
        heartbeat(robot_pb2.SendSessionHeartbeatRequest(id=sid), timeout=5)
    assert is_moving(channel)
    assert wait_for(lambda: not is_moving(channel), 3), "the motor kept running after its session went silent"
    for call, request in ((heartbeat, robot_pb2.SendSessionHeartbeatRequest(id=sid)),
                          (set_power, motor_pb2.SetPowerRequest(name="motor1", power_pct=0.5))):
        with pytest.raises(grpc.RpcError) as info:
            call(request, metadata=(("viam-sid", sid),), timeout=5)
        # exactly what the Viam SDKs look for to start a new session
        assert (info.value.code(), info.value.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "SESSION_EXPIRED")
    assert not is_moving(channel)
    # A call without a session is not affected by any of this.
    set_power(motor_pb2.SetPowerRequest(name="motor1", power_pct=0.2), timeout=5)
    time.sleep(0.3)
    assert is_moving(channel)


def test_a_long_call_is_an_operation_of_its_session_and_ends_with_it(session_machine: Any) -> None:
    machine, channel = session_machine
    sid = start_session(channel)
    go_for = rpc(channel, f"{MOTOR}/GoFor", motor_pb2.GoForResponse)
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(_call(go_for, sid)))
    thread.start()
    ops = rpc(channel, f"{ROBOT}/GetOperations", robot_pb2.GetOperationsResponse)
    assert wait_for(lambda: any(op.session_id == sid for op in ops(robot_pb2.GetOperationsRequest(), timeout=5)
                                .operations), 2)
    thread.join(5)  # no heartbeats: the session expires and its operation is cancelled
    assert not thread.is_alive()
    assert result and result[0] == grpc.StatusCode.CANCELLED
    assert not is_moving(channel)


def _call(go_for: Any, sid: str) -> Any:
    try:
        go_for(motor_pb2.GoForRequest(name="motor1", rpm=10, revolutions=1000), metadata=(("viam-sid", sid),),
               timeout=10)
    except grpc.RpcError as err:
        return err.code()
    return grpc.StatusCode.OK


# -- the real viam-sdk client, killed mid-motion -----------------------------------

CLIENT = """
import asyncio, sys
from viam.components.motor import Motor
from viam.robot.client import RobotClient
from viam.rpc.dial import DialOptions

async def main():
    opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True))
    robot = await RobotClient.at_address(sys.argv[1], opts)
    await Motor.from_robot(robot, "motor1").set_power(0.5)
    print("moving", flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


@pytest.mark.parametrize("window", [0.2, 2.0])
def test_killed_sdk_client_mid_motion_the_motor_stops_within_the_window(serve: Any, window: float) -> None:
    proc = serve({"components": [{"name": "motor1", "api": "rdk:component:motor", "model": "fake"}],
                  "network": {"sessions": {"heartbeat_window": f"{int(window * 1000)}ms"}}})
    client = subprocess.Popen([sys.executable, "-c", CLIENT, proc.address], stdout=subprocess.PIPE, text=True)
    channel = grpc.insecure_channel(proc.address)
    try:
        assert client.stdout is not None and client.stdout.readline().strip() == "moving"
        time.sleep(window * 1.5)  # the client's heartbeats keep it going past one window
        assert is_moving(channel)
        client.kill()
        killed = time.monotonic()
        client.wait(5)
        assert wait_for(lambda: not is_moving(channel), window + 5, step=0.002)
        delay = time.monotonic() - killed
        print(f"\nheartbeat window {window * 1000:.0f} ms: motor stopped {delay * 1000:.0f} ms after SIGKILL")
        assert delay < window + 1.0
    finally:
        if client.poll() is None:
            client.kill()
        channel.close()
    _, _, err = proc.stop()
    assert "had no heartbeat" in err and "stopped motor1" in err
