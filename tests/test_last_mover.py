"""A session that expires stops only what it was the last to move; a call cut short says so.

Client A (a viam-sdk RobotClient in a child process) moves motors and is SIGKILLed.
Client B then drives one of them. When A's session expires, what A still drives is
stopped, and B's motion goes on. A blocking move that another caller stops answers
ABORTED, not success.

No test here asserts how long anything took: each waits for an event (A's session gone,
A's other motor stopped, B's call answered) and checks what the machine did.
"""
from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import grpc
import pytest

from viamlite.gen import motor_pb2, robot_pb2
from viamlite.machine.sessions import MotionLedger, Session, SessionManager

from .conftest import ServeProcess, write_config
from .peers import free_port, run_viam_sdk
from .test_sessions import wait_for

ROBOT = "/viam.robot.v1.RobotService"
MOTOR = "/viam.component.motor.v1.MotorService"
WINDOW_MS = 500
MOTORS = [{"name": "motor1", "api": "rdk:component:motor", "model": "fake"},
          {"name": "motor2", "api": "rdk:component:motor", "model": "fake"}]
SERVED = {"components": MOTORS, "network": {"sessions": {"heartbeat_window": f"{WINDOW_MS}ms"}}}

#: Client A: set_power(0.5) on each motor named on the command line, then wait to be killed.
CLIENT_A = """
import asyncio, sys
from viam.components.motor import Motor
from viam.robot.client import RobotClient
from viam.rpc.dial import DialOptions

async def main():
    opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True))
    robot = await RobotClient.at_address(sys.argv[1], opts)
    for name in sys.argv[2:]:
        await Motor.from_robot(robot, name).set_power(0.5)
    print("moving", flush=True)
    await asyncio.sleep(300)

asyncio.run(main())
"""


# -- the ledger on its own ------------------------------------------------------------


def test_motion_ledger_releases_only_what_the_owner_moved_last() -> None:
    ledger = MotionLedger()
    m1, m2, m3 = ("motor", "motor1"), ("motor", "motor2"), ("base", "base1")
    assert ledger.last(m1) is None
    ledger.moved(m1, "a")
    ledger.moved(m2, "a")
    ledger.moved(m3, "a")
    ledger.moved(m1, "b")  # B took motor1 over
    ledger.moved(m3, "")  # and a call outside any session took base1 over
    assert (ledger.last(m1), ledger.last(m2), ledger.last(m3)) == ("b", "a", "")
    assert ledger.release("a", [m1, m2, m3]) == [m2]
    assert ledger.last(m2) is None  # forgotten: a stop is never repeated for it
    assert ledger.release("a", [m2]) == []
    assert ledger.release("b", [m1, m2]) == [m1]
    assert ledger.release("", [m3]) == [m3]
    assert ledger.release("nobody", []) == []


def test_a_session_that_tracks_a_key_is_its_last_mover_and_expiry_releases_only_that() -> None:
    ledger = MotionLedger()
    released: list[list[Any]] = []
    done = threading.Event()

    def expired(session: Session) -> None:
        released.append(ledger.release(session.id, list(session.moved)))
        done.set()

    manager = SessionManager(lambda: 0.2, expired, movers=ledger)
    try:
        a = manager.start()
        manager.track(a.id, "motor1")
        manager.track(a.id, "motor2")
        assert ledger.last("motor1") == a.id
        ledger.moved("motor1", "")  # a sessionless call moves motor1 now
        assert done.wait(10)
        assert released == [["motor2"]]
        assert ledger.last("motor1") == ""
    finally:
        manager.close()


# -- gRPC, against `viamlite serve` -----------------------------------------------------


