"""The ATmega328P firmware, built with avr-gcc and run in the simulator, driven through
FastPathClient over the simulator's pty (docs/fastpath.md 3.1).

Needs the AVR toolchain and simavr: skipped when they are missing, failed instead when
VIAMLITE_REQUIRE_TOOLCHAIN=1 (CI). The header test needs neither.
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import msgpack
import pytest

from viamlite.fastpath import errors as E
from viamlite.fastpath import schema as S
from viamlite.fastpath.framing import crc16, encode_serial

ROOT = Path(__file__).resolve().parent.parent
BAUD = 500000
SERVO_PIN = 9


# -- the C header mirrors schema.py ---------------------------------------------------


def header_defines() -> dict[str, int]:
    text = (ROOT / "firmware" / "src" / "schema.h").read_text()
    return {m[1]: int(m[2]) for m in re.finditer(r"^#define\s+(\w+)\s+(\d+)\s*$", text, re.M)}


def test_schema_header_matches_schema_py():
    defs = header_defines()
    assert defs.pop("FP_VERSION") == S.VERSION
    messages = {k[4:]: v for k, v in defs.items() if k.startswith("MSG_")}
    assert messages == {name: number for number, name in S.MESSAGE_NAMES.items()}
    errors = {k[4:]: v for k, v in defs.items() if k.startswith("ERR_")}
    assert errors == {k: v for k, v in vars(S.Err).items() if k.isupper()}
    methods = {k[2:]: v for k, v in defs.items() if k.startswith("M_")}
    assert sorted(methods.values()) == sorted(S.FIRMWARE_METHODS)
    for name, number in methods.items():
        spec = S.BY_ID[number]
        expected = spec.name.upper() if spec.api == "*" else f"{spec.api}_{spec.name}".upper()
        assert name == expected, f"schema.h M_{name} = {number} but schema.py calls {number} {spec.api}.{spec.name}"
    assert defs["MAX_RATE_HZ"] == S.MAX_RATE_HZ
    assert (defs["MIN_TIMEOUT_MS"], defs["MAX_TIMEOUT_MS"]) == (S.MIN_TIMEOUT_MS, S.MAX_TIMEOUT_MS)


# -- the simulator ----------------------------------------------------------------------


def need_toolchain() -> None:
    from hil.build import toolchain_missing

    missing = toolchain_missing()
    if missing:
        if os.environ.get("VIAMLITE_REQUIRE_TOOLCHAIN") == "1":
            pytest.fail(f"the firmware tests need the AVR toolchain and simavr: {missing}")
        pytest.skip(f"the firmware tests need the AVR toolchain and simavr: {missing}")


@pytest.fixture(scope="module")
def sim():
    need_toolchain()
    from hil.build import build_firmware
    from hil.sim import Simulator

    elf = build_firmware(BAUD)
    with Simulator(elf, report_every=3600) as simulator:   # no periodic pace lines among command replies
        yield simulator


def connect(sim, **hello):
    from viamlite.fastpath.serialport import open_serial

    return open_serial(sim.link or sim.pty, BAUD, timeout=2.0, **hello)


@pytest.fixture
def fw(sim):
    client = connect(sim)
    yield client
    client.close()


def raw(fw, payload: bytes) -> None:
    """Send one frame as is (any payload, even one that is not msgpack)."""
    fw._send(encode_serial(payload))


def reply_to(fw, rid: int, timeout: float = 2.0) -> list:
    fw._pump(lambda: rid in fw._replies, timeout)
    with fw._cond:
        return fw._replies.pop(rid)


def widths(sim, pin: int, count: int = 4) -> list[float]:
    since = sim.now_us()
    pulses = sim.wait_pulses(pin, count + 1, timeout=5.0, since_t_us=since)
    return [w for _, w in pulses[1:count + 1]]


def wait_level(sim, pin: int, level: int, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not (sim.edges(pin) and sim.edges(pin)[-1]["level"] == level):
        assert time.monotonic() < deadline, f"pin {pin} never went to {level} in the trace"
        time.sleep(0.02)


# -- handshake and names ------------------------------------------------------------------


def test_hello_fields(fw):
    info = fw.info
    assert info["version"] == 1
    assert info["device"] == "viamlite-fw atmega328p"
    assert info["fw"] == "0.1.0"
    assert set(info["caps"]) == {"call", "subscribe", "setpoints", "ping", "watchdog"}
    assert tuple(info["methods"]) == S.FIRMWARE_METHODS
    assert info["max_frame"] == 128
    assert info["reset"] in ("power-on", "external", "watchdog", "brown-out", "software")
    assert (info["servos"], info["encoders"]) == (4, 2)
    assert isinstance(info["time_ns"], int) and info["time_ns"] > 0
    assert fw.ping() > 0


def test_resolve(fw):
    expected = {"board": (1, "board"), "servo0": (2, "servo"), "servo3": (5, "servo"),
                "encoder0": (6, "encoder"), "encoder1": (7, "encoder")}
    for name, (number, subtype) in expected.items():
        h = fw.resolve(name)
        assert (h.number, h.api) == (number, f"rdk:component:{subtype}")
    assert fw.resolve("servo1", "servo").number == 3
    assert fw.resolve("servo2", "rdk:component:servo").number == 4
    assert set(fw.resolve("servo0").methods) == {3, 4, 5, 10, 11, 12, 13, 14}
    assert set(fw.resolve("board").methods) == {3, 4, 5, 40, 41, 46, 50}
    assert set(fw.resolve("encoder0").methods) == {3, 4, 5, 60, 61, 63}
    with pytest.raises(E.NotFound, match="servo0..servo3, encoder0, encoder1"):
        fw.resolve("servo9")
    with pytest.raises(E.NotFound, match="no resource named 'servo0' of api 'motor'; names: board, servo0"):
        fw.resolve("servo0", "motor")
    with pytest.raises(E.NotFound, match="encoder1$"):
        fw.resolve("a-very-long-resource-name-indeed", "rdk:component:a-long-api-name-too")


# -- servos ---------------------------------------------------------------------------------


def test_servo_attach_move_and_pulse_widths(fw, sim):
    servo = fw.resolve("servo0")
    with pytest.raises(E.FailedPrecondition, match="servo0 is not attached; call attach"):
        fw.call(servo, "move", 90)
    fw.call(servo, "attach", SERVO_PIN, 500, 2500)
    status = fw.call(servo, "get_status")
    assert status["attached"] and status["pin"] == SERVO_PIN and (status["min_us"], status["max_us"]) == (500, 2500)
    worst = 0.0
    for angle, pulse in ((0, 500), (90, 1500), (180, 2500)):
        fw.call(servo, "move", angle)
        assert fw.call(servo, "get_position") == angle
        assert fw.call(servo, "get_state")[:2] == [angle, pulse]
        measured = widths(sim, SERVO_PIN)
        worst = max(worst, *(abs(w - pulse) for w in measured))
        assert all(abs(w - pulse) <= 10 for w in measured), (angle, measured)
    print(f"servo pulses: worst deviation {worst:.3f} us over 0/90/180 degrees")
    periods = [e["period_us"] for e in sim.edges(SERVO_PIN)[-6:] if "period_us" in e]
    assert periods and all(abs(p - 20000) <= 10 for p in periods)
    assert fw.call(servo, "is_moving") is False
    assert fw.call(servo, "stop") is None
    fw.call(servo, "detach")
    assert fw.call(servo, "get_status")["attached"] is False


def test_servo_custom_range_rounding(fw, sim):
    servo = fw.resolve("servo1")
    fw.call(servo, "attach", 10, 1000, 2000)
    fw.call(servo, "move", 45)
    assert fw.call(servo, "get_state")[1] == 1250
    fw.call(servo, "move", 1)   # 1000 + 1000/180 = 1005.6 -> 1006
    assert fw.call(servo, "get_state")[1] == 1006
    assert all(abs(w - 1006) <= 10 for w in widths(sim, 10, 2))
    fw.call(servo, "detach")


def test_servo_argument_errors(fw):
    servo = fw.resolve("servo2")
    with pytest.raises(E.InvalidArgument, match="serial line"):
        fw.call(servo, "attach", 1)
    with pytest.raises(E.InvalidArgument, match="no such pin"):
        fw.call(servo, "attach", 25)
    with pytest.raises(E.InvalidArgument, match="400..2600"):
        fw.call(servo, "attach", 11, 2000, 1000)
    fw.call(servo, "attach", "D11")
    assert fw.call(servo, "get_status")["pin"] == 11
    for bad in (181, -1, 1.5, "90"):
        with pytest.raises(E.InvalidArgument, match="0..180"):
            fw.call(servo, "move", bad)
    with pytest.raises(E.InvalidArgument, match="takes 1 argument"):
        fw._request([S.CALL, None, servo.number, 10, [1, 2]])
    board = fw.resolve("board")
    with pytest.raises(E.FailedPrecondition, match="pin 11 is used by servo2"):
        fw.call(board, "set_gpio", 11, True)
    with pytest.raises(E.FailedPrecondition, match="used by servo2"):
        fw.call("servo3", "attach", 11)
    with pytest.raises(E.NotSupported, match="has no method 40"):
        fw._request([S.CALL, None, servo.number, 40, [3, True]])
    with pytest.raises(E.NotFound, match="handle 9"):
        fw._request([S.CALL, None, 9, 3, []])
    fw.call(servo, "detach")
    fw.call(board, "set_gpio", 11, False)   # free again


# -- board ----------------------------------------------------------------------------------


def test_gpio(fw, sim):
    board = fw.resolve("board")
    fw.call(board, "set_gpio", 4, True)
    assert fw.call(board, "get_gpio", 4) is True
    wait_level(sim, 4, 1)
    fw.call(board, "set_gpio", "4", False)
    assert fw.call(board, "get_gpio", 4) is False
    for level in (1, 0, 1):
        sim.drive_pin(7, level)
        assert fw.call(board, "get_gpio", 7) is bool(level)
    sim.drive_pin(7, None)
    with pytest.raises(E.InvalidArgument, match="serial line"):
        fw.call(board, "set_gpio", 0, True)
    with pytest.raises(E.InvalidArgument, match="bool"):
        fw.call(board, "set_gpio", 5, "yes")


def test_read_analog(fw, sim):
    board = fw.resolve("board")
    for millivolts in (0, 1250, 2500, 5000):
        sim.inject_analog(2, millivolts)
        expected = min(1023, round(millivolts * 1024 / 5000))
        for pin in (2, 16, "A2"):
            value, lo, hi, step = fw.call(board, "read_analog", pin)
            assert abs(value - expected) <= 2, (millivolts, pin, value)
            assert (lo, hi, step) == (0.0, 5.0, 0.0048828125)
    with pytest.raises(E.InvalidArgument, match="0..5 or 14..19"):
        fw.call(board, "read_analog", 9)


def test_measure_pulse(fw, sim):
    servo, board = fw.resolve("servo3"), fw.resolve("board")
    fw.call(servo, "attach", 12)
    fw.call(servo, "move", 90)
    widths(sim, 12, 1)
    measured = fw.call(board, "measure_pulse", 12, 100)
    assert abs(measured - 1500) <= 10
    with pytest.raises(E.DeadlineExceeded, match="no complete high pulse on pin 8 within 30 ms"):
        fw.call(board, "measure_pulse", 8, 30)
    with pytest.raises(E.InvalidArgument, match="1..10000"):
        fw.call(board, "measure_pulse", 8, 0)
    fw.call(servo, "detach")


# -- encoders -------------------------------------------------------------------------------


def test_encoder_counts_quadrature(fw, sim):
    enc = fw.resolve("encoder0")
    with pytest.raises(E.FailedPrecondition, match="encoder0 is not attached"):
        fw.call(enc, "get_position")
    fw.call(enc, "attach", 2, 3)
    assert fw.call(enc, "get_position") == [0, 1]
    sim.quadrature(2, 3, 100, 2000)
    assert fw.call(enc, "get_position") == [100, 1]
    sim.quadrature(2, 3, -140, 2000)
    assert fw.call(enc, "get_position", 1) == [-40, 1]
    status = fw.call(enc, "get_status")
    assert status == {"attached": True, "pin_a": 2, "pin_b": 3, "count": -40}
    fw.call(enc, "reset_position")
    assert fw.call(enc, "get_position")[0] == 0
    with pytest.raises(E.InvalidArgument, match="ticks only"):
        fw.call(enc, "get_position", 2)
    with pytest.raises(E.FailedPrecondition, match="used by encoder0"):
        fw.call("servo0", "attach", 3)
    with pytest.raises(E.InvalidArgument, match="must differ"):
        fw.call("encoder1", "attach", 5, 5)


# -- subscriptions and setpoint streams -------------------------------------------------------


def test_subscription_sequence_and_rate(fw):
    servo = fw.resolve("servo0")
    fw.call(servo, "attach", SERVO_PIN)
    fw.call(servo, "move", 30)
    rate = 250
    with fw.subscribe(servo, "get_state", rate_hz=rate) as sub:
        samples = [sub.next(timeout=2.0) for _ in range(60)]
    seqs = [s.seq for s in samples]
    assert seqs == list(range(seqs[0], seqs[0] + 60)), seqs
    assert all(s.value[:2] == [30, 833] for s in samples)
    span_ns = samples[-1].t_ns - samples[0].t_ns
    period_us = span_ns / 1000 / 59
    print(f"subscription at {rate} Hz: mean device period {period_us:.1f} us")
    assert abs(period_us - 1e6 / rate) < 0.02 * 1e6 / rate
    with fw.subscribe(servo, "get_position", rate_hz=62.5) as sub:   # a float rate: 16 ms
        first, last = sub.next(timeout=2.0), [sub.next(timeout=2.0) for _ in range(10)][-1]
    assert last.seq - first.seq == 10 and abs((last.t_ns - first.t_ns) / 10 - 16e6) < 0.02 * 16e6
    board = fw.resolve("board")
    with fw.subscribe(board, "get_gpio", 6, rate_hz=100) as sub:
        assert isinstance(sub.next(timeout=2.0).value, bool)
    with pytest.raises(E.InvalidArgument, match="rate_hz"):
        fw.subscribe(servo, "get_state", rate_hz=5000)
    with pytest.raises(E.InvalidArgument, match="only reads"):
        fw.subscribe(servo, "move", 3, rate_hz=10)
    subs = [fw.subscribe(servo, "get_position", rate_hz=1) for _ in range(4)]
    with pytest.raises(E.ResourceExhausted, match="channels are in use"):
        fw.subscribe(servo, "get_position", rate_hz=1)
    for sub in subs:
        sub.close()
    with pytest.raises(E.NotFound, match="no subscription on channel 9"):
        fw._request([S.UNSUBSCRIBE, None, 9])


def test_setpoint_stream_and_deadman(fw):
    servo = fw.resolve("servo0")
    fw.call(servo, "attach", SERVO_PIN)
    before = fw.call(servo, "get_state")[3]
    with fw.setpoints(servo, "move", timeout=0.05) as stream:
        for angle in (10, 20, 30):
            stream.send(angle)
        fw._send(encode_serial(msgpack.packb([S.SETPOINT, stream.channel, 2, [99]])))  # late: dropped
        angle, pulse, seq, applied = fw.call(servo, "get_state")
        assert (angle, seq, applied - before) == (30, 3, 3)
        assert pulse == 500 + round(2000 * 30 / 180)
        stream.send(200)          # out of range: an EVENT with its seq
        event = stream.wait_event(2.0)
        assert (event.seq, event.code) == (4, S.Err.INVALID_ARGUMENT)
        event = stream.wait_event(2.0)
        assert event.code == S.Err.DEADLINE_EXCEEDED
        assert "deadman" in event.message and "timeout 50 ms" in event.message and "servo0" in event.message
        assert fw.call(servo, "get_position") == 30   # stop holds the pulse
    with pytest.raises(E.NotSupported, match="servo move"):
        fw.setpoints(fw.resolve("encoder0"), 60, timeout=0.1)
    with pytest.raises(E.InvalidArgument, match="5..60000"):
        fw._request([S.OPEN_STREAM, None, servo.number, 10, 2])


# -- the session watchdog ----------------------------------------------------------------------


def wait_session_event(client, timeout: float = 3.0):
    client._pump(lambda: bool(client.events), timeout)
    return client.events[0]


def watched(sim, servo_angle: int, timeout: float, action: str):
    """A session whose servo0 pulses at ``servo_angle`` before the watchdog is armed by a
    second HELLO (servos keep their state across HELLO), so a busy host cannot fire it early."""
    from viamlite.fastpath.serialport import hello_with_options

    fw = connect(sim)
    servo = fw.resolve("servo0")
    fw.call(servo, "attach", SERVO_PIN)
    fw.call(servo, "move", servo_angle)
    fired = fw.call("board", "get_status")["watchdog_fired"]
    hello_with_options(fw, session_timeout=timeout, on_timeout=action)
    return fw, fw.resolve("servo0"), fired


def test_watchdog_release(sim):
    fw, servo, fired = watched(sim, 90, 0.3, "release")
    try:
        event = wait_session_event(fw)
        assert event.channel == 0 and event.code == S.Err.DEADLINE_EXCEEDED
        assert event.message == "watchdog: host silent for 300 ms; released servo0"
        after = sim.now_us()
        time.sleep(0.1)
        assert sim.pulses(SERVO_PIN, since_t_us=after + 1) == []
        status = fw.call(servo, "get_status")
        assert status["attached"] and not status["pulsing"]
        assert fw.call("board", "get_status")["watchdog_fired"] == fired + 1
        fw.call(servo, "move", 90)    # moving again restarts the pulses
        assert fw.call(servo, "get_status")["pulsing"]
    finally:
        fw.close()


def test_watchdog_stop_holds(sim):
    fw, servo, _ = watched(sim, 45, 0.3, "stop")
    try:
        event = wait_session_event(fw)
        assert event.message == "watchdog: host silent for 300 ms; held servo0"
        assert all(abs(w - 1000) <= 10 for w in widths(sim, SERVO_PIN, 2))
    finally:
        fw.close()
    with pytest.raises(E.InvalidArgument, match="release"):
        connect(sim, on_timeout="explode")
    with pytest.raises(E.InvalidArgument, match="session_timeout_ms"):
        connect(sim, session_timeout=0.001)


# -- malformed frames and resets -----------------------------------------------------------------


def test_malformed_frames(fw):
    board = fw.resolve("board")
    dropped = fw.call(board, "get_status")["rx_dropped"]
    payload = msgpack.packb([S.PING, 4242])
    frame = bytearray(encode_serial(payload))
    frame[2] ^= 0x01      # a flipped bit: the CRC no longer matches, the frame is never answered
    fw._send(bytes(frame))
    fw._send(b"\x05\x01\x02\x00")   # COBS that runs past the frame
    assert fw.ping() > 0
    assert 4242 not in fw._replies
    assert fw.call(board, "get_status")["rx_dropped"] == dropped + 2
    raw(fw, b"\xc1")                # not msgpack
    assert reply_to(fw, 0)[:3] == [S.ERROR, 0, S.Err.INVALID_ARGUMENT]
    raw(fw, msgpack.packb([S.PING, 77, 1]))      # wrong length
    assert reply_to(fw, 77)[:3] == [S.ERROR, 77, S.Err.INVALID_ARGUMENT]
    raw(fw, msgpack.packb([15, 78]))             # unknown type
    assert reply_to(fw, 78)[:3] == [S.ERROR, 78, S.Err.UNIMPLEMENTED]
    raw(fw, b"\x01" * 140)                       # over max_frame: dropped
    assert fw.call(board, "get_status")["rx_dropped"] == dropped + 3
    assert crc16(b"123456789") == 0x31C3


def test_deeply_nested_values_are_skipped_without_recursion(fw):
    board = fw.resolve("board")
    before = fw.call(board, "get_status")
    hello = b"\x94\x01\xcd\x03\x84\x01\x81\xa1x"          # [HELLO, 900, 1, {"x": ...}]
    raw(fw, hello + b"\x91" * 110 + b"\xc0")                  # an unknown option nested 111 deep
    assert reply_to(fw, 900)[0] == S.RESULT
    truncated = b"\x94\x01\xcd\x03\x85\x01\x81\xa1x" + b"\xdc\x00\xff" * 30  # arrays claiming 255 values
    raw(fw, truncated)
    assert reply_to(fw, 901)[:3] == [S.ERROR, 901, S.Err.INVALID_ARGUMENT]
    after = fw.call(board, "get_status")
    assert after["reset"] == before["reset"] and after["uptime_ms"] >= before["uptime_ms"]  # no restart
    assert after["rx_overruns"] == before["rx_overruns"]


def test_a_sample_longer_than_the_transmit_ring_is_delivered(fw):
    board = fw.resolve("board")
    with fw.subscribe(board, "get_status", rate_hz=20) as sub:
        samples = [sub.next(timeout=2.0) for _ in range(3)]
    assert [s.seq for s in samples] == list(range(samples[0].seq, samples[0].seq + 3))
    assert all({"uptime_ms", "rx_frames", "reset"} <= set(s.value) for s in samples)


def test_reset_detected_before_hello(sim):
    fw = connect(sim)
    try:
        fw.call("board", "get_status")
        reset_at = sim.now_us()
        sim.reset()
        time.sleep(0.2)
        with pytest.raises(E.FailedPrecondition, match="send HELLO first"):
            fw.call("board", "get_status")
        info = fw.hello()
        assert info["reset"] == "external"   # the simulator resets as the reset button does
        uptime_ms = fw.call("board", "get_status")["uptime_ms"]
        assert uptime_ms <= (sim.now_us() - reset_at) / 1000 + 1  # its clock started at the reset
        assert fw.call("servo0", "get_status")["attached"] is False
    finally:
        fw.close()


# -- the serial line under load -------------------------------------------------------------------


@pytest.mark.parametrize("baud", [500000, 1000000])
def test_uart_bursts_lose_nothing_and_keep_pulses_exact(baud):
    need_toolchain()
    from hil.build import build_firmware
    from hil.sim import Simulator
    from viamlite.fastpath.serialport import open_serial

    with Simulator(build_firmware(baud), report_every=3600) as simulator:
        fw = open_serial(simulator.link or simulator.pty, baud, timeout=5.0)
        try:
            servo = fw.resolve("servo0")
            fw.call(servo, "attach", SERVO_PIN)
            fw.call(servo, "move", 90)
            widths(simulator, SERVO_PIN, 1)
            start = simulator.now_us()
            count = 400
            assert fw.pipeline(servo, "get_position", [[]] * count, window=8) == [90] * count
            status = fw.call("board", "get_status")
            assert (status["rx_overruns"], status["rx_dropped"]) == (0, 0)
            during = [w for _, w in simulator.pulses(SERVO_PIN, since_t_us=start)]
            assert during
            worst = max(abs(w - 1500) for w in during)
            print(f"{baud} baud: {count} pipelined calls, {len(during)} pulses during them, worst {worst:.3f} us off")
            assert worst <= 2.0
        finally:
            fw.close()
