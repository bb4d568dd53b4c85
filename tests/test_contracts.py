"""The contract tests of viamlite.testing.contracts, on every backend that has the API.

As gpiozero runs one suite on mock and real pins, each contract runs on the fake models,
Blinka's simulated board (``BLINKA_OS_AGNOSTIC=1``) and the serial plugin on the firmware
in the simulator; a test's id ends in its backend (``TestServo::test_move_then_get_position[serial]``).
What a backend cannot do is said in its capabilities, never skipped: the serial board has
no PWM (``pwm_pin=None``), so the contract checks that its PWM calls raise NotSupportedError.

The serial backend needs the AVR toolchain and simavr: without them its tests are skipped
with the reason, unless VIAMLITE_REQUIRE_TOOLCHAIN=1, which fails them instead.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from viamlite.testing.contracts import (
    BoardCapabilities,
    BoardContract,
    EncoderCapabilities,
    EncoderContract,
    MotorCapabilities,
    MotorContract,
    SensorCapabilities,
    SensorContract,
    ServoCapabilities,
    ServoContract,
)

REPO = Path(__file__).resolve().parent.parent
SIMULATED_BLINKA = {"BLINKA_OS_AGNOSTIC": "1", "BLINKA_SKIP_DEPENDENCY_CHECK": "1"}
FAKE = "rdk:builtin:fake"
Backend = tuple[Any, Any]  # (the resource, its capabilities)


def comp(name: str, api: str, model: str, **attributes: Any) -> dict[str, Any]:
    return {"name": name, "api": f"rdk:component:{api}", "model": model, "attributes": attributes}


@pytest.fixture(scope="module", autouse=True)
def simulated_blinka() -> Iterator[None]:
    """Blinka reads these when first imported, so they are set before any Blinka model is built."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in SIMULATED_BLINKA.items():
            mp.setenv(key, value)
        yield


@pytest.fixture
def build() -> Iterator[Callable[..., Any]]:
    """``build(*components)``: a machine of those components (through the registry), closed at the end."""
    from viamlite.machine import Machine

    built: list[Any] = []

    def make(*components: dict[str, Any]) -> Any:
        machine = Machine.from_config({"components": list(components)})
        built.append(machine)
        return machine

    yield make
    for machine in reversed(built):
        machine.close()


@pytest.fixture(scope="module")
def simulator() -> Iterator[Any]:
    """The viamlite firmware in the simulator, the servo's pin 9 wired back to pin 8 (one per module)."""
    missing = _toolchain_missing()
    if missing:
        if os.environ.get("VIAMLITE_REQUIRE_TOOLCHAIN") == "1":
            pytest.fail(f"VIAMLITE_REQUIRE_TOOLCHAIN=1 but the simulator cannot run: {missing}")
        pytest.skip(f"the serial backend needs the simulator: {missing}")
    from hil.build import build_firmware
    from hil.sim import Simulator

    with Simulator(build_firmware(115200), wires=[(9, 8)]) as sim:
        yield sim


def _toolchain_missing() -> str | None:
    if not (REPO / "firmware" / "Makefile").exists():
        return "firmware/ is not in this checkout"
    try:
        from hil.build import toolchain_missing
    except ImportError as exc:
        return f"the simulator harness hil/ cannot be imported: {exc}"
    return toolchain_missing()


def _serial(request: pytest.FixtureRequest, build: Callable[..., Any], name: str, api: str,
            **attributes: Any) -> Any:
    sim = request.getfixturevalue("simulator")
    port = sim.link or sim.pty
    return build(comp(name, api, f"viamlite:serial:{api}", port=port, **attributes))[name]


def _blinka(build: Callable[..., Any], *components: dict[str, Any]) -> Any:
    pytest.importorskip("adafruit_blinka", reason="adafruit-blinka is not installed (pip install -e .[test])")
    return build(comp("pi", "board", "viamlite:blinka:board", analogs=[{"name": "pi_reader", "pin": "A1"}],
                      digital_interrupts=[{"name": "toggle", "pin": "Dx_INPUT_TOGGLE"}]), *components)


# -- servo -----------------------------------------------------------------------------


def _servo(backend: str, request: pytest.FixtureRequest, build: Callable[..., Any]) -> Backend:
    if backend == "fake":
        return build(comp("s", "servo", FAKE))["s"], ServoCapabilities()
    if backend == "blinka":
        machine = _blinka(build, comp("s", "servo", "viamlite:blinka:servo", board="pi", pin="D6"))
        return machine["s"], ServoCapabilities()
    # whole degrees 0..180; get_state and detach are its commands
    return _serial(request, build, "s", "servo", pin=9), ServoCapabilities(command={"get_state": {}})


@pytest.fixture(params=["fake", "blinka", "serial"])
def servo_backend(request: pytest.FixtureRequest, build: Callable[..., Any]) -> Backend:
    return _servo(request.param, request, build)


class TestServo(ServoContract):
    @pytest.fixture
    def resource(self, servo_backend: Backend) -> Any:
        return servo_backend[0]

    @pytest.fixture(name="capabilities")
    def _capabilities(self, servo_backend: Backend) -> Any:
        return servo_backend[1]


# -- board -----------------------------------------------------------------------------


