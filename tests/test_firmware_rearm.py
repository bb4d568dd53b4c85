"""The firmware's deadman and session watchdog re-arm for the life of a stream or session,
and a channel's first message follows the RESULT that names it (docs/fastpath.md 2.5,
2.6, 3.1): the real firmware in the simulator, read raw off the serial line so the order
of every message the firmware writes is seen as written.

Nothing here judges wall-clock time: each step waits for the firmware's own messages, and
"no pulse" or "no second event" is judged over simulated time from the pin trace.
Needs the AVR toolchain and simavr like tests/test_firmware.py (skipped without them,
failed instead when VIAMLITE_REQUIRE_TOOLCHAIN=1).
"""
from __future__ import annotations

import re
import time

import msgpack
import pytest

from tests.test_firmware import BAUD, SERVO_PIN, sim  # noqa: F401  (sim: the module's simulator fixture)
from viamlite.fastpath import schema as S
from viamlite.fastpath.framing import SerialDecoder, encode_serial

BOARD, SERVO0 = 1, 2                    # handles (docs/fastpath.md 3.1)
MOVE, GET_POSITION, ATTACH, GET_STATE, GET_STATUS = 10, 11, 12, 14, 3
PULSE_SLACK_US = 10


def pulse_us(angle: int) -> int:
    """The servo's pulse width for an angle on the default 500..2500 us range."""
    return 500 + round(2000 * angle / 180)


class Line:
    """The firmware's serial line, read raw: ``log`` holds every message in arrival order."""

    def __init__(self, sim) -> None:
        from viamlite.fastpath.serialport import open_port

        self.port = open_port(sim.link or sim.pty, BAUD)
        self.decoder = SerialDecoder(256)
        self.log: list[list] = []
        self.next_id = 1
        self.port.reset_input_buffer()
        self.port.write(b"\x00")      # drop any partial frame on the line

    def close(self) -> None:
        try:
            self.send([S.GOODBYE, 0, "done"])
            self.port.flush()
        finally:
            self.port.close()

    def send(self, message: list) -> None:
        self.port.write(encode_serial(msgpack.packb(message)))

    def pump(self, wait: float = 0.05) -> None:
        self.port.timeout = wait
        data = self.port.read(max(1, self.port.in_waiting))
        for payload in self.decoder.feed(data):
            self.log.append(msgpack.unpackb(payload))

    def drain(self) -> None:
        """Read until the line has been quiet for a moment."""
        count = -1
        while count != len(self.log) or self.port.in_waiting:
            count = len(self.log)
            self.pump(0.1)

    def wait_for(self, match, start: int = 0, timeout: float = 10.0, what: str = "a message") -> int:
        """The index in ``log`` of the first message at or after ``start`` that matches."""
        deadline = time.monotonic() + timeout
        scanned = start
        while True:
            for i in range(scanned, len(self.log)):
                if match(self.log[i]):
                    return i
            scanned = max(scanned, len(self.log))
            assert time.monotonic() < deadline, f"waited {timeout} s for {what}; the line carried {self.log[start:]}"
            self.pump()

    def request(self, kind: int, *body, timeout: float = 10.0) -> tuple[int, object]:
        """Send a request and wait for its reply: (index of the RESULT in ``log``, its value)."""
        rid = self.next_id
        self.next_id += 1
        start = len(self.log)
        self.send([kind, rid, *body])
        i = self.wait_for(lambda m: m[0] in (S.RESULT, S.ERROR) and m[1] == rid, start, timeout,
                          f"reply to {S.MESSAGE_NAMES[kind]} {rid}")
        reply = self.log[i]
        assert reply[0] == S.RESULT, f"{S.MESSAGE_NAMES[kind]} {body} failed: {reply}"
        return i, reply[2]

    def hello(self, **options) -> dict:
        return self.request(S.HELLO, S.VERSION, options)[1]

    def call(self, handle: int, method: int, *args):
        return self.request(S.CALL, handle, method, list(args))[1]

    def events(self, channel: int, start: int = 0) -> list[list]:
        return [m for m in self.log[start:] if m[0] == S.EVENT and m[1] == channel]


@pytest.fixture
def line(sim):  # noqa: F811
    link = Line(sim)
    link.hello()
    link.call(SERVO0, ATTACH, SERVO_PIN)
    yield link
    link.close()


