"""The fast-path server and clients in one process: every message type, both stream transports,
serial framing over a socket pair, errors, auth, deadman and connection-drop stops."""
from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgpack
import pytest

from tests.rawclient import Raw
from viamlite.components.board import AnalogValue, Board
from viamlite.components.encoder import Encoder, EncoderPosition
from viamlite.components.motor import Motor, PowerState
from viamlite.components.movement_sensor import MovementSensor
from viamlite.components.sensor import Sensor
from viamlite.components.servo import Servo
from viamlite.errors import InvalidArgumentError, NotSupportedError
from viamlite.fastpath import schema as S
from viamlite.fastpath.aclient import AsyncFastPathClient
from viamlite.fastpath.client import FastPathClient
from viamlite.fastpath.errors import AuthError, CallError, NotFound
from viamlite.fastpath.framing import encode_serial, encode_stream
from viamlite.fastpath.server import FastPathServer
from viamlite.machine import Machine
from viamlite.cli.serve import demo_config
from viamlite.spatial import Vector3


class _TestAuthenticator:
    """Test-only: one API key, tokens are 'token-for-<key id>'."""

    def __init__(self) -> None:
        self.keys = {"key-1": "s3cret"}

    def verify(self, token: str) -> str:
        if not token.startswith("token-for-") or token[10:] not in self.keys:
            raise PermissionError("the access token is not valid")
        return token[10:]

    def authenticate(self, key_id: str, key: str) -> str:
        if self.keys.get(key_id) != key:
            raise PermissionError(f"API key {key_id!r} is not valid")
        return f"token-for-{key_id}"


def _start(tmp_path: Path, **kwargs: Any) -> SimpleNamespace:
    machine = Machine(demo_config())
    server = FastPathServer(machine, hello_timeout=2.0, frame_timeout=0.5, **kwargs)
    _, port = server.listen_tcp("127.0.0.1:0")
    path = server.listen_unix(tmp_path / "fp.sock")
    return SimpleNamespace(machine=machine, server=server, tcp=f"127.0.0.1:{port}", unix=f"unix:{path}", path=path)


@pytest.fixture
def fast(tmp_path: Path) -> Iterator[SimpleNamespace]:
    env = _start(tmp_path)
    yield env
    env.server.stop()
    env.machine.close()


@pytest.fixture
def remote_only(tmp_path: Path) -> Iterator[SimpleNamespace]:
    env = _start(tmp_path, authenticator=_TestAuthenticator(), force_remote=True)
    yield env
    env.server.stop()
    env.machine.close()


def _wait_for(predicate: Any, limit: float = 2.0) -> float:
    """Seconds until ``predicate()`` held (fails after ``limit``)."""
    t0 = time.monotonic()
    while not predicate():
        assert time.monotonic() - t0 < limit, "condition not reached in time"
        time.sleep(0.001)
    return time.monotonic() - t0


# -- request/reply ------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_call_resolve_ping_over_stream_transports(fast: SimpleNamespace, transport: str) -> None:
    with FastPathClient.connect(getattr(fast, transport)) as fp:
        assert fp.info["version"] == S.VERSION and "setpoints" in fp.info["caps"]
        handle = fp.resolve("servo1")
        assert handle.api == "rdk:component:servo" and {10, 11, 4}.issubset(handle.methods)
        assert fp.resolve("servo1", "servo").number == handle.number
        fp.call(handle, "move", 42)
        assert fp.call(handle, "get_position") == 42
        assert fp.call(handle, S.by_name("servo", "get_position").id) == 42
        assert fast.machine["servo1"].get_position() == 42
        assert fp.ping() > 0


def test_resource_interfaces_over_the_fast_path(fast: SimpleNamespace) -> None:
    with FastPathClient.connect(fast.tcp) as fp:
        servo = Servo.from_robot(fp, "servo1")
        assert isinstance(servo, Servo)
        servo.move(angle_deg=33)
        assert servo.get_position() == 33
        motor = Motor.from_robot(fp, "motor1")
        motor.set_power(0.5)
        assert motor.is_powered() == PowerState(True, 0.5) and motor.is_moving()
        motor.stop()
        assert not motor.is_moving()
        board = Board.from_robot(fp, "board1")
        board.set_gpio(7, True)  # an integer pin is its decimal name
        assert board.get_gpio("7") is True
        board.write_analog("A1", 512)
        value = board.read_analog("A1")
        assert isinstance(value, AnalogValue) and value.value == 512
        with pytest.raises(NotSupportedError):
            board.stream_ticks(["a"])
        encoder = Encoder.from_robot(fp, "encoder1")
        assert isinstance(encoder.get_position(), EncoderPosition)
        readings = Sensor.from_robot(fp, "sensor1").get_readings()
        assert isinstance(readings, dict) and readings
        velocity = MovementSensor.from_robot(fp, "movement_sensor1").get_linear_velocity()
        assert isinstance(velocity, Vector3)
        fp.call("base1", "set_power", [0.5, 0, 0], {"x": 0, "y": 0, "z": 0.1})
        assert fast.machine["base1"].is_moving()
        assert fp.call("switch1", "get_number_of_positions")[0] == 3


