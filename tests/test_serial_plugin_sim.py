"""End to end: clients -> ``viamlite serve`` -> serial models -> the firmware in the simulator.

The firmware (firmware/) runs in viamlite-sim (firmware/sim/) through hil/sim.py; the serial
models talk to it on the simulator's pty, and the pin trace shows what the MCU really did.
Needs the AVR toolchain and simavr: skipped (with the reason) when they are missing, unless
VIAMLITE_REQUIRE_TOOLCHAIN=1, which turns the skip into a failure (CI sets it).
"""
from __future__ import annotations

import os
import signal
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .peers import run_viam_sdk

REPO = Path(__file__).resolve().parent.parent
REQUIRED = os.environ.get("VIAMLITE_REQUIRE_TOOLCHAIN") == "1"


def _missing() -> str | None:
    if not (REPO / "firmware" / "Makefile").exists() or not (REPO / "firmware" / "sim").is_dir():
        return "firmware/ or firmware/sim/ is not in this checkout"
    try:
        from hil.build import toolchain_missing
    except ImportError as exc:
        return f"the simulator harness hil/ cannot be imported: {exc}"
    return toolchain_missing()


def _need_toolchain() -> None:
    reason = _missing()
    if reason:
        if REQUIRED:
            pytest.fail(f"VIAMLITE_REQUIRE_TOOLCHAIN=1 but the simulator cannot run: {reason}")
        pytest.skip(f"simulator not available: {reason}")


@pytest.fixture(scope="module")
def firmware() -> Path:
    _need_toolchain()
    from hil.build import build_firmware

    return build_firmware(115200)


@pytest.fixture
def sim(firmware: Path) -> Iterator[Any]:
    from hil.sim import Simulator

    with Simulator(firmware, wires=[(9, 8)]) as s:  # the servo's pin wired back to pin 8
        yield s


SERVO_PIN = 9


def machine_config(port: str, link: dict | None = None, **servo: Any) -> dict:
    """The four serial models on ``port``; ``link`` attributes (watchdog_ms, ...) go to each."""
    def comp(name: str, api: str, **attributes: Any) -> dict:
        return {"name": name, "api": f"rdk:component:{api}", "model": f"viamlite:serial:{api}",
                "attributes": {"port": port, **(link or {}), **attributes}}

    return {"components": [
        comp("uno", "board", analogs=[{"name": "a0", "pin": "14"}]),
        comp("pan", "servo", pin=SERVO_PIN, **servo),
        comp("wheel", "encoder", pin_a=2, pin_b=3),
        comp("panel", "sensor", analog={"pot": "A1"}, digital={"button": 7}),
    ]}


def settled_pulse(sim: Any, expected: float, timeout: float = 5.0) -> float:
    """The median of the last three servo pulses once it is within 10 µs of ``expected`` (or the
    timeout passes). Waits at least a quarter second: a move shows from the next 20 ms frame,
    and the trace reaches its file within 50 ms."""
    deadline = time.monotonic() + timeout
    time.sleep(0.25)
    while True:
        widths = [width for _, width in sim.pulses(SERVO_PIN)[-3:]]
        width = statistics.median(widths) if len(widths) == 3 else float("nan")
        if abs(width - expected) <= 10 or time.monotonic() > deadline:
            return width
        time.sleep(0.05)


def expected_us(angle: int, low: int = 500, high: int = 2500) -> float:
    return low + (high - low) * angle / 180


def test_viam_sdk_moves_the_servo_and_the_trace_shows_the_pulses(sim: Any, serve: Any) -> None:
    pytest.importorskip("viam", reason="the viam-sdk test dependency is not installed")
    from viam.components.servo import Servo

    proc = serve(machine_config(sim.link or sim.pty))
    widths = {}
    for angle in (0, 90, 180):
        async def move(robot: Any, angle: int = angle) -> int:
            servo = Servo.from_robot(robot, "pan")
            await servo.move(angle)
            return await servo.get_position()

        assert run_viam_sdk(proc.address, move) == angle
        widths[angle] = settled_pulse(sim, expected_us(angle))
    print("\nviam-sdk -> viamlite serve -> serial servo -> firmware in the simulator: "
          + ", ".join(f"{a} deg: {w:.2f} us (expected {expected_us(a):.0f})" for a, w in widths.items()))
    for angle, width in widths.items():
        assert abs(width - expected_us(angle)) <= 10, widths