def sim_wait(simulator, us: float, timeout: float = 30.0) -> float:
    """Wait until `us` of simulated time have passed; returns the simulated time then."""
    start = simulator.now_us()
    deadline = time.monotonic() + timeout
    while True:
        now = simulator.now_us()
        if now >= start + us:
            return now
        assert time.monotonic() < deadline, f"the simulator advanced {now - start:.0f} of {us:.0f} us in {timeout} s"
        time.sleep(0.02)


def pulses_at(simulator, width: int, since_us: float, count: int = 3) -> list[float]:
    """Wait for `count` pulses on the servo pin that start after `since_us`; they must all be `width` wide."""
    found = [w for _, w in simulator.wait_pulses(SERVO_PIN, count, timeout=10.0, since_t_us=since_us)]
    assert all(abs(w - width) <= PULSE_SLACK_US for w in found), (width, found)
    return found


def wait_pulse_of(simulator, width: int, since_us: float, timeout: float = 10.0) -> None:
    """Wait until the trace shows a pulse `width` wide that started after `since_us` (the trace
    reaches its file a little after the simulated time it records)."""
    deadline = time.monotonic() + timeout
    while not any(abs(w - width) <= PULSE_SLACK_US for _, w in simulator.pulses(SERVO_PIN, since_t_us=since_us)):
        assert time.monotonic() < deadline, f"no {width} us pulse on the servo pin since {since_us:.0f} us"
        time.sleep(0.02)


def no_pulses_after(simulator, since_us: float, span_us: float = 100_000) -> None:
    """Over `span_us` of simulated time (five servo frames) no pulse starts on the servo pin."""
    sim_wait(simulator, span_us)
    late = simulator.pulses(SERVO_PIN, since_t_us=since_us)
    assert late == [], f"the servo pin still pulses after its release: {late[:5]}"


# -- the setpoint deadman -----------------------------------------------------------------------


DEADMAN_MS = 100
DEADMAN_TEXT = re.compile(r"deadman: no setpoint for (\d+) ms \(timeout 100 ms\); stopped servo0$")


def test_deadman_fires_again_after_each_re_arming_setpoint(line, sim):  # noqa: F811
    """Three rounds in one stream: a setpoint moves the servo and re-arms the deadman, the
    host goes silent, the deadman fires once (EVENT code 4 with the last applied seq) and
    the servo holds that setpoint's pulse (the firmware's stop); it fires no second time
    while the silence goes on."""
    _, channel = line.request(S.OPEN_STREAM, SERVO0, MOVE, DEADMAN_MS)
    opened = line.wait_for(lambda m: m[0] == S.EVENT and m[1] == channel, what="the deadman of the opening")
    assert line.log[opened][2:4] == [0, S.Err.DEADLINE_EXCEEDED]   # armed at the opening, before any setpoint
    angles = (20, 140, 70)
    for seq, angle in enumerate(angles, start=1):
        start = len(line.log)
        line.send([S.SETPOINT, channel, seq, [angle]])
        fired = line.wait_for(lambda m: m[0] == S.EVENT and m[1] == channel, start,
                              what=f"the deadman after setpoint {seq}")
        _, _, event_seq, code, text = line.log[fired]
        assert (event_seq, code) == (seq, S.Err.DEADLINE_EXCEEDED), line.log[fired]
        match = DEADMAN_TEXT.search(text)
        assert match and int(match[1]) >= DEADMAN_MS, text
        # the setpoint was applied and, after the stop, its pulse is held
        pulses_at(sim, pulse_us(angle), sim.now_us())
        state = line.call(SERVO0, GET_STATE)
        assert state == [angle, pulse_us(angle), seq, seq], state
        sim_wait(sim, 3 * DEADMAN_MS * 1000)                  # the silence goes on: no second EVENT
        line.request(S.PING)
        assert len(line.events(channel, start)) == 1, line.events(channel, start)
    line.request(S.CLOSE_STREAM, channel)


def test_a_first_setpoint_with_seq_0_is_applied_and_re_arms(line, sim):  # noqa: F811
    """seq must exceed the last applied one; before any is applied, seq 0 is the first."""
    line.call(SERVO0, MOVE, 90)
    _, channel = line.request(S.OPEN_STREAM, SERVO0, MOVE, DEADMAN_MS)
    line.wait_for(lambda m: m[0] == S.EVENT and m[1] == channel, what="the deadman of the opening")
    start = len(line.log)
    line.send([S.SETPOINT, channel, 0, [30]])
    line.send([S.SETPOINT, channel, 0, [160]])              # the same seq again: a duplicate, dropped
    fired = line.wait_for(lambda m: m[0] == S.EVENT and m[1] == channel, start, what="the deadman after seq 0")
    assert line.log[fired][2:4] == [0, S.Err.DEADLINE_EXCEEDED]
    assert line.call(SERVO0, GET_STATE) == [30, pulse_us(30), 0, 1]
    line.request(S.CLOSE_STREAM, channel)


