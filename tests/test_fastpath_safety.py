"""Safety on the fast path: deadmen and session timeouts re-arm for the life of a stream or
session, a channel's RESULT comes before its first message, a session stops only what it
was the last to move, and the server holds up under connection churn and bursts."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgpack
import pytest

from tests.test_fastpath_server import Raw, _start, _wait_for, fast  # noqa: F401 (the fixture)
from viamlite.errors import InvalidArgumentError
from viamlite.fastpath import schema as S
from viamlite.fastpath.client import FastPathClient
from viamlite.fastpath.framing import encode_stream

SET_POWER, GO_FOR, GET_POSITION = 20, 21, 11


def _hello(raw: Raw, **options: Any) -> dict:
    raw.send([S.HELLO, 1, S.VERSION, options])
    reply = raw.recv()
    assert reply[:2] == [S.RESULT, 1], reply
    return reply[2]


def _resolve(raw: Raw, name: str, rid: int = 2) -> int:
    raw.send([S.RESOLVE, rid, name, None])
    reply = raw.recv()
    assert reply[0] == S.RESULT, reply
    return reply[2][0]


def _driving(address: str, power: float, timeout_ms: int, rid: int = 5) -> Raw:
    """A client whose session times out after ``timeout_ms`` has set motor1's power."""
    raw = Raw(address)
    _hello(raw, session_timeout_ms=timeout_ms)
    handle = _resolve(raw, "motor1")
    raw.send([S.CALL, rid, handle, SET_POWER, [power]])
    assert _next(raw, S.RESULT)[1] == rid
    return raw


