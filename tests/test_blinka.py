"""The blinka plugin on Blinka's OS-agnostic simulated board.

The simulated board (``BLINKA_OS_AGNOSTIC=1``) has fixed pin behaviours: ``Dx_INPUT_TRUE``
reads high, ``Dx_INPUT_FALSE`` low, ``Dx_INPUT_TOGGLE`` flips on every read; an output
pin records what is written to it; ``Ax_INPUT_FIXED_INT_PI`` reads 31415 and
``Ax_INPUT_WAVE_SINE`` steps through a 20-point sine table; ``Ax_OUTPUT`` is a DAC that
reads back what it was given; PWM outputs keep their duty cycle and frequency. Its I2C bus
only scans (random addresses): reads and writes need a device, which these tests attach.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("adafruit_blinka", reason="adafruit-blinka is not installed (pip install -e .[test])")

SIMULATED = {"BLINKA_OS_AGNOSTIC": "1", "BLINKA_SKIP_DEPENDENCY_CHECK": "1"}
BOARD = "rdk:component:board"
MODEL = "viamlite:blinka:board"


@pytest.fixture(scope="module", autouse=True)
def simulated_board() -> Iterator[None]:
    """Blinka reads these when first imported, so they are set before any test builds a model."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in SIMULATED.items():
            mp.setenv(key, value)
        yield


def board_config(**attributes: Any) -> dict[str, Any]:
    return {"name": "pi", "api": BOARD, "model": MODEL, "attributes": attributes}


@pytest.fixture
def machine() -> Iterator[Any]:
    """Build a machine from component configs; closed at the end."""
    from viamlite.machine import Machine

    built: list[Any] = []

    def build(*components: dict[str, Any]) -> Any:
        m = Machine.from_config({"components": list(components)})
        built.append(m)
        return m

    yield build
    for m in built:
        m.close()


def sim_pin(board: Any, pin: str) -> Any:
    """The simulated Blinka pin object behind ``pin`` (what Blinka's DigitalInOut wrote to)."""
    return board._handles[pin][1]._pin


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BLINKA_")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                           env={**base, **env})


# -- loading -------------------------------------------------------------------------


def test_blinka_is_imported_only_when_a_blinka_model_is_used() -> None:
    code = """if True:
        import json, sys
        from viamlite.machine import Machine
        from viamlite.cli.serve import demo_config
        blinka = ("board", "digitalio", "pwmio", "adafruit_blinka", "viamlite_plugins.blinka.board")
        m = Machine(demo_config())
        before = [name for name in blinka if name in sys.modules]
        plugin = m.plugins.get_plugin("blinka") is not None
        m.close()
        m = Machine.from_config({"components": [{"name": "pi", "api": "rdk:component:board",
                                                 "model": "viamlite:blinka:board"}]})
        after = [name for name in blinka if name in sys.modules]
        m.close()
        print(json.dumps({"plugin": plugin, "before": before, "after": after}))
    """
    done = run_python(code, SIMULATED)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["plugin"] is True
    assert seen["before"] == []
    assert set(seen["after"]) >= {"board", "adafruit_blinka", "viamlite_plugins.blinka.board"}


# -- GPIO ----------------------------------------------------------------------------


def test_gpio_out_reaches_the_pin(machine: Any) -> None:
    board = machine(board_config())["pi"]
    board.set_gpio("Dx_OUTPUT", True)
    assert sim_pin(board, "Dx_OUTPUT").current_value == 1
    assert board.get_gpio("Dx_OUTPUT") is True
    board.set_gpio("Dx_OUTPUT", False)
    assert sim_pin(board, "Dx_OUTPUT").current_value == 0
    assert board.get_gpio("Dx_OUTPUT") is False
    # the chip's own names work where the board has none: D4 is the same pin
    board.set_gpio("D4", True)
    assert sim_pin(board, "D4").id == sim_pin(board, "Dx_OUTPUT").id == 4
    assert board.get_status()["pins"]["D4"] == "output"


def test_gpio_in_reads_the_pin(machine: Any) -> None:
    board = machine(board_config())["pi"]
    assert board.get_gpio("Dx_INPUT_TRUE") is True
    assert board.get_gpio("Dx_INPUT_FALSE") is False
    levels = [board.get_gpio("Dx_INPUT_TOGGLE") for _ in range(4)]
    assert levels in ([True, False, True, False], [False, True, False, True])
    assert board.get_status()["pins"]["Dx_INPUT_TRUE"] == "input"


