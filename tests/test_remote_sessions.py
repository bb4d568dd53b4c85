"""The session a remote link holds on its remote: machine A links machine B, a client moves
B's motor through A, A dies, and B stops the motor one of B's heartbeat windows later (as
viam-server's remote links do it). B is a ``viamlite serve`` and, where it is built here, a
viam-server (tests/rdk_peers.py). Also: the link's session is restarted when B says it is
gone, and after B restarts; a remote without sessions links as before."""
from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from viamlite.gen import motor_pb2
from viamlite.gen import robot_pb2 as pb
from viamlite.remotes.session import RemoteSession, SessionGone, SessionsUnsupported

from . import rdk_peers
from .conftest import ServeProcess, write_config

FAST = {"reconnect_interval": "200ms", "connection_check_interval": "500ms"}
MOTOR = {"name": "motor1", "api": "rdk:component:motor", "model": "fake"}
MOTOR_SERVICE = "/viam.component.motor.v1.MotorService"


# -- helpers ------------------------------------------------------------------------------------
def unary(address: str, path: str, request: Any, response_class: Any, timeout: float = 5.0) -> Any:
    with grpc.insecure_channel(address) as channel:
        return channel.unary_unary(path, request_serializer=type(request).SerializeToString,
                                   response_deserializer=response_class.FromString)(request, timeout=timeout)


def names(address: str) -> list[str]:
    response = unary(address, "/viam.robot.v1.RobotService/ResourceNames", pb.ResourceNamesRequest(),
                     pb.ResourceNamesResponse)
    return sorted(r.name for r in response.resources)


def sessions(address: str) -> list[str]:
    return [s.id for s in unary(address, "/viam.robot.v1.RobotService/GetSessions", pb.GetSessionsRequest(),
                                pb.GetSessionsResponse).sessions]


def set_power(address: str, name: str, power: float = 0.5) -> None:
    """SetPower from a plain gRPC client holding no session of its own: only the link's
    session on the remote stands behind the motion."""
    unary(address, f"{MOTOR_SERVICE}/SetPower", motor_pb2.SetPowerRequest(name=name, power_pct=power),
          motor_pb2.SetPowerResponse)


def powered(address: str, name: str = "motor1") -> bool:
    return unary(address, f"{MOTOR_SERVICE}/IsPowered", motor_pb2.IsPoweredRequest(name=name),
                 motor_pb2.IsPoweredResponse, timeout=2).is_on