def test_pipelined_calls_keep_their_ids(fast: SimpleNamespace) -> None:
    with FastPathClient.connect(fast.tcp) as fp:
        handle = fp.resolve("servo1")
        fp.call(handle, "move", 90)
        assert fp.pipeline(handle, "get_position", [()] * 500) == [90] * 500


def test_long_call_does_not_hold_up_quick_ones(fast: SimpleNamespace) -> None:
    raw = Raw(fast.tcp)
    raw.hello()
    raw.send([S.RESOLVE, 2, "motor1", None])
    motor = raw.recv()[2][0]
    raw.send([S.CALL, 3, motor, 21, [600, 1]])  # go_for: 1 revolution at max_rpm 120 -> 0.5 s
    raw.send([S.CALL, 4, motor, 25, []])  # get_position, answered while go_for runs
    first, second = raw.recv(), raw.recv()
    assert first[:2] == [S.RESULT, 4] and second[:2] == [S.RESULT, 3]
    raw.close()


# -- errors ---------------------------------------------------------------------------------


def test_typed_errors(fast: SimpleNamespace) -> None:
    with FastPathClient.connect(fast.tcp) as fp:
        handle = fp.resolve("servo1")
        with pytest.raises(InvalidArgumentError, match="out of range"):
            fp.call(handle, "move", 500)
        with pytest.raises(InvalidArgumentError, match=r"move\(angle_deg\) takes 1 argument; got 2"):
            fp.call(handle, "move", 1, 2)
        with pytest.raises(InvalidArgumentError, match="must be a number"):
            fp.call(handle, "move", "ninety")
        with pytest.raises(NotSupportedError, match="only by the fast-path firmware"):
            fp.call(handle, "attach", 9)
        with pytest.raises(NotSupportedError, match="unknown method id 99"):
            fp._request([S.CALL, None, handle.number, 99, []])
        with pytest.raises(NotSupportedError, match="not a method of servo"):
            fp._request([S.CALL, None, handle.number, 40, ["1", True]])
        with pytest.raises(NotFound, match="unknown handle 77"):
            fp._request([S.CALL, None, 77, 11, []])
        with pytest.raises(NotFound, match="'nope'"):
            fp.resolve("nope")
        with pytest.raises(CallError) as info:
            fp.subscribe(handle, "move", 10, rate_hz=10)
        assert info.value.code == S.Err.INVALID_ARGUMENT
        assert fp.call(handle, "get_position") == 0  # the session goes on


def test_garbage_and_bad_messages_get_error_replies(fast: SimpleNamespace) -> None:
    raw = Raw(fast.tcp)
    raw.hello()
    raw.send_bytes(encode_stream(b"\xc1\xc1\xc1"))  # not msgpack
    assert raw.recv()[:3] == [S.ERROR, 0, S.Err.INVALID_ARGUMENT]
    raw.send({"not": "an array"})
    assert raw.recv()[:3] == [S.ERROR, 0, S.Err.INVALID_ARGUMENT]
    raw.send([77, 5])
    assert raw.recv()[:3] == [S.ERROR, 5, S.Err.UNIMPLEMENTED]
    raw.send([S.CALL, 6, 1])
    reply = raw.recv()
    assert reply[:3] == [S.ERROR, 6, S.Err.INVALID_ARGUMENT] and "CALL has 5 elements" in reply[3]
    raw.send([S.CALL, "x", 1, 11, []])
    assert raw.recv()[:3] == [S.ERROR, 0, S.Err.INVALID_ARGUMENT]
    raw.send([S.SETPOINT, 42, 1, [10]])
    event = raw.recv()
    assert event[0] == S.EVENT and event[3] == S.Err.NOT_FOUND
    raw.send([S.PING, 9])
    assert raw.recv()[:2] == [S.RESULT, 9]
    raw.close()


