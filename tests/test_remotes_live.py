"""Remote parts between real processes: viamlite A with viamlite B (outage and recovery),
with a viam-sdk server, with each other, and with an API key over TLS."""
from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from viamlite.gen import robot_pb2 as pb
from viamlite.gen import servo_pb2

from .conftest import ServeProcess, write_config
from .peers import run_viam_sdk

viam = pytest.importorskip("viam", reason="the viam-sdk test dependency is not installed (pip install -e .[test])")

KEY_ID = "5b0c2a8e-3d4f-4e6a-9b1c-2d3e4f5a6b7c"
KEY = "remote-link-key-0123456789"
FAST = {"reconnect_interval": "200ms", "connection_check_interval": "500ms"}
SERVO = {"name": "servo1", "api": "rdk:component:servo", "model": "fake"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start ``viamlite serve`` processes, each with its own config file ``<name>.json``."""
    started: list[ServeProcess] = []

    def start(name: str, config: dict[str, Any], port: int = 0, env: dict[str, str] | None = None) -> ServeProcess:
        path = write_config(tmp_path, config, f"{name}.json")
        proc = ServeProcess(["--bind", f"127.0.0.1:{port}", "--config", str(path)], env=env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def unary(address: str, path: str, request: Any, response_class: Any, timeout: float = 5.0) -> Any:
    with grpc.insecure_channel(address) as channel:
        return channel.unary_unary(path, request_serializer=type(request).SerializeToString,
                                   response_deserializer=response_class.FromString)(request, timeout=timeout)


def names(address: str) -> list[str]:
    return sorted(name for name, _ in listing(address))


def listing(address: str) -> list[tuple[str, tuple[str, ...]]]:
    response = unary(address, "/viam.robot.v1.RobotService/ResourceNames", pb.ResourceNamesRequest(),
                     pb.ResourceNamesResponse)
    return [(r.name, tuple(r.remote_path)) for r in response.resources]


def statuses(address: str) -> dict[str, Any]:
    response = unary(address, "/viam.robot.v1.RobotService/GetMachineStatus", pb.GetMachineStatusRequest(),
                     pb.GetMachineStatusResponse)
    return {r.name.name: r for r in response.resources}


def position(address: str, name: str, timeout: float = 5.0) -> int:
    return unary(address, "/viam.component.servo.v1.ServoService/GetPosition", servo_pb2.GetPositionRequest(name=name),
                 servo_pb2.GetPositionResponse, timeout).position_deg


def wait_for(what: str, condition: Callable[[], Any], timeout: float = 10.0) -> float:
    """Poll ``condition`` until it is true; the seconds it took."""
    t0 = time.monotonic()
    last: Any = None
    while time.monotonic() - t0 < timeout:
        try:
            if condition():
                return time.monotonic() - t0
        except grpc.RpcError as err:
            last = err
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s (last error: {last})")


def local_call_ms(address: str, calls: int = 200) -> float:
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary("/viam.component.servo.v1.ServoService/GetPosition",
                                   request_serializer=servo_pb2.GetPositionRequest.SerializeToString,
                                   response_deserializer=servo_pb2.GetPositionResponse.FromString)
        request = servo_pb2.GetPositionRequest(name="servo1")
        call(request, timeout=5)
        t0 = time.perf_counter()
        for _ in range(calls):
            call(request, timeout=5)
        return (time.perf_counter() - t0) / calls * 1e3


def sdk_client(address: str, body: Callable[[Any], Any]) -> Any:
    return run_viam_sdk(address, body, reconnect=False)


def test_b_through_a_survives_sigkill_and_recovers(machines: Callable[..., ServeProcess], tmp_path: Path) -> None:
    from viam.components.servo import Servo

    port_b = free_port()
    remote = {"name": "b", "address": f"127.0.0.1:{port_b}", "prefix": "b-", **FAST}
    a_config = {"components": [SERVO], "remotes": [remote]}
    a = machines("a", a_config)  # B is not up yet: A must serve at once
    assert position(a.address, "servo1") == 0
    assert names(a.address) == ["servo1"]
    b = machines("b", {"components": [SERVO, {"name": "sensor1", "api": "rdk:component:sensor", "model": "fake"}]},
                 port_b)
    took = wait_for("B's resources listed on A", lambda: "b-servo1" in names(a.address))
    print(f"\nB's resources appeared on A {took:.2f} s after B was serving")
    assert sorted(listing(a.address)) == [("b-sensor1", ("b",)), ("b-servo1", ("b",)), ("servo1", ())]

    async def drive(robot: Any) -> Any:
        servo = Servo.from_robot(robot, "b-servo1")
        await servo.move(33)
        return await servo.get_position(), sorted(r.name for r in robot.resource_names)

    moved, listed = sdk_client(a.address, drive)
    assert listed == ["b-sensor1", "b-servo1", "servo1"]
    assert moved == 33 and position(b.address, "servo1") == 33, "the move reached B's servo1"
    assert position(a.address, "servo1") == 0, "A's own servo1 did not move"
    status = statuses(a.address)["b-servo1"]
    assert (status.reachability, status.remote) == (pb.ResourceStatus.REACHABILITY_REACHABLE, "b")

    before_ms = local_call_ms(a.address)
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait(5)
    wait_for("B marked disconnected on A", lambda: statuses(a.address)["b-servo1"].reachability
             == pb.ResourceStatus.REACHABILITY_REMOTE_DISCONNECTED, timeout=5)
    status = statuses(a.address)["b-servo1"]
    assert status.remote == "b" and f"127.0.0.1:{port_b}" in status.error
    assert names(a.address) == ["b-sensor1", "b-servo1", "servo1"], "B's resources stay listed"
    with pytest.raises(grpc.RpcError) as info:
        position(a.address, "b-servo1")
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "'b'" in info.value.details() and f"127.0.0.1:{port_b}" in info.value.details()
    during_ms = local_call_ms(a.address)
    print(f"A's local servo GetPosition: {before_ms:.2f} ms/call with B up, {during_ms:.2f} ms/call with B killed")

    # B comes back on the same port with servo2 added and sensor1 removed.
    t0 = time.monotonic()
    b = machines("b2", {"components": [SERVO, {"name": "servo2", "api": "rdk:component:servo", "model": "fake"}]},
                 port_b)
    serving = time.monotonic() - t0
    wait_for("calls through A succeed again", lambda: position(a.address, "b-servo1", timeout=1) == 0)
    recovered = time.monotonic() - t0
    print(f"recovery: B restarted and serving in {serving:.2f} s; calls through A succeeded "
          f"{recovered:.2f} s after the restart began ({recovered - serving:.2f} s after B was serving)")
    wait_for("B's new list synced", lambda: names(a.address) == ["b-servo1", "b-servo2", "servo1"], timeout=5)
    assert statuses(a.address)["b-servo2"].reachability == pb.ResourceStatus.REACHABILITY_REACHABLE

    # Live config edits: a new prefix, then no remote at all.
    write_config(tmp_path, {**a_config, "remotes": [{**remote, "prefix": "line-"}]}, "a.json")
    wait_for("the new prefix applied", lambda: names(a.address) == ["line-servo1", "line-servo2", "servo1"], timeout=8)
    write_config(tmp_path, {"components": [SERVO]}, "a.json")
    wait_for("the remote removed", lambda: names(a.address) == ["servo1"], timeout=8)


def test_viam_sdk_server_as_a_remote(machines: Callable[..., ServeProcess]) -> None:
    from viam.components.pose_tracker import PoseTracker
    from viam.components.servo import Servo

    port = free_port()
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "sdk_server.py"
    sdk = subprocess.Popen([sys.executable, str(script), str(port), "--tracker"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert sdk.stdout is not None and "sdk server" in sdk.stdout.readline()
        a = machines("a", {"components": [SERVO],
                           "remotes": [{"name": "sdk", "address": f"127.0.0.1:{port}", "prefix": "sdk-", **FAST}]})
        wait_for("the sdk server's resources listed", lambda: "sdk-tracker1" in names(a.address))
        assert names(a.address) == ["sdk-servo1", "sdk-tracker1", "servo1"]

        async def drive(robot: Any) -> Any:
            servo = Servo.from_robot(robot, "sdk-servo1")
            await servo.move(12)
            poses = await PoseTracker.from_robot(robot, "sdk-tracker1").get_poses(["abc", "de"])
            await robot.stop_all()
            return await servo.get_position(), {k: v.pose.x for k, v in poses.items()}

        moved, poses = sdk_client(a.address, drive)
        assert moved == 12
        assert poses == {"abc": 3.0, "de": 2.0}, "PoseTracker (not served by viamlite) was relayed as bytes"
    finally:
        sdk.terminate()
        sdk.wait(5)


def test_machines_listing_each_other_have_no_loop_or_duplicate(machines: Callable[..., ServeProcess]) -> None:
    port_a, port_b = free_port(), free_port()
    a = machines("a", {"components": [SERVO],
                       "remotes": [{"name": "b", "address": f"127.0.0.1:{port_b}", "prefix": "b-", **FAST}]}, port_a)
    b = machines("b", {"components": [SERVO],
                       "remotes": [{"name": "a", "address": f"127.0.0.1:{port_a}", "prefix": "a-", **FAST}]}, port_b)
    wait_for("each lists the other", lambda: "b-servo1" in names(a.address) and "a-servo1" in names(b.address))
    time.sleep(1.2)  # a few connection checks later, nothing came back around
    assert names(a.address) == ["b-servo1", "servo1"]
    assert names(b.address) == ["a-servo1", "servo1"]
    unary(b.address, "/viam.component.servo.v1.ServoService/Move", servo_pb2.MoveRequest(name="servo1", angle_deg=7),
          servo_pb2.MoveResponse)
    assert position(a.address, "b-servo1") == 7
    unary(a.address, "/viam.robot.v1.RobotService/StopAll", pb.StopAllRequest(), pb.StopAllResponse, timeout=5)
    with pytest.raises(grpc.RpcError) as info:
        position(a.address, "b-a-servo1")
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_remote_with_an_api_key_over_tls(machines: Callable[..., ServeProcess], tmp_path: Path) -> None:
    env = {"VIAMLITE_HOME": str(tmp_path / "home")}
    auth = {"handlers": [{"type": "api-key", "config": {"keys": [KEY_ID], KEY_ID: KEY}}]}
    b = machines("b", {"components": [SERVO], "auth": auth}, env=env)
    assert "TLS" in b.banner[-1] or any("TLS" in line for line in b.banner)

    def creds(key: str) -> dict[str, Any]:
        return {"entity": KEY_ID, "credentials": {"type": "api-key", "payload": key}}

    a = machines("a", {"components": [SERVO], "remotes": [
        {"name": "b", "address": b.address, "prefix": "b-", "auth": creds(KEY), **FAST},
        {"name": "wrong", "address": b.address, "prefix": "w-", "auth": creds("not-the-key"), **FAST}]})
    wait_for("B's resources listed through TLS with a key", lambda: "b-servo1" in names(a.address))
    unary(a.address, "/viam.component.servo.v1.ServoService/Move", servo_pb2.MoveRequest(name="b-servo1", angle_deg=21),
          servo_pb2.MoveResponse)
    assert position(a.address, "b-servo1") == 21
    assert not any(n.startswith("w-") for n in names(a.address)), "a wrong key links nothing"
    _, _, err = a.stop()
    assert "rejected API key" in err and KEY not in err and "not-the-key" not in err



def test_remotes_of_remotes_are_flattened_and_streams_relayed(machines: Callable[..., ServeProcess]) -> None:
    from viamlite.gen import board_pb2

    c = machines("c", {"components": [{"name": "board1", "api": "rdk:component:board", "model": "fake"}]})
    b = machines("b", {"remotes": [{"name": "c", "address": c.address, "prefix": "c-", **FAST}]})
    a = machines("a", {"remotes": [{"name": "b", "address": b.address, "prefix": "b-", **FAST}]})
    wait_for("C's board listed on A through B", lambda: "b-c-board1" in names(a.address))
    assert listing(a.address) == [("b-c-board1", ("b", "c"))]
    with grpc.insecure_channel(a.address) as channel:
        ticks = channel.unary_stream("/viam.component.board.v1.BoardService/StreamTicks",
                                     request_serializer=board_pb2.StreamTicksRequest.SerializeToString,
                                     response_deserializer=board_pb2.StreamTicksResponse.FromString)(
            board_pb2.StreamTicksRequest(name="b-c-board1", pin_names=["7"]), timeout=10)
        set_gpio = channel.unary_unary("/viam.component.board.v1.BoardService/SetGPIO",
                                       request_serializer=board_pb2.SetGPIORequest.SerializeToString,
                                       response_deserializer=board_pb2.SetGPIOResponse.FromString)
        time.sleep(0.3)  # the stream is open at C before the edge
        set_gpio(board_pb2.SetGPIORequest(name="b-c-board1", pin="7", high=True), timeout=5)
        tick = next(ticks)
        assert (tick.pin_name, tick.high) == ("7", True)
        ticks.cancel()
    get_gpio = unary(c.address, "/viam.component.board.v1.BoardService/GetGPIO",
                     board_pb2.GetGPIORequest(name="board1", pin="7"), board_pb2.GetGPIOResponse)
    assert get_gpio.high, "the call reached C's board through two links"