# -- PWM -----------------------------------------------------------------------------


def test_pwm_duty_and_frequency_read_back(machine: Any) -> None:
    board = machine(board_config(pwm_frequency_hz=400))["pi"]
    assert board.get_pwm("D6") == 0.0
    assert board.get_pwm_frequency("D6") == 400  # the configured default
    board.set_pwm_frequency("D6", 1000)  # before the output starts: applied when it does
    board.set_pwm("D6", 0.25)
    pwm = board._handles["D6"][1]
    assert pwm.duty_cycle == round(0.25 * 65535)
    assert board.get_pwm("D6") == pytest.approx(0.25, abs=1 / 65535)
    assert board.get_pwm_frequency("D6") == pwm.frequency == 1000
    board.set_pwm_frequency("D6", 2000)  # while running
    board.set_pwm("D6", 1.0)
    assert (pwm.frequency, pwm.duty_cycle) == (2000, 65535)
    assert board.get_pwm_frequency("D6") == 2000
    board.set_pwm_frequency("D6", 0)
    assert board.get_pwm_frequency("D6") == 400
    with pytest.raises(ValueError, match="out of range; use 0.0 to 1.0"):
        board.set_pwm("D6", 1.5)
    assert board.get_pwm("D6") == 1.0
    # another role releases the PWM output
    board.set_gpio("D6", False)
    assert board.get_pwm("D6") == 0.0 and board.get_status()["pins"]["D6"] == "output"


# -- analog --------------------------------------------------------------------------


def test_analog_values(machine: Any) -> None:
    board = machine(board_config(analogs=[{"name": "pi_reader", "pin": "Ax_INPUT_FIXED_INT_PI", "reference_voltage": 5},
                                          {"name": "sine", "pin": "Ax_INPUT_WAVE_SINE"}]))["pi"]
    value = board.read_analog("pi_reader")
    assert value.value == 31415
    assert (value.min_range, value.max_range) == (0.0, 5.0)
    assert value.step_size == pytest.approx(5 / 65535)
    assert [board.read_analog("sine").value for _ in range(6)] == [0, 31, 59, 81, 95, 100]
    assert board.read_analog("A1").value == 31415  # a pin by name
    board.write_analog("Ax_OUTPUT", 12345)
    assert board.read_analog("Ax_OUTPUT").value == 12345
    with pytest.raises(ValueError, match="0 to 65535"):
        board.write_analog("Ax_OUTPUT", 70000)
    with pytest.raises(ValueError, match="no analog reader 'nope'; its readers: pi_reader, sine"):
        board.read_analog("nope")


# -- digital interrupts --------------------------------------------------------------


def test_polled_interrupts_count_edges(machine: Any) -> None:
    board = machine(board_config(poll_interval_ms=1, digital_interrupts=[
        {"name": "toggle", "pin": "Dx_INPUT_TOGGLE"}, {"name": "steady", "pin": "Dx_INPUT_TRUE", "pull": "up"}]))["pi"]
    ticks = []
    with board.stream_ticks(["toggle"]) as stream:
        for tick in stream:
            ticks.append(tick)
            if len(ticks) == 6:
                break
    assert [t.pin_name for t in ticks] == ["toggle"] * 6
    levels = [t.high for t in ticks]
    assert all(a != b for a, b in zip(levels, levels[1:]))  # every poll of the toggling pin is an edge
    assert all(a.time_ns <= b.time_ns for a, b in zip(ticks, ticks[1:]))
    assert board.get_digital_interrupt_value("toggle") >= sum(levels)
    assert board.get_digital_interrupt_value("steady") == 0
    with pytest.raises(ValueError, match="no digital interrupt 'di9'; its interrupts: steady, toggle"):
        board.get_digital_interrupt_value("di9")
    with pytest.raises(ValueError, match="input of digital interrupt 'toggle'"):
        board.set_gpio("Dx_INPUT_TOGGLE", True)