def test_board_sensor_and_encoder_through_both_clients(sim: Any, serve: Any) -> None:
    pytest.importorskip("viam", reason="the viam-sdk test dependency is not installed")
    from viam.components.encoder import Encoder as SdkEncoder
    from viam.components.sensor import Sensor as SdkSensor

    import viamlite
    from viamlite.components.board import Board
    from viamlite.components.servo import Servo

    proc = serve(machine_config(sim.link or sim.pty))
    sim.inject_analog(0, 1000)  # A0: 1 V
    sim.inject_analog(1, 2500)  # A1: 2.5 V
    sim.drive_pin(7, 1)
    sim.quadrature(2, 3, 40, 2000)
    client = viamlite.connect(proc.address)
    try:
        servo = Servo.from_robot(client, "pan")
        servo.move(45)
        assert servo.get_position() == 45
        board = Board.from_robot(client, "uno")
        a0 = board.read_analog("a0")
        assert abs(a0.value - 1000 * 1024 / 5000) <= 3 and a0.max_range == pytest.approx(5.0)
        # pin 8 is wired to the servo's pin: the firmware times its own pulses
        assert abs(board.do_command({"measure_pulse": {"pin": 8}})["pulse_us"] - expected_us(45)) <= 10
    finally:
        client.close()

    async def body(robot: Any) -> Any:
        return await SdkSensor.from_robot(robot, "panel").get_readings(), \
            await SdkEncoder.from_robot(robot, "wheel").get_position()

    readings, (ticks, _) = run_viam_sdk(proc.address, body)
    assert abs(readings["pot"] - 512) <= 3 and readings["pot_volts"] == pytest.approx(2.5, abs=0.02)
    assert readings["button"] is True
    assert ticks == 40


def test_board_reset_is_recovered_at_the_last_angle(sim: Any, serve: Any) -> None:
    import viamlite
    from viamlite.components.board import Board
    from viamlite.components.servo import Servo

    proc = serve(machine_config(sim.link or sim.pty, min_us=600, max_us=2400))
    client = viamlite.connect(proc.address)
    try:
        Servo.from_robot(client, "pan").move(120)
        assert abs(settled_pulse(sim, expected_us(120, 600, 2400)) - expected_us(120, 600, 2400)) <= 10
        reset_at = sim.now_us()
        sim.reset()
        # no call from here: the link's keeper notices the reset, says HELLO and re-attaches.
        # Without the restore the servo would stay silent after the reset; with it the pulses
        # carry on (the restore may even beat the next 20 ms frame) at the same width.
        pulses = sim.wait_pulses(SERVO_PIN, 40, timeout=15.0, since_t_us=reset_at)
        widths = [width for _, width in pulses[:40]]
        off = [w for w in widths if abs(w - expected_us(120, 600, 2400)) > 10]
        assert len(off) <= 1 and all(w < expected_us(120, 600, 2400) for w in off), widths  # one cut short
        assert Servo.from_robot(client, "pan").get_position() == 120
        status = Board.from_robot(client, "uno").do_command({"status": {}})
        assert status["reset"] == "external" and status["uptime_ms"] < 5_000  # it did reset
    finally:
        client.close()


def test_watchdog_releases_the_servo_when_the_host_stops(sim: Any, serve: Any) -> None:
    import viamlite
    from viamlite.components.servo import Servo

    proc = serve(machine_config(sim.link or sim.pty, {"watchdog_ms": 300}))
    client = viamlite.connect(proc.address)
    try:
        Servo.from_robot(client, "pan").move(90)
        assert abs(settled_pulse(sim, expected_us(90)) - expected_us(90)) <= 10
        os.kill(proc.proc.pid, signal.SIGSTOP)  # the host goes silent
        try:
            time.sleep(1.0)  # 300 ms watchdog, with room for a loaded machine
            count = len(sim.pulses(SERVO_PIN))
            time.sleep(0.5)  # 25 servo frames
            assert len(sim.pulses(SERVO_PIN)) == count
        finally:
            os.kill(proc.proc.pid, signal.SIGCONT)
        # the host is back: the next move attaches the released servo again
        Servo.from_robot(client, "pan").move(30)
        assert abs(settled_pulse(sim, expected_us(30)) - expected_us(30)) <= 10
    finally:
        client.close()