class Caller:
    """A raw grpcio client; with ``session=True`` it starts a session and heartbeats it
    (a tenth of the window) until closed."""

    def __init__(self, address: str, session: bool = True) -> None:
        self.channel = grpc.insecure_channel(address)
        self.sid = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if session:
            resp = self.rpc(ROBOT, "StartSession", robot_pb2.StartSessionRequest(), robot_pb2.StartSessionResponse)
            self.sid = resp.id
            window = resp.heartbeat_window.ToMilliseconds() / 1000.0
            self._thread = threading.Thread(target=self._beat, args=(window / 10,), daemon=True)
            self._thread.start()

    def _beat(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.rpc(ROBOT, "SendSessionHeartbeat", robot_pb2.SendSessionHeartbeatRequest(id=self.sid),
                         robot_pb2.SendSessionHeartbeatResponse)
            except grpc.RpcError:
                pass  # the next beat tries again; a lost session shows in the test's checks

    def rpc(self, service: str, method: str, request: Any, response_class: Any, timeout: float = 10.0) -> Any:
        call = self.channel.unary_unary(f"{service}/{method}", request_serializer=type(request).SerializeToString,
                                        response_deserializer=response_class.FromString)
        metadata = (("viam-sid", self.sid),) if self.sid else None
        return call(request, metadata=metadata, timeout=timeout)

    def go_for(self, name: str, rpm: float, revolutions: float) -> "Future[Any]":
        """GoFor in a thread: the future's result is the response, or the grpc.RpcError."""
        future: Future[Any] = Future()

        def run() -> None:
            try:
                future.set_result(self.rpc(MOTOR, "GoFor", motor_pb2.GoForRequest(
                    name=name, rpm=rpm, revolutions=revolutions), motor_pb2.GoForResponse, timeout=120))
            except grpc.RpcError as err:
                future.set_result(err)

        threading.Thread(target=run, daemon=True).start()
        return future

    def set_power(self, name: str, power: float) -> None:
        self.rpc(MOTOR, "SetPower", motor_pb2.SetPowerRequest(name=name, power_pct=power), motor_pb2.SetPowerResponse)

    def stop(self, name: str) -> None:
        self.rpc(MOTOR, "Stop", motor_pb2.StopRequest(name=name), motor_pb2.StopResponse)

    def powered(self, name: str) -> tuple[bool, float]:
        resp = self.rpc(MOTOR, "IsPowered", motor_pb2.IsPoweredRequest(name=name), motor_pb2.IsPoweredResponse)
        return resp.is_on, resp.power_pct

    def moving(self, name: str) -> bool:
        return self.rpc(MOTOR, "IsMoving", motor_pb2.IsMovingRequest(name=name), motor_pb2.IsMovingResponse).is_moving

    def position(self, name: str) -> float:
        return self.rpc(MOTOR, "GetPosition", motor_pb2.GetPositionRequest(name=name),
                        motor_pb2.GetPositionResponse).position

    def sessions(self) -> set[str]:
        resp = self.rpc(ROBOT, "GetSessions", robot_pb2.GetSessionsRequest(), robot_pb2.GetSessionsResponse)
        return {s.id for s in resp.sessions}

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self.channel.close()


@pytest.fixture
def callers() -> Iterator[Callable[..., Caller]]:
    made: list[Caller] = []

    def make(address: str, session: bool = True) -> Caller:
        made.append(Caller(address, session))
        return made[-1]

    yield make
    for caller in made:
        caller.close()


@pytest.fixture
def client_a() -> Iterator[Callable[..., subprocess.Popen]]:
    """client_a(address, *motors): a viam-sdk client that set_power(0.5)s the motors and
    then waits (to be killed)."""
    started: list[subprocess.Popen] = []

    def start(address: str, *motors: str) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", CLIENT_A, address, *motors], stdout=subprocess.PIPE, text=True)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "moving", "client A did not move"
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def kill(proc: subprocess.Popen) -> None:
    proc.kill()
    proc.wait(10)


def a_moved_then_killed(address: str, watcher: Caller, client_a: Callable[..., subprocess.Popen],
                        *motors: str) -> str:
    """Client A moves ``motors`` and is SIGKILLed; returns A's session id (the only session then)."""
    proc = client_a(address, *motors)
    (sid,) = watcher.sessions()
    assert all(watcher.powered(m) == (True, 0.5) for m in motors)
    kill(proc)
    return sid


def test_b_go_for_goes_on_when_killed_a_expires_and_a_motor_of_a_alone_stops(
        serve: Any, callers: Callable[..., Caller], client_a: Callable[..., subprocess.Popen]) -> None:
    proc = serve(SERVED)
    watcher = callers(proc.address, session=False)
    a_sid = a_moved_then_killed(proc.address, watcher, client_a, "motor1", "motor2")
    b = callers(proc.address)
    b.stop("motor1")  # (Stop is not a motion: A is still the last to have moved motor1)
    start = watcher.position("motor1")
    # 5 revolutions at 60 rpm is 5 s, far beyond one 500 ms window
    call = b.go_for("motor1", 60, 5)
    assert wait_for(lambda: watcher.powered("motor1") == (True, 0.6), 10), "B's go_for did not start"
    # A's session expires: what A alone moved (motor2) stops
    assert wait_for(lambda: a_sid not in watcher.sessions(), 30), "A's session never expired"
    assert wait_for(lambda: not watcher.moving("motor2"), 30), "A's expiry did not stop motor2, which A moved last"
    assert b.sid in watcher.sessions()
    assert not call.done(), "B's go_for had already ended before A's session expired: nothing was tested"
    assert watcher.moving("motor1"), "A's expiry stopped motor1, which B drives now"
    result = call.result(timeout=60)
    assert isinstance(result, motor_pb2.GoForResponse), f"B's go_for failed: {result}"
    # it went the whole way: not cut short by A's expiry
    assert watcher.position("motor1") == pytest.approx(start + 5, abs=1e-6)
    _, _, err = proc.stop()
    assert f"session {a_sid} had no heartbeat" in err
    assert "stopped motor2; left motor1 running: another caller drives it now" in err


@pytest.mark.parametrize("b_session", [True, False], ids=["b-in-a-session", "b-sessionless"])
def test_b_set_power_stays_on_past_killed_a_expiry(serve: Any, callers: Callable[..., Caller],
                                                    client_a: Callable[..., subprocess.Popen], b_session: bool) -> None:
    proc = serve(SERVED)
    watcher = callers(proc.address, session=False)
    # A moves motor1 first, then motor2: an expiry that stopped everything A moved would
    # stop motor1 before motor2, so once motor2 is stopped, motor1's fate is decided.
    a_sid = a_moved_then_killed(proc.address, watcher, client_a, "motor1", "motor2")
    b = callers(proc.address, session=b_session)
    b.set_power("motor1", 0.3)
    assert wait_for(lambda: a_sid not in watcher.sessions(), 30), "A's session never expired"
    assert wait_for(lambda: not watcher.moving("motor2"), 30), "A's expiry did not stop motor2, which A moved last"
    assert watcher.powered("motor1") == (True, pytest.approx(0.3)), "A's expiry stopped motor1, which B drives now"
    assert watcher.moving("motor1")
    b.stop("motor1")


def test_a_expiry_stops_what_a_still_drives(serve: Any, callers: Callable[..., Caller],
                                            client_a: Callable[..., subprocess.Popen]) -> None:
    """B moved motor1 before A did: A is its last mover, and A's expiry stops it."""
    proc = serve(SERVED)
    watcher = callers(proc.address, session=False)
    b = callers(proc.address)
    b.set_power("motor1", 0.2)
    a = client_a(proc.address, "motor1")
    a_sid = next(iter(watcher.sessions() - {b.sid}))
    assert watcher.powered("motor1") == (True, 0.5)
    kill(a)
    assert wait_for(lambda: not watcher.moving("motor1"), 30), "A's expiry did not stop motor1, which A moved last"
    assert a_sid not in watcher.sessions() and b.sid in watcher.sessions()


# -- through a remote -------------------------------------------------------------------


def test_through_a_remote_b_go_for_goes_on_when_killed_a_expires(
        tmp_path: Path, callers: Callable[..., Caller], client_a: Callable[..., subprocess.Popen]) -> None:
    port_r = free_port()
    part = ServeProcess(["--bind", f"127.0.0.1:{port_r}", "--config",
                         str(write_config(tmp_path, {"components": MOTORS}, "part.json"))])
    main = None
    try:
        main = ServeProcess(["--bind", "127.0.0.1:0", "--config", str(write_config(tmp_path, {
            **SERVED, "components": [],
            "remotes": [{"name": "r", "address": f"127.0.0.1:{port_r}", "prefix": "r-", "reconnect_interval": "200ms"}],
        }, "main.json"))])
        watcher = callers(main.address, session=False)
        on_part = callers(part.address, session=False)
        assert wait_for(lambda: _has(watcher, "r-motor2"), 20), "the remote's motors were never listed"
        a_sid = a_moved_then_killed(main.address, watcher, client_a, "r-motor1", "r-motor2")
        b = callers(main.address)
        b.stop("r-motor1")
        start = on_part.position("motor1")
        call = b.go_for("r-motor1", 60, 5)
        assert wait_for(lambda: on_part.powered("motor1") == (True, 0.6), 10), "B's go_for did not start"
        assert wait_for(lambda: a_sid not in watcher.sessions(), 30), "A's session never expired"
        assert wait_for(lambda: not on_part.moving("motor2"), 30), "A's expiry did not stop r-motor2, which A moved last"
        assert not call.done(), "B's go_for had already ended before A's session expired: nothing was tested"
        result = call.result(timeout=60)
        assert isinstance(result, motor_pb2.GoForResponse), f"B's go_for failed: {result}"
        assert on_part.position("motor1") == pytest.approx(start + 5, abs=1e-6)
    finally:
        if main is not None:
            main.stop()
        part.stop()


def _has(caller: Caller, name: str) -> bool:
    resp = caller.rpc(ROBOT, "ResourceNames", robot_pb2.ResourceNamesRequest(), robot_pb2.ResourceNamesResponse)
    return any(r.name == name for r in resp.resources)


# -- a call cut short says so ------------------------------------------------------------


def test_go_for_stopped_by_another_client_is_aborted_at_the_caller(serve: Any, callers: Callable[..., Caller]) -> None:
    proc = serve(SERVED)
    b, c = callers(proc.address), callers(proc.address, session=False)
    call = b.go_for("motor1", 60, 100)
    assert wait_for(lambda: c.moving("motor1"), 10)
    c.stop("motor1")
    err = call.result(timeout=10)
    assert isinstance(err, grpc.RpcError), "a go_for cut short by another caller's Stop returned success"
    assert err.code() == grpc.StatusCode.ABORTED
    assert "motor 'motor1': go_for was stopped by a Stop after " in err.details()
    assert "of 100 revolutions" in err.details()
    # and a new command from another caller: superseded
    call = b.go_for("motor1", 60, 100)
    assert wait_for(lambda: c.moving("motor1"), 10)
    c.set_power("motor1", 0.2)
    err = call.result(timeout=10)
    assert isinstance(err, grpc.RpcError) and err.code() == grpc.StatusCode.ABORTED
    assert "go_for was superseded by a new command" in err.details()
    assert c.powered("motor1") == (True, pytest.approx(0.2))


def test_the_viam_sdk_caller_sees_aborted(demo_server: Any) -> None:
    from grpclib import Status
    from grpclib.exceptions import GRPCError
    from viam.components.motor import Motor

    async def body(robot: Any) -> Any:
        motor = Motor.from_robot(robot, "motor1")
        task = asyncio.ensure_future(motor.go_for(rpm=60, revolutions=100))
        for _ in range(1000):
            if await motor.is_moving():
                break
            await asyncio.sleep(0.01)
        await asyncio.to_thread(_stop_from_another_client, demo_server.address)
        try:
            await task
        except GRPCError as err:
            return err.status, err.message
        return "returned", ""

    status, message = run_viam_sdk(demo_server.address, body)
    assert status == Status.ABORTED, f"go_for cut short by another client's stop: {status} {message}"
    assert "go_for was stopped by a Stop" in message


def _stop_from_another_client(address: str) -> None:
    caller = Caller(address, session=False)
    try:
        caller.stop("motor1")
    finally:
        caller.close()


def test_aborted_travels_back_as_a_typed_error() -> None:
    from viamlite import errors, rpc
    from viamlite.client.status import error_for
    from viamlite.fastpath import errors as fp

    exc = errors.AbortedError("motor 'm': go_for was stopped by a Stop after 1 of 5 revolutions")
    assert rpc.code_for(exc) == rpc.Code.ABORTED and fp.code_for(exc) == rpc.Code.ABORTED
    assert isinstance(error_for("ABORTED", str(exc)), errors.AbortedError)
    assert isinstance(fp.error_for(int(rpc.Code.ABORTED), str(exc)), errors.AbortedError)