def _board(backend: str, request: pytest.FixtureRequest, build: Callable[..., Any]) -> Backend:
    if backend == "fake":
        # every pin name exists; write_analog takes any whole number and reads back
        caps = BoardCapabilities(gpio_pin="8", pwm_pin="12", analog_reader="a1", analog_writer="w1",
                                 analog_write_range=None, analog_loopback=True, interrupt="di1",
                                 command={"tick": {"pin": "di1", "high": True}})
        return build(comp("b", "board", FAKE))["b"], caps
    if backend == "blinka":
        # the simulated board: Dx_OUTPUT reads back, D6 does PWM, Ax_OUTPUT is a 16-bit DAC
        caps = BoardCapabilities(gpio_pin="Dx_OUTPUT", pwm_pin="D6", analog_reader="pi_reader",
                                 analog_writer="Ax_OUTPUT", analog_write_range=(0, 65535), analog_loopback=True,
                                 interrupt="toggle", command={"pins": {}})
        return _blinka(build)["pi"], caps
    # the firmware has no PWM outputs, analog writers or digital interrupts
    caps = BoardCapabilities(gpio_pin="12", analog_reader="a0", command={"status": {}})
    return _serial(request, build, "b", "board", analogs=[{"name": "a0", "pin": "14"}]), caps


@pytest.fixture(params=["fake", "blinka", "serial"])
def board_backend(request: pytest.FixtureRequest, build: Callable[..., Any]) -> Backend:
    return _board(request.param, request, build)


class TestBoard(BoardContract):
    @pytest.fixture
    def resource(self, board_backend: Backend) -> Any:
        return board_backend[0]

    @pytest.fixture(name="capabilities")
    def _capabilities(self, board_backend: Backend) -> Any:
        return board_backend[1]


# -- motor -----------------------------------------------------------------------------


def _motor(backend: str, build: Callable[..., Any]) -> Backend:
    if backend == "fake":
        return build(comp("m", "motor", FAKE))["m"], MotorCapabilities(rpm=60, revolutions=0.05)
    # no encoder: position calls are not supported; max_rpm makes go_for possible
    machine = _blinka(build, comp("m", "motor", "viamlite:blinka:motor", board="pi",
                                  pins={"pwm": "D6", "dir": "Dx_OUTPUT"}, max_rpm=6000))
    return machine["m"], MotorCapabilities(position_reporting=False, rpm=6000, revolutions=0.5)


@pytest.fixture(params=["fake", "blinka"])
def motor_backend(request: pytest.FixtureRequest, build: Callable[..., Any]) -> Backend:
    return _motor(request.param, build)


class TestMotor(MotorContract):
    @pytest.fixture
    def resource(self, motor_backend: Backend) -> Any:
        return motor_backend[0]

    @pytest.fixture(name="capabilities")
    def _capabilities(self, motor_backend: Backend) -> Any:
        return motor_backend[1]


# -- sensor ----------------------------------------------------------------------------


def _sensor(backend: str, request: pytest.FixtureRequest, build: Callable[..., Any]) -> Backend:
    if backend == "fake":
        caps = SensorCapabilities(readings=frozenset({"temperature_c", "humidity_pct"}),
                                  command={"set_readings": None})
        return build(comp("t", "sensor", FAKE))["t"], caps
    caps = SensorCapabilities(readings=frozenset({"pot", "pot_volts", "button"}))
    return _serial(request, build, "t", "sensor", analog={"pot": "A1"}, digital={"button": 7}), caps


@pytest.fixture(params=["fake", "serial"])
def sensor_backend(request: pytest.FixtureRequest, build: Callable[..., Any]) -> Backend:
    return _sensor(request.param, request, build)


class TestSensor(SensorContract):
    @pytest.fixture
    def resource(self, sensor_backend: Backend) -> Any:
        return sensor_backend[0]

    @pytest.fixture(name="capabilities")
    def _capabilities(self, sensor_backend: Backend) -> Any:
        return sensor_backend[1]


# -- encoder ---------------------------------------------------------------------------


def _encoder(backend: str, request: pytest.FixtureRequest, build: Callable[..., Any]) -> Backend:
    if backend == "fake":
        def set_ticks(encoder: Any, ticks: int) -> None:
            encoder.do_command({"set_ticks": encoder.get_position().value + ticks})

        caps = EncoderCapabilities(degrees=True, turn=set_ticks, command={"set_ticks": 0})
        return build(comp("e", "encoder", FAKE))["e"], caps
    sim = request.getfixturevalue("simulator")

    def quadrature(encoder: Any, ticks: int) -> None:
        sim.quadrature(2, 3, ticks, 2000)  # A leading B: counts up

    return _serial(request, build, "e", "encoder", pin_a=2, pin_b=3), EncoderCapabilities(turn=quadrature)


@pytest.fixture(params=["fake", "serial"])
def encoder_backend(request: pytest.FixtureRequest, build: Callable[..., Any]) -> Backend:
    return _encoder(request.param, request, build)


class TestEncoder(EncoderContract):
    @pytest.fixture
    def resource(self, encoder_backend: Backend) -> Any:
        return encoder_backend[0]

    @pytest.fixture(name="capabilities")
    def _capabilities(self, encoder_backend: Backend) -> Any:
        return encoder_backend[1]