class StandInGpiod:
    """A stand-in for the ``gpiod`` package (libgpiod 2): records the request, delivers queued edges.

    No gpiochip exists on a test machine, so this checks what the board asks of libgpiod and
    what it makes of the events, not the kernel.
    """

    def __init__(self) -> None:
        import enum
        import queue
        import types

        self.requests: list[tuple[str, dict[int, Any], str]] = []
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.released = threading.Event()
        stand_in = self

        class Type(enum.Enum):
            RISING_EDGE = 1
            FALLING_EDGE = 2

        line = types.ModuleType("gpiod.line")
        line.Bias = enum.Enum("Bias", "AS_IS PULL_UP PULL_DOWN")
        line.Clock = enum.Enum("Clock", "MONOTONIC REALTIME")
        line.Edge = enum.Enum("Edge", "NONE BOTH")
        line.Value = enum.Enum("Value", "INACTIVE ACTIVE")

        class Request:
            def wait_edge_events(self, timeout: Any) -> bool:
                return not stand_in.events.empty() or bool(time.sleep(0.005))

            def read_edge_events(self) -> list[Any]:
                out = []
                while not stand_in.events.empty():
                    out.append(stand_in.events.get())
                return out

            def get_value(self, offset: int) -> Any:
                return line.Value.ACTIVE

            def release(self) -> None:
                stand_in.released.set()

        def request_lines(path: str, config: dict[int, Any], consumer: str = "") -> Request:
            stand_in.requests.append((path, config, consumer))
            return Request()

        module = types.ModuleType("gpiod")
        module.line = line
        module.LineSettings = lambda **kw: kw
        module.EdgeEvent = types.SimpleNamespace(Type=Type)
        module.request_lines = request_lines
        self.module, self.Type = module, Type

    def edge(self, offset: int, rising: bool, time_ns: int) -> None:
        import types

        kind = self.Type.RISING_EDGE if rising else self.Type.FALLING_EDGE
        self.events.put(types.SimpleNamespace(event_type=kind, timestamp_ns=time_ns, line_offset=offset))