def wait_for(what: str, condition: Callable[[], Any], timeout: float = 15.0) -> float:
    """Poll ``condition`` until it is true; the seconds it took."""
    t0 = time.monotonic()
    last: Any = None
    while time.monotonic() - t0 < timeout:
        try:
            if condition():
                return time.monotonic() - t0
        except grpc.RpcError as err:
            last = f"{err.code().name}: {err.details()}"  # type: ignore[attr-defined]
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {timeout} s (last error: {last})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start ``viamlite serve`` processes (``bind``: the host to serve on), stopped after the test."""
    started: list[ServeProcess] = []

    def start(name: str, config: dict[str, Any], port: int = 0, bind: str = "127.0.0.1") -> ServeProcess:
        path = write_config(tmp_path, config, f"{name}.json")
        proc = ServeProcess(["--bind", f"{bind}:{port}", "--config", str(path), "--fastpath", "127.0.0.1:0"])
        proc.address = f"{bind}:{proc.port}"
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.proc.poll() is None:
            proc.proc.send_signal(signal.SIGCONT)  # one a test left stopped
        proc.stop()


def kill(machine: ServeProcess) -> float:
    """SIGKILL, as when the host loses power; the monotonic time it died."""
    machine.proc.send_signal(signal.SIGKILL)
    machine.proc.wait(10)
    return time.monotonic()


def link_moves_then_dies(a: ServeProcess, b_address: str, window: float, what: str) -> float:
    """Move B's motor through A, check A's session on B keeps it running, SIGKILL A, and wait
    for B to stop the motor; the seconds that took."""
    wait_for("B's motor listed on A", lambda: "b-motor1" in names(a.address))
    set_power(a.address, "b-motor1")
    assert powered(b_address), "SetPower through A reached B's motor"
    assert sessions(b_address), "A's link holds a session on B (the client holds none)"
    time.sleep(3 * window)  # three windows: the link's heartbeats keep its session, so the motor runs
    assert powered(b_address), "A's heartbeats keep its session on B and the motor running"
    killed = kill(a)
    wait_for(f"{what}'s motor stopped after A was killed", lambda: not powered(b_address), timeout=10)
    took = time.monotonic() - killed
    print(f"\nA killed: {what}'s motor stopped {took:.2f} s later ({what}'s heartbeat window {window:g} s)")
    return took


# -- A links a viamlite B -----------------------------------------------------------------------
def test_a_killed_its_session_on_viamlite_b_stops_the_motor_it_moved(machines: Callable[..., ServeProcess]) -> None:
    b = machines("b", {"components": [MOTOR], "network": {"sessions": {"heartbeat_window": "800ms"}}})
    a = machines("a", {"remotes": [{"name": "b", "address": b.address, "prefix": "b-", **FAST}]})
    wait_for("A's link started its session on B", lambda: len(sessions(b.address)) == 1)
    took = link_moves_then_dies(a, b.address, 0.8, "viamlite B")
    assert took < 10


def test_link_restarts_its_session_when_b_lets_it_expire_and_after_b_restarts(
        machines: Callable[..., ServeProcess]) -> None:
    b = machines("b", {"components": [MOTOR], "network": {"sessions": {"heartbeat_window": "800ms"}}})
    a = machines("a", {"remotes": [{"name": "b", "address": b.address, "prefix": "b-", **FAST}]})
    wait_for("A's link started its session on B", lambda: len(sessions(b.address)) == 1)
    first = sessions(b.address)[0]
    wait_for("B's motor listed on A", lambda: "b-motor1" in names(a.address))
    set_power(a.address, "b-motor1")
    assert powered(b.address)

    # A frozen past B's window: B lets the session expire and stops the motor; A, thawed, is told
    # its session is gone and starts a new one, and its next move goes through in it.
    a.proc.send_signal(signal.SIGSTOP)
    try:
        wait_for("B's motor stopped while A was frozen", lambda: not powered(b.address), timeout=10)
    finally:
        a.proc.send_signal(signal.SIGCONT)
    wait_for("A's link started a new session on B", lambda: sessions(b.address) not in ([], [first]))
    set_power(a.address, "b-motor1")
    assert powered(b.address), "a move through A after its session expired goes through in a new one"
    second = sessions(b.address)
    assert len(second) == 1 and second != [first]

    # B restarted on the same port knows no session: A's link starts one on the new B.
    port = b.port
    b.stop()
    b2 = machines("b2", {"components": [MOTOR], "network": {"sessions": {"heartbeat_window": "800ms"}}}, port=port)
    wait_for("A's link started a session on the restarted B", lambda: len(sessions(b2.address)) == 1)
    wait_for("calls through A reach the restarted B", lambda: not powered(a.address, "b-motor1"))
    link_moves_then_dies(a, b2.address, 0.8, "restarted viamlite B")


def test_a_viam_sdk_server_remote_without_sessions_still_links(machines: Callable[..., ServeProcess]) -> None:
    from viamlite.gen import servo_pb2

    from .peers import SdkServer

    sdk = SdkServer()  # answers StartSession UNIMPLEMENTED
    try:
        a = machines("a", {"remotes": [{"name": "sdk", "address": sdk.address, "prefix": "sdk-", **FAST}]})
        wait_for("the viam-sdk server's servo listed on A", lambda: "sdk-servo1" in names(a.address))
        unary(a.address, "/viam.component.servo.v1.ServoService/Move",
              servo_pb2.MoveRequest(name="sdk-servo1", angle_deg=12), servo_pb2.MoveResponse)
        assert unary(a.address, "/viam.component.servo.v1.ServoService/GetPosition",
                     servo_pb2.GetPositionRequest(name="sdk-servo1"), servo_pb2.GetPositionResponse).position_deg == 12
    finally:
        sdk.stop()


# -- A links a viam-server B --------------------------------------------------------------------
@pytest.fixture(scope="module")
def net() -> Iterator[rdk_peers.PeerNetwork]:
    rdk_peers.require("viam-server")
    network = rdk_peers.PeerNetwork()
    yield network
    network.close()


def test_a_killed_its_session_on_viam_server_b_stops_the_motor_it_moved(
        net: rdk_peers.PeerNetwork, machines: Callable[..., ServeProcess], tmp_path: Path) -> None:
    server = rdk_peers.ViamServer(net, {"components": [MOTOR], "network": {"sessions": {"heartbeat_window": "1s"}}},
                                  tmp_path, name="vs")
    try:
        server.start()
        a = machines("a", {"remotes": [{"name": "b", "address": server.address, "prefix": "b-", **FAST}]})
        took = link_moves_then_dies(a, server.address, 1.0, "viam-server B")
        assert took < 10
    finally:
        server.stop()


# -- the session keeper on its own ----------------------------------------------------------------
class FakeRemote:
    """StartSession and SendSessionHeartbeat as a remote answers them, recording the calls."""

    def __init__(self, *, supported: bool = True, window: float = 0.05) -> None:
        self.supported, self.window = supported, window
        self.live: set[str] = set()
        self.calls: list[tuple[str, str]] = []
        self.beats = threading.Event()
        self._n = 0

    def start(self, resume: str) -> tuple[str, float]:
        self.calls.append(("start", resume))
        if not self.supported:
            raise SessionsUnsupported()
        if resume in self.live:
            return resume, self.window
        self._n += 1
        sid = f"s{self._n}"
        self.live.add(sid)
        return sid, self.window

    def beat(self, sid: str) -> None:
        self.calls.append(("beat", sid))
        if sid not in self.live:
            raise SessionGone(sid)
        self.beats.set()


def test_keeper_starts_heartbeats_restarts_and_closes() -> None:
    remote = FakeRemote()
    session = RemoteSession("b", remote.start, remote.beat)
    try:
        session.open()
        assert session.supported and session.id == "s1"
        assert session.metadata_for(f"{MOTOR_SERVICE}/SetPower") == (("viam-sid", "s1"),)
        assert remote.beats.wait(5), "the keeper heartbeats the session"
        remote.live.clear()  # the remote forgets it: the next heartbeat is refused
        wait_for("a new session after the remote forgot the old one", lambda: session.id == "s2", timeout=5)
        session.pause()  # connection lost: no id on calls; the old one is resumed on reconnect
        assert session.metadata_for(f"{MOTOR_SERVICE}/IsPowered") == ()
        session.open()
        assert session.id == "s2" and remote.calls.count(("start", "s2")) == 1
        assert session.renew("s2") == "s3", "a call refused in its session gets a new one"
    finally:
        session.close()
    assert session.id == "" and session.metadata_for(f"{MOTOR_SERVICE}/SetPower") == ()
    calls = len(remote.calls)
    time.sleep(0.2)
    assert len(remote.calls) == calls, "no heartbeats after close"


def test_keeper_without_sessions_forwards_without_an_id() -> None:
    remote = FakeRemote(supported=False)
    session = RemoteSession("sdk", remote.start, remote.beat)
    try:
        session.open()
        assert session.supported is False
        assert session.metadata_for(f"{MOTOR_SERVICE}/SetPower") == ()
        assert remote.calls == [("start", "")], "asked once; a move does not ask again"
    finally:
        session.close()