# -- the session watchdog ----------------------------------------------------------------------


WATCHDOG_MS = 200


@pytest.mark.parametrize("action", ["release", "stop"])
def test_watchdog_fires_again_after_new_motion(line, sim, action):  # noqa: F811
    """The session timeout fires, the host moves the servo again, goes silent again, and the
    timeout fires again, three times in one session. "release" stops the pulses each time
    and the next move starts them; "stop" holds them."""
    angles = (45, 120, 10)
    line.call(SERVO0, MOVE, angles[0])       # moving before the watchdog is armed: a slow host cannot beat it
    fired_before = line.call(BOARD, GET_STATUS)["watchdog_fired"]
    start = len(line.log)
    moved_us = sim.now_us()
    line.hello(session_timeout_ms=WATCHDOG_MS, on_timeout=action)   # a new session, servos keep their state
    done = "released" if action == "release" else "held"
    seqs = []
    for round_, angle in enumerate(angles):
        if round_:
            start = len(line.log)
            moved_us = sim.now_us()
            line.call(SERVO0, MOVE, angle)   # new motion re-arms the watchdog
        fired = line.wait_for(lambda m: m[0] == S.EVENT and m[1] == 0, start, what=f"watchdog round {round_ + 1}")
        _, _, seq, code, text = line.log[fired]
        assert code == S.Err.DEADLINE_EXCEEDED
        assert text == f"watchdog: host silent for {WATCHDOG_MS} ms; {done} servo0", text
        seqs.append(seq)
        fired_us = sim.now_us()
        wait_pulse_of(sim, pulse_us(angle), moved_us)   # the move took effect before the silence ran out
        if action == "release":
            no_pulses_after(sim, fired_us)
        else:
            pulses_at(sim, pulse_us(angle), fired_us)
        sim_wait(sim, fired_us + 2 * WATCHDOG_MS * 1000 - sim.now_us())   # the silence goes on ...
        line.drain()
        assert len(line.events(0, start)) == 1, line.events(0, start)   # ... and it fired once
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2], seqs
    line.hello()                             # watchdog off again before the next test
    assert line.call(BOARD, GET_STATUS)["watchdog_fired"] == fired_before + 3


# -- the RESULT before the channel's first message ----------------------------------------------


def test_subscribe_result_precedes_the_first_sample(line):
    """At 2000 Hz sample seq 0 is due as the subscription opens; its RESULT is on the line first,
    also while another subscription is sampling."""
    line.call(SERVO0, MOVE, 90)
    _, other = line.request(S.SUBSCRIBE, BOARD, GET_STATUS, [], 5)
    for round_ in range(4):
        start = len(line.log)
        result, channel = line.request(S.SUBSCRIBE, SERVO0, GET_POSITION, [], 2000)
        assert channel != other
        first = line.wait_for(lambda m: m[0] in (S.SAMPLE, S.EVENT) and m[1] == channel, start,
                              what=f"a sample on channel {channel}")
        early = [m for m in line.log[start:result] if m[0] in (S.SAMPLE, S.EVENT) and m[1] == channel]
        assert early == [] and first > result, (round_, line.log[start:first + 1])
        assert line.log[first][0] == S.SAMPLE and line.log[first][2] == 0 and line.log[first][4] == 90
        line.request(S.UNSUBSCRIBE, channel)
    line.request(S.UNSUBSCRIBE, other)


def test_open_stream_result_precedes_the_first_event(line):
    """A 5 ms deadman fires about as the stream opens; OPEN_STREAM's RESULT is on the line first."""
    for round_ in range(4):
        start = len(line.log)
        result, channel = line.request(S.OPEN_STREAM, SERVO0, MOVE, 5)
        first = line.wait_for(lambda m: m[0] in (S.SAMPLE, S.EVENT) and m[1] == channel, start,
                              what=f"the deadman on channel {channel}")
        assert first > result, (round_, line.log[start:first + 1])
        assert line.log[first][2:4] == [0, S.Err.DEADLINE_EXCEEDED], line.log[first]
        line.request(S.CLOSE_STREAM, channel)