def test_first_message_must_be_hello(fast: SimpleNamespace) -> None:
    raw = Raw(fast.tcp)
    raw.send([S.PING, 1])
    goodbye = raw.recv()
    assert goodbye[0] == S.GOODBYE and "first message must be HELLO" in goodbye[2]
    assert raw.closed()


def test_unsupported_version_is_refused(fast: SimpleNamespace) -> None:
    raw = Raw(fast.tcp)
    raw.send([S.HELLO, 1, 0, {}])
    goodbye = raw.recv()
    assert goodbye[0] == S.GOODBYE and "version 0 is not supported" in goodbye[2]


def test_oversized_frame_closes_with_a_reason_and_others_go_on(fast: SimpleNamespace) -> None:
    with FastPathClient.connect(fast.unix) as other:
        raw = Raw(fast.tcp)
        raw.hello()
        raw.send_bytes((fast.server.max_frame + 1).to_bytes(4, "big") + b"x" * 100)
        goodbye = raw.recv()
        assert goodbye[0] == S.GOODBYE and goodbye[1] == S.Err.RESOURCE_EXHAUSTED and "limit" in goodbye[2]
        assert raw.closed()
        other.call("servo1", "move", 12)
        assert other.call("servo1", "get_position") == 12


def test_truncated_frame_times_out_with_a_reason(fast: SimpleNamespace) -> None:
    raw = Raw(fast.tcp)
    raw.hello()
    raw.send_bytes(encode_stream(msgpack.packb([S.PING, 2]))[:-1])
    goodbye = raw.recv()
    assert goodbye[0] == S.GOODBYE and "incomplete" in goodbye[2]
    assert raw.closed()


# -- auth --------------------------------------------------------------------------------------


def test_remote_peer_needs_credentials(remote_only: SimpleNamespace) -> None:
    with pytest.raises(AuthError, match="not from loopback"):
        FastPathClient.connect(remote_only.tcp)
    with pytest.raises(AuthError, match="not valid"):
        FastPathClient.connect(remote_only.tcp, token="token-for-someone")
    with pytest.raises(AuthError, match="'key-1' is not valid"):
        FastPathClient.connect(remote_only.tcp, key_id="key-1", key="wrong")
    with FastPathClient.connect(remote_only.tcp, key_id="key-1", key="s3cret") as fp:
        assert fp.info["token"] == "token-for-key-1"
        fp.call("servo1", "move", 5)
    with FastPathClient.connect(remote_only.tcp, token="token-for-key-1") as fp:
        assert fp.call("servo1", "get_position") == 5


def test_loopback_needs_no_credentials_when_auth_is_on(tmp_path: Path) -> None:
    env = _start(tmp_path, authenticator=_TestAuthenticator())
    try:
        with FastPathClient.connect(env.tcp) as fp:
            assert fp.call("servo1", "get_position") == 0
    finally:
        env.server.stop()
        env.machine.close()


# -- subscriptions -----------------------------------------------------------------------------


def test_subscribe_iterator_unsubscribe(fast: SimpleNamespace) -> None:
    with FastPathClient.connect(fast.tcp) as fp:
        fp.call("servo1", "move", 77)
        with fp.subscribe("servo1", "get_position", rate_hz=200) as sub:
            samples = [sub.next(timeout=5) for _ in range(20)]
        assert [s.value for s in samples] == [77] * 20
        assert all(b.seq > a.seq for a, b in zip(samples, samples[1:]))
        assert all(b.t_ns > a.t_ns for a, b in zip(samples, samples[1:]))
        assert sub.channel not in fast.server.connections[0]._channels
        assert fp.call("servo1", "get_position") == 77  # calls go on after
        with pytest.raises(NotFound):
            fp._request([S.UNSUBSCRIBE, None, sub.channel])


def test_subscribe_callback_while_calling(fast: SimpleNamespace) -> None:
    got: list[Any] = []
    enough = threading.Event()

    def on_sample(sample: Any) -> None:
        got.append(sample)
        if len(got) >= 15:
            enough.set()

    with FastPathClient.connect(fast.tcp) as fp:
        sub = fp.subscribe("sensor1", "get_readings", rate_hz=100, callback=on_sample)
        for angle in range(10, 40):
            fp.call("servo1", "move", angle)  # calls and callbacks share the connection
        assert fp.call("servo1", "get_position") == 39
        assert enough.wait(5)
        sub.close()
        assert all(isinstance(s.value, dict) for s in got)