def test_edge_interrupts_take_kernel_events_through_libgpiod(machine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    gpiod = StandInGpiod()
    monkeypatch.setitem(sys.modules, "gpiod", gpiod.module)
    monkeypatch.setitem(sys.modules, "gpiod.line", gpiod.module.line)
    m = machine(board_config(digital_interrupts=[{"name": "btn", "pin": "Dx_INPUT_TOGGLE", "mode": "edge",
                                                  "pull": "up"}]))
    board = m["pi"]
    [(path, config, consumer)] = gpiod.requests
    assert (path, list(config), consumer) == ("/dev/gpiochip0", [11], "viamlite")  # Dx_INPUT_TOGGLE is line 11
    settings = config[11]
    assert (settings["edge_detection"].name, settings["bias"].name, settings["event_clock"].name) == \
        ("BOTH", "PULL_UP", "REALTIME")
    with board.stream_ticks(["btn"]) as stream:
        for i, rising in enumerate((True, False, True)):
            gpiod.edge(11, rising, 1_000 + i)
        gpiod.edge(12, True, 5_000)  # another line's event is not this interrupt's
        ticks = [next(stream) for _ in range(3)]
    assert [(t.pin_name, t.time_ns, t.high) for t in ticks] == [("btn", 1000, True), ("btn", 1001, False),
                                                                ("btn", 1002, True)]
    assert board.get_digital_interrupt_value("btn") == 2
    assert board.get_gpio("Dx_INPUT_TOGGLE") is True
    m.close()
    assert gpiod.released.is_set()


def test_edge_interrupts_without_libgpiod_say_what_to_install(machine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gpiod", None)
    m = machine(board_config(digital_interrupts=[{"name": "btn", "pin": "D7", "mode": "edge"}]))
    entry = m.entries()[0]
    assert entry.resource is None and "pip install gpiod" in entry.error


# -- errors --------------------------------------------------------------------------


def test_unknown_pin_names_the_board_and_its_pins(machine: Any) -> None:
    from viamlite_plugins.blinka.pins import UnknownPinError

    from viamlite.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        machine(board_config(digital_interrupts=[{"name": "di1", "pin": "D18"}]))
    text = str(caught.value)
    assert "components[0].attributes.digital_interrupts[0].pin" in text
    assert "OS_AGNOSTIC_BOARD" in text and "no pin 'D18'" in text and "Dx_OUTPUT" in text

    board = machine(board_config())["pi"]
    with pytest.raises(UnknownPinError) as caught_pin:
        board.set_gpio("GP15", True)
    assert isinstance(caught_pin.value, ValueError)
    assert caught_pin.value.board_id == "OS_AGNOSTIC_BOARD"
    assert "Dx_INPUT_TOGGLE" in caught_pin.value.pins and "Dx_INPUT_TOGGLE" in str(caught_pin.value)


@pytest.mark.parametrize("env, expected", [
    ({}, "which has no pins it can drive"),  # this x86 machine: a generic PC with no pins
    ({"BLINKA_FORCECHIP": "BCM2XXX", "BLINKA_FORCEBOARD": "NO_SUCH_BOARD", "BLINKA_SKIP_DEPENDENCY_CHECK": "1"},
     "could not identify this board"),
])
def test_a_board_blinka_cannot_use_is_a_clear_error(env: dict[str, str], expected: str) -> None:
    code = """if True:
        import json
        from adafruit_platformdetect import Detector
        from viamlite.machine import Machine
        detector = Detector()
        m = Machine.from_config({"components": [{"name": "pi", "api": "rdk:component:board",
                                                 "model": "viamlite:blinka:board"}]})
        entry = m.entries()[0]
        print(json.dumps({"state": str(entry.state), "error": entry.error, "board": str(detector.board.id)}))
        m.close()
    """
    done = run_python(code, env)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    if not env and seen["board"] not in ("GENERIC_LINUX_PC", "None"):
        pytest.skip(f"this machine is a board Blinka knows ({seen['board']})")
    assert "unhealthy" in seen["state"].lower()
    assert expected in seen["error"]
    assert f"board {seen['board']}" in seen["error"]
    assert "BLINKA_OS_AGNOSTIC=1" in seen["error"]


# -- motor ---------------------------------------------------------------------------


def motor_config(**attributes: Any) -> dict[str, Any]:
    return {"name": "m", "api": "rdk:component:motor", "model": "viamlite:blinka:motor",
            "attributes": {"board": "pi", "pins": {"pwm": "D6", "dir": "Dx_OUTPUT"}, **attributes}}


def test_motor_drives_pwm_and_direction_pins(machine: Any) -> None:
    m = machine(board_config(), motor_config(pwm_freq_hz=2000, max_rpm=6000))
    board, motor = m["pi"], m["m"]
    assert board.get_pwm_frequency("D6") == 2000
    motor.set_power(0.5)
    assert board.get_pwm("D6") == pytest.approx(0.5, abs=1 / 65535)
    assert board.get_gpio("Dx_OUTPUT") is True and sim_pin(board, "Dx_OUTPUT").current_value == 1
    assert motor.is_powered() == (True, 0.5) and motor.is_moving()
    motor.set_power(-0.25)
    assert board.get_pwm("D6") == pytest.approx(0.25, abs=1 / 65535)
    assert sim_pin(board, "Dx_OUTPUT").current_value == 0
    motor.set_rpm(3000)
    assert board.get_pwm("D6") == pytest.approx(0.5, abs=1 / 65535) and board.get_gpio("Dx_OUTPUT") is True
    motor.stop()
    assert board.get_pwm("D6") == 0.0 and not motor.is_moving()
    # a timed move: 6 revolutions at 6000 rpm is 60 ms at full power, then stopped
    motor.go_for(-6000, 6)
    assert board.get_pwm("D6") == 0.0 and motor.is_powered() == (False, 0.0)
    assert board.get_gpio("Dx_OUTPUT") is False
    # a long move ends when stopped from another thread, and the call says it was cut short
    from viamlite.errors import AbortedError

    outcome: list[BaseException | None] = []

    def go() -> None:
        try:
            motor.go_for(60, 100)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - checked below
            outcome.append(exc)

    mover = threading.Thread(target=go)
    mover.start()
    deadline = time.monotonic() + 5
    while not motor.is_moving() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert board.get_pwm("D6") == pytest.approx(0.01, abs=1 / 65535)
    motor.stop()
    mover.join(5)
    assert not mover.is_alive() and board.get_pwm("D6") == 0.0
    assert len(outcome) == 1 and isinstance(outcome[0], AbortedError)
    assert str(outcome[0]).startswith("motor 'm': go_for was stopped by a Stop after about ")
    assert "of 100 revolutions" in str(outcome[0])
    # a new command supersedes it: the motor runs as that command says
    outcome.clear()
    mover = threading.Thread(target=go)
    mover.start()
    while not motor.is_moving() and time.monotonic() < deadline + 5:
        time.sleep(0.005)
    motor.set_power(0.3)
    mover.join(5)
    assert isinstance(outcome[0], AbortedError) and "superseded by a new command" in str(outcome[0])
    assert board.get_pwm("D6") == pytest.approx(0.3, abs=1 / 65535)
    motor.stop()
    assert motor.get_properties().position_reporting is False
    with pytest.raises(NotImplementedError, match="no encoder"):
        motor.get_position()


def test_motor_dir_flip_and_config_errors(machine: Any) -> None:
    from viamlite.errors import ConfigError

    m = machine(board_config(), motor_config(dir_flip=True))
    m["m"].set_power(0.75)
    assert m["pi"].get_gpio("Dx_OUTPUT") is False
    with pytest.raises(ValueError, match="need max_rpm"):
        m["m"].set_rpm(10)
    with pytest.raises(ConfigError, match=r"attributes\.pins\.dir: the motor needs a dir pin"):
        machine(board_config(), {**motor_config(), "attributes": {"board": "pi", "pins": {"pwm": "D6"}}})


# -- I2C sensor ----------------------------------------------------------------------


class SimulatedThermometer:
    """A device on the simulated I2C bus: register 0x00 holds the temperature in 1/256 °C."""

    address = 0x48

    def __init__(self) -> None:
        self.registers = {0x00: int(21.5 * 256).to_bytes(2, "big", signed=True), 0x0F: b"\x75"}
        self.pointer = 0

    def write(self, data: bytes) -> None:
        if data:
            self.pointer = data[0]

    def read(self, size: int) -> bytes:
        return self.registers.get(self.pointer, b"\x00" * size)[:size]


class Thermometer:
    """A CircuitPython-style driver for :class:`SimulatedThermometer`, over Blinka's ``busio.I2C``."""

    def __init__(self, i2c: Any, address: int = 0x48) -> None:
        from adafruit_bus_device.i2c_device import I2CDevice

        self.device = I2CDevice(i2c, address)  # probes the address
        self.chip_id = self._read(0x0F, 1)[0]

    def _read(self, register: int, size: int) -> bytes:
        out = bytearray(size)
        with self.device as dev:
            dev.write_then_readinto(bytes([register]), out)
        return bytes(out)

    @property
    def temperature(self) -> float:
        return int.from_bytes(self._read(0x00, 2), "big", signed=True) / 256

    @property
    def identity(self) -> tuple[int, str]:
        return (self.chip_id, "sim")


class BusScanner:
    """A driver that only scans: what the simulated bus can do without an attached device."""

    def __init__(self, i2c: Any, address: int = 0) -> None:
        self.i2c = i2c

    @property
    def devices(self) -> int:
        while not self.i2c.try_lock():
            pass
        try:
            return len(self.i2c.scan())
        finally:
            self.i2c.unlock()


@pytest.fixture
def thermometer_on_bus(monkeypatch: pytest.MonkeyPatch) -> SimulatedThermometer:
    """Attach a :class:`SimulatedThermometer` to the simulated board's I2C bus."""
    from adafruit_blinka.microcontroller.generic_agnostic_board import i2c as sim_i2c

    device = SimulatedThermometer()

    class BusWithDevice(sim_i2c.I2C):
        def _device(self, address: int) -> SimulatedThermometer:
            if address != device.address:
                raise OSError(19, f"no device at {address:#04x}")
            return device

        def writeto(self, address: int, buffer: Any, *, stop: bool = True) -> None:
            self._device(address).write(bytes(buffer))

        def readfrom_into(self, address: int, buffer: Any, *, stop: bool = True) -> None:
            buffer[:] = self._device(address).read(len(buffer))

        def writeto_then_readfrom(self, address: int, out: Any, into: Any, *, out_start: int = 0,
                                  out_end: int | None = None, in_start: int = 0, in_end: int | None = None,
                                  stop: bool = False) -> None:
            self._device(address).write(bytes(out[out_start:out_end]))
            end = len(into) if in_end is None else in_end
            into[in_start:end] = self._device(address).read(end - in_start)

    monkeypatch.setattr(sim_i2c, "I2C", BusWithDevice)
    return device


def sensor_config(**attributes: Any) -> dict[str, Any]:
    return {"name": "thermo", "api": "rdk:component:sensor", "model": "viamlite:blinka:i2c-sensor",
            "attributes": {"driver": f"{__name__}:Thermometer", "address": 0x48,
                           "readings": {"temperature_c": "temperature", "id": "identity"}, **attributes}}


def test_i2c_sensor_reads_through_a_circuitpython_driver(machine: Any, thermometer_on_bus: Any) -> None:
    sensor = machine(sensor_config())["thermo"]
    assert sensor.get_readings() == {"temperature_c": 21.5, "id": [0x75, "sim"]}
    thermometer_on_bus.registers[0x00] = int(-3.25 * 256).to_bytes(2, "big", signed=True)
    assert sensor.get_readings()["temperature_c"] == -3.25
    assert sensor.i2c.__class__.__module__ == "busio"  # Blinka's own bus object


def test_i2c_sensor_errors(machine: Any, thermometer_on_bus: Any) -> None:
    from viamlite.errors import ConfigError

    m = machine(sensor_config(address=0x49))
    entry = m.entries()[0]
    assert entry.resource is None
    assert "could not start at address 0x49" in entry.error and "No I2C device at address: 0x49" in entry.error
    with pytest.raises(ConfigError, match=r"attributes\.driver: .*adafruit_nosuch.*pip install adafruit-circuitpython-nosuch"):
        machine(sensor_config(driver="adafruit_nosuch:Sensor"))
    with pytest.raises(ConfigError, match=r"attributes\.driver: driver 'Thermometer' is not \"module:Class\""):
        machine(sensor_config(driver="Thermometer"))
    with pytest.raises(ConfigError, match=r"attributes\.i2c\.scl: .*no pin 'GP5'"):
        machine(sensor_config(i2c={"scl": "GP5"}))
    sensor = machine(sensor_config(readings=["temperature", "missing"]))["thermo"]
    with pytest.raises(RuntimeError, match=r"reading 'missing' .*AttributeError"):
        sensor.get_readings()


def test_i2c_sensor_on_the_bare_simulated_bus(machine: Any) -> None:
    sensor = machine({"name": "scan", "api": "rdk:component:sensor", "model": "viamlite:blinka:i2c-sensor",
                      "attributes": {"driver": f"{__name__}:BusScanner", "readings": ["devices"]}})["scan"]
    assert sensor.get_readings() == {"devices": 3}  # the simulated bus always finds three addresses


# -- end to end: viam-sdk client, served servo, duty cycle read back -----------------


def test_servo_through_viam_sdk_sets_the_pin_duty_cycle(serve: Any) -> None:
    pytest.importorskip("viam", reason="the viam-sdk test dependency is not installed")
    from viam.components.board import Board as SdkBoard
    from viam.components.servo import Servo as SdkServo
    from viam.robot.client import RobotClient
    from viam.rpc.dial import DialOptions

    servo = {"min_angle_deg": 0, "max_angle_deg": 90, "min_width_us": 1000, "max_width_us": 2000,
             "frequency_hz": 50}
    config = {"components": [
        board_config(),
        {"name": "arm", "api": "rdk:component:servo", "model": "viamlite:blinka:servo",
         "attributes": {"board": "pi", "pin": "D6", "starting_position_deg": 45, **servo}},
    ]}
    proc = serve(config, env=SIMULATED)

    def expected_duty(angle: float) -> float:
        width_us = 1000 + angle / 90 * (2000 - 1000)
        return width_us * 50 / 1e6

    async def main() -> list[tuple[int, int, float, int]]:
        opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True))
        robot = await RobotClient.at_address(proc.address, opts)
        try:
            arm = SdkServo.from_robot(robot, "arm")
            pin = await SdkBoard.from_robot(robot, "pi").gpio_pin_by_name("D6")
            seen = [(45, await arm.get_position(), await pin.get_pwm(), await pin.get_pwm_frequency())]
            for angle in (0, 30, 90):
                await arm.move(angle)
                seen.append((angle, await arm.get_position(), await pin.get_pwm(), await pin.get_pwm_frequency()))
            return seen
        finally:
            await robot.close()

    for angle, position, duty, frequency in asyncio.run(main()):
        assert position == angle
        assert duty == pytest.approx(expected_duty(angle), abs=1 / 65535)
        assert frequency == 50
    code, _, err = proc.stop()
    assert code == 0, err