def _next(raw: Raw, kind: int, channel: int | None = None, limit: float = 5.0) -> list:
    """The next message of ``kind`` (on ``channel``), skipping others."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        msg = raw.recv()
        if msg[0] == kind and (channel is None or msg[1] == channel):
            return msg
    raise AssertionError(f"no message of type {kind} on channel {channel}")


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_a_deadman_fires_is_rearmed_and_fires_again_three_times(fast: SimpleNamespace, transport: str) -> None:
    motor = fast.machine["motor1"]
    raw = Raw(getattr(fast, transport))
    _hello(raw)
    handle = _resolve(raw, "motor1")
    raw.send([S.OPEN_STREAM, 3, handle, SET_POWER, 50])
    reply = raw.recv()
    assert reply[:2] == [S.RESULT, 3]
    channel = reply[2]
    for round_ in range(3):
        raw.send([S.SETPOINT, channel, round_, [0.4]])
        _wait_for(motor.is_moving)
        event = _next(raw, S.EVENT, channel)
        assert event[3] == S.Err.DEADLINE_EXCEEDED and "deadman" in event[4], event
        assert event[2] == round_  # the seq of the last setpoint applied
        _wait_for(lambda: not motor.is_moving())
    raw.close()


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_a_session_timeout_fires_again_after_new_motion(fast: SimpleNamespace, transport: str) -> None:
    motor = fast.machine["motor1"]
    raw = Raw(getattr(fast, transport))
    _hello(raw, session_timeout_ms=100)
    handle = _resolve(raw, "motor1")
    for round_ in range(3):
        raw.send([S.CALL, 10 + round_, handle, SET_POWER, [0.4]])
        assert _next(raw, S.RESULT)[1] == 10 + round_
        event = _next(raw, S.EVENT, 0)
        assert event[3] == S.Err.DEADLINE_EXCEEDED and "motor1" in event[4], event
        assert event[2] == round_  # channel-0 EVENTs count from 0 in each session
        _wait_for(lambda: not motor.is_moving())
    raw.send([S.PING, 99])  # the session itself goes on
    assert _next(raw, S.RESULT)[1] == 99
    raw.close()


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_the_result_of_subscribe_and_open_stream_comes_before_the_channel(fast: SimpleNamespace,
                                                                           transport: str) -> None:
    raw = Raw(getattr(fast, transport))
    _hello(raw)
    servo = _resolve(raw, "servo1")
    motor = _resolve(raw, "motor1", rid=3)
    known: set[int] = set()

    def opened(rid: int) -> int:
        """Read up to the RESULT of ``rid``; a message on a channel no RESULT named yet fails."""
        while True:
            msg = raw.recv()
            if msg[0] in (S.SAMPLE, S.EVENT):
                assert msg[1] in known, f"{msg} arrived on channel {msg[1]} before the RESULT that names it"
            elif msg[:2] == [S.RESULT, rid]:
                known.add(msg[2])
                return msg[2]

    for i in range(20):
        rid = 100 + i
        raw.send([S.SUBSCRIBE, rid, servo, GET_POSITION, [], S.MAX_RATE_HZ])
        channel = opened(rid)
        raw.send([S.UNSUBSCRIBE, rid + 1000, channel])
    for i in range(5):  # the shortest deadman, and no setpoint: its EVENT follows the RESULT
        rid = 200 + i
        raw.send([S.OPEN_STREAM, rid, motor, SET_POWER, S.MIN_TIMEOUT_MS])
        channel = opened(rid)
        event = _next(raw, S.EVENT, channel)
        assert event[3] == S.Err.DEADLINE_EXCEEDED
    raw.close()


def test_an_expired_session_leaves_running_what_another_client_drives_now(fast: SimpleNamespace) -> None:
    motor = fast.machine["motor1"]
    a = _driving(fast.tcp, 0.4, 150)
    # A goes silent; B takes the motor over before A's session times out
    with FastPathClient.connect(fast.tcp) as b:
        b.call("motor1", "set_power", -0.3)
        event = _next(a, S.EVENT, 0)
        assert "; stopped nothing" in event[4] and "stopped motor1" not in event[4], event
        a.close()  # and A's connection ends too
        _wait_for(lambda: not fast.server.connections or len(fast.server.connections) == 1)
        assert motor.is_moving() and motor.is_powered().power_pct == pytest.approx(-0.3)
        # B's own blocking move goes on to the end while a new silent session expires
        c = _driving(fast.tcp, 0.2, 100, rid=6)
        done: list[Any] = []
        thread = threading.Thread(target=lambda: done.append(b.call("motor1", "go_for", 100, 0.5)))
        thread.start()
        _next(c, S.EVENT, 0)  # C's session timed out while B's go_for runs
        thread.join(10)
        assert done == [None]  # completed, not cut short
        c.close()
    # B's connection ended: B was the last to move the motor, so it is stopped
    _wait_for(lambda: not motor.is_moving())


def test_an_expired_session_still_stops_what_it_was_last_to_move(fast: SimpleNamespace) -> None:
    motor = fast.machine["motor1"]
    with FastPathClient.connect(fast.tcp) as b:
        b.call("motor1", "set_power", 0.3)
        a = _driving(fast.tcp, 0.6, 100)  # A moved it after B
        event = _next(a, S.EVENT, 0)
        assert "stopped motor1" in event[4], event
        assert not motor.is_moving()
        a.close()


@pytest.mark.parametrize("first", [b"\xc1", msgpack.packb("hello"), msgpack.packb({"0": 1}), msgpack.packb(7)])
def test_anything_but_hello_first_ends_the_connection(fast: SimpleNamespace, first: bytes) -> None:
    raw = Raw(fast.tcp)
    raw.send_bytes(encode_stream(first))
    goodbye = raw.recv()
    assert goodbye[0] == S.GOODBYE and goodbye[1] == S.Err.FAILED_PRECONDITION
    assert "first message must be HELLO" in goodbye[2]
    assert raw.closed()  # at once, not after the HELLO timeout


def test_beyond_the_connection_limit_a_connection_gets_goodbye(tmp_path: Path) -> None:
    env = _start(tmp_path, max_connections=3)
    try:
        clients = [FastPathClient.connect(env.tcp) for _ in range(3)]
        extra = Raw(env.tcp)
        goodbye = extra.recv()
        assert goodbye[0] == S.GOODBYE and goodbye[1] == S.Err.RESOURCE_EXHAUSTED
        assert "at most 3 connections" in goodbye[2]
        assert extra.closed()
        assert all(c.ping() >= 0 for c in clients)  # the others are unaffected
        clients.pop().close()
        _wait_for(lambda: len(env.server.connections) == 2)
        with FastPathClient.connect(env.tcp) as again:
            assert again.call("servo1", "get_position") == 0
        for c in clients:
            c.close()
    finally:
        env.server.stop()
        env.machine.close()


def test_connection_churn_keeps_the_thread_count_bounded(fast: SimpleNamespace) -> None:
    """300 connections opened (each says HELLO), then closed, five times: the process's threads
    stay bounded throughout (`benchmarks/bench_churn.py` prints the memory figures)."""
    before = threading.active_count()
    peak = before
    hello = encode_stream(msgpack.packb([S.HELLO, 1, S.VERSION, {}]))
    host, port = fast.tcp.rsplit(":", 1)
    for _ in range(5):
        socks = []
        for _ in range(300):
            sock = socket.create_connection((host, int(port)), timeout=5)
            sock.sendall(hello)
            socks.append(sock)
        for sock in socks:
            assert msgpack.unpackb(sock.recv(65536)[4:])[0] == S.RESULT
        peak = max(peak, threading.active_count())
        _wait_for(lambda: len(fast.server.connections) == 300, limit=10)
        for sock in socks:
            sock.close()
        _wait_for(lambda: not fast.server.connections, limit=10)
        peak = max(peak, threading.active_count())
    assert peak <= before + 4, f"{peak} threads with 300 connections (from {before})"


def test_a_hung_driver_call_does_not_hold_up_other_connections(fast: SimpleNamespace) -> None:
    servo = fast.machine["servo1"]
    release = threading.Event()
    real = servo.get_position

    def hung(**kwargs: Any) -> Any:
        release.wait(10)
        return real(**kwargs)

    servo.get_position = hung
    a = Raw(fast.tcp)
    _hello(a)
    handle = _resolve(a, "servo1")
    a.send([S.CALL, 7, handle, GET_POSITION, []])
    with FastPathClient.connect(fast.tcp) as b:  # connected and served while A's call hangs
        assert b.call("motor1", "is_moving") is False
        b.ping()
    release.set()
    assert a.recv()[:2] == [S.RESULT, 7]
    a.send([S.PING, 8])  # A's connection is served again after its call returned
    assert a.recv()[:2] == [S.RESULT, 8]
    a.close()


def test_a_move_that_fails_takes_nothing_over(fast: SimpleNamespace) -> None:
    motor = fast.machine["motor1"]
    a = _driving(fast.tcp, 0.5, 150)
    with FastPathClient.connect(fast.tcp) as b:
        with pytest.raises(InvalidArgumentError, match="power"):
            b.call("motor1", "set_power", 5.0)  # refused: out of range
        event = _next(a, S.EVENT, 0)  # A's session times out: the motor is still A's to stop
        assert "stopped motor1" in event[4], event
        assert not motor.is_moving()
    a.close()


def test_a_long_call_still_queued_when_the_session_ends_never_runs(tmp_path: Path) -> None:
    env = _start(tmp_path, long_workers=1)
    try:
        motor = env.machine["motor1"]
        raw = Raw(env.tcp)
        _hello(raw)
        handle = _resolve(raw, "motor1")
        raw.send([S.CALL, 5, handle, GO_FOR, [60, 100]])  # the only worker runs this one
        _wait_for(motor.is_moving)
        raw.send([S.CALL, 6, handle, GO_FOR, [60, 0]])  # queued: would run on with no end
        raw.send([S.GOODBYE, 0, "done"])
        assert _next(raw, S.GOODBYE)[1] == S.Err.OK
        _wait_for(lambda: not env.machine.operations.list(), limit=5)
        time.sleep(0.2)  # the queued call has had its turn on the worker
        assert not motor.is_moving()
        assert [e.method for e in motor.events].count("go_for") == 1
    finally:
        env.server.stop()
        env.machine.close()


def test_a_session_timeout_during_a_hung_move_still_stops_it(fast: SimpleNamespace) -> None:
    motor = fast.machine["motor1"]
    real = motor.set_power

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)  # the session timeout (100 ms) passes while the driver hangs
        return real(*args, **kwargs)

    motor.set_power = slow
    raw = _driving(fast.tcp, 0.4, 100)  # the motor now runs, and the client stays silent
    _wait_for(lambda: not motor.is_moving(), limit=5)
    raw.close()


def test_a_reply_that_comes_after_its_caller_gave_up_is_dropped(fast: SimpleNamespace) -> None:
    servo = fast.machine["servo1"]
    real = servo.get_position
    release = threading.Event()

    def slow(**kwargs: Any) -> Any:
        release.wait(5)
        return real(**kwargs)

    servo.get_position = slow
    with FastPathClient.connect(fast.tcp) as fp:
        with pytest.raises(TimeoutError):
            fp.call("servo1", "get_position", timeout=0.2)
        release.set()
        assert fp.call("motor1", "is_moving") is False  # the late reply arrived meanwhile, and was dropped
        fp.ping()
        assert not fp._replies and not fp._abandoned