def test_failed_samples_arrive_as_events(fast: SimpleNamespace) -> None:
    encoder = fast.machine["encoder1"]
    real = encoder.get_position
    broken = threading.Event()

    def failing_after_the_first(*args: Any, **kwargs: Any) -> Any:
        if broken.is_set():
            raise InvalidArgumentError("encoder 'encoder1': the sensor stopped answering")
        return real(*args, **kwargs)

    encoder.get_position = failing_after_the_first
    with FastPathClient.connect(fast.tcp) as fp:
        with pytest.raises(InvalidArgumentError, match="unknown position type"):
            fp.subscribe("encoder1", "get_position", 9, rate_hz=50)  # the trial call refuses it: no channel
        sub = fp.subscribe("encoder1", "get_position", rate_hz=50)
        broken.set()
        _wait_for(lambda: fp.call("servo1", "get_position") is not None and sub.events, 3)
        assert sub.events[0].code == S.Err.INVALID_ARGUMENT and "stopped answering" in sub.events[0].message
        sub.close()


# -- setpoint streams and safety ---------------------------------------------------------------


def test_setpoint_stream_and_deadman_stop(fast: SimpleNamespace) -> None:
    servo = fast.machine["servo1"]
    with FastPathClient.connect(fast.tcp) as fp:
        stream = fp.setpoints("servo1", "move", timeout=0.25)  # wide enough that a busy CI host keeps up
        for angle in range(60, 80):
            stream.send(angle)
            time.sleep(0.002)
        servo.clear_events()
        last = time.monotonic()
        event = stream.wait_event(2.0)
        assert event.code == S.Err.DEADLINE_EXCEEDED and "deadman" in event.message and event.seq == 20
        stops = [e for e in servo.events if e.method == "stop"]
        assert stops, "the deadman did not stop the servo"
        delay = stops[0].time - last
        print(f"\ndeadman stop {delay * 1000:.1f} ms after the last setpoint (timeout 250 ms)")
        assert delay < 2.0
        assert fp.call("servo1", "get_position") == 79
        stream.send(10)  # a later setpoint re-arms the stream
        _wait_for(lambda: servo.get_position() == 10)
        stream.close()
        with pytest.raises(NotFound):
            fp._request([S.CLOSE_STREAM, None, stream.channel])


def test_stale_setpoints_are_dropped(fast: SimpleNamespace) -> None:
    raw = Raw(fast.tcp)
    raw.hello()
    raw.send([S.RESOLVE, 2, "servo1", None])
    handle = raw.recv()[2][0]
    raw.send([S.OPEN_STREAM, 3, handle, 10, 1000])
    channel = raw.recv()[2]
    raw.send([S.SETPOINT, channel, 5, [50]])
    raw.send([S.SETPOINT, channel, 4, [40]])  # late: dropped
    raw.send([S.PING, 4])
    assert raw.recv()[:2] == [S.RESULT, 4]
    assert fast.machine["servo1"].get_position() == 50
    raw.close()


def test_setpoint_streams_need_an_actuator_and_a_quick_method(fast: SimpleNamespace) -> None:
    with FastPathClient.connect(fast.tcp) as fp:
        with pytest.raises(InvalidArgumentError, match="cannot take setpoints"):
            fp.setpoints("board1", "set_pwm", timeout=0.1)  # not a setpoint method
        with pytest.raises(InvalidArgumentError, match="cannot take setpoints"):
            fp.setpoints("motor1", "go_for", timeout=0.1)
        with pytest.raises(InvalidArgumentError, match="timeout_ms"):
            fp.setpoints("servo1", "move", timeout=0.001)


def test_connection_drop_stops_what_it_moved(fast: SimpleNamespace) -> None:
    motor = fast.machine["motor1"]
    fp = FastPathClient.connect(fast.tcp)
    fp.call("motor1", "set_power", 0.4)
    fp.call("servo1", "get_position")  # a read: not stopped
    assert motor.is_moving()
    t0 = time.monotonic()
    fp.sock.close()  # dropped without a goodbye
    delay = _wait_for(lambda: not motor.is_moving())
    print(f"\nconnection drop: motor stopped {(time.monotonic() - t0) * 1000:.1f} ms after the socket closed")
    assert delay < 2.0
    assert [e.method for e in fast.machine["servo1"].events if e.method == "stop"] == []


def test_long_call_is_cancelled_when_the_connection_drops(fast: SimpleNamespace) -> None:
    motor = fast.machine["motor1"]
    raw = Raw(fast.tcp)
    raw.hello()
    raw.send([S.RESOLVE, 2, "motor1", None])
    handle = raw.recv()[2][0]
    raw.send([S.CALL, 3, handle, 21, [10, 100]])  # go_for 100 revolutions at 10 rpm: ten minutes
    _wait_for(motor.is_moving)
    raw.close()
    _wait_for(lambda: not motor.is_moving())
    _wait_for(lambda: not fast.machine.operations.list())


def test_session_timeout_stops_what_it_moved(fast: SimpleNamespace) -> None:
    motor = fast.machine["motor1"]
    with FastPathClient.connect(fast.tcp, session_timeout=0.1) as fp:
        fp.call("motor1", "set_rpm", 30)
        delay = _wait_for(lambda: not motor.is_moving())
        print(f"\nsession timeout 100 ms: motor stopped after {delay * 1000:.1f} ms of silence")
        assert fp.call("servo1", "get_position") == 0  # the session itself goes on
        assert fp.events and "session" in fp.events[0].message


# -- serial framing, async client ---------------------------------------------------------


def test_serial_framing_over_a_socket_pair_with_noise(fast: SimpleNamespace) -> None:
    ours, theirs = socket.socketpair()
    conn = fast.server.serve_socket(theirs, peer="serial-test", framing="serial")
    fp = FastPathClient(ours, framing="serial")
    fp.hello()
    handle = fp.resolve("servo1")
    ours.sendall(b"\x13\x37\xfe\x00\x00")  # line noise, then a delimiter: the server drops it and resyncs
    fp.call(handle, "move", 21)
    corrupt = bytearray(encode_serial(msgpack.packb([S.CALL, 500, handle.number, 10, [99]])))
    corrupt[3] ^= 0x04
    ours.sendall(bytes(corrupt))  # CRC failure: dropped, never executed
    assert fp.call(handle, "get_position") == 21
    assert conn.decoder.dropped >= 2
    fp.close()


def test_async_client(fast: SimpleNamespace) -> None:
    async def main() -> None:
        async with await AsyncFastPathClient.connect(fast.unix) as fp:
            assert fp.info["version"] == S.VERSION
            servo = fp.resource(Servo.API, "servo1")
            await servo.move(64)
            assert await servo.get_position() == 64
            assert await fp.call("servo1", 11) == 64
            assert await fp.ping() > 0
            with pytest.raises(InvalidArgumentError):
                await servo.move(999)
            sub = await fp.subscribe("servo1", "get_position", rate_hz=200)
            seqs = []
            async for sample in sub:
                seqs.append(sample.seq)
                if len(seqs) == 10:
                    break
            await sub.close()
            assert seqs == sorted(seqs)
            value = await fp.resource(Board.API, "board1").read_analog("A2")
            assert isinstance(value, AnalogValue)
            stream = await fp.setpoints("servo1", "move", timeout=0.05)
            await stream.send(70)
            event = await stream.wait_event(2.0)
            assert "deadman" in event.message
            await stream.close()

    asyncio.run(main())
    assert fast.machine["servo1"].get_position() == 70


def test_server_stop_removes_the_unix_socket(tmp_path: Path) -> None:
    env = _start(tmp_path)
    fp = FastPathClient.connect(env.tcp)
    fp.call("motor1", "set_power", 0.3)
    env.server.stop()
    assert not env.path.exists() if isinstance(env.path, Path) else not Path(env.path).exists()
    assert not env.machine["motor1"].is_moving()
    with pytest.raises(Exception):
        fp.call("servo1", "get_position", timeout=2)
    env.machine.close()


def test_a_session_ends_when_its_key_is_removed_from_the_config(tmp_path: Path) -> None:
    import time

    from viamlite.auth import Authority
    from viamlite.fastpath.serverprotocol import AUTH_RECHECK_S
    from viamlite.names import API

    keys = {"key-1": "s3cret"}
    env = _start(tmp_path, authenticator=Authority(lambda: keys, 3600), force_remote=True)
    try:
        with FastPathClient.connect(env.tcp, key_id="key-1", key="s3cret") as fp:
            fp.call("servo1", "move", 12)
            del keys["key-1"]  # as a live config reload does
            time.sleep(AUTH_RECHECK_S + 0.1)
            with pytest.raises(Exception) as info:
                fp.call("servo1", "move", 13)
            assert "revoked" in str(info.value) or "no longer valid" in str(info.value), info.value
        assert env.machine.resource(API.component("servo"), "servo1").get_position() == 12
    finally:
        env.server.stop()
        env.machine.close()
