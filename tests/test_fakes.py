"""The bundled fake plugin: every fake built through the registry as a machine would build it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import viamlite_plugins.fake as fake

from viamlite.components import interface_for
from viamlite.components.encoder import PositionType
from viamlite.config import parse_config
from viamlite.errors import (
    AbortedError,
    CancelledError,
    ConfigError,
    InvalidArgumentError,
    ResourceClosedError,
    ViamliteError,
)
from viamlite.names import API, Model, ResourceName
from viamlite.machine.operations import OperationManager
from viamlite.registry import ModelRegistry
from viamlite.spatial import Vector3

FAKE = Model.parse("fake")
WAIT_S = 5.0  # generous bound for anything that should happen "soon"


@pytest.fixture(scope="module")
def registry() -> ModelRegistry:
    registry = ModelRegistry()
    fake.viamlite_register_models(registry)
    return registry


def component_config(subtype: str, name: str | None = None, **attributes: Any) -> Any:
    obj = {"name": name or f"{subtype}1", "api": f"rdk:component:{subtype}", "model": "fake", "attributes": attributes}
    return parse_config({"components": [obj]}).components[0]


@pytest.fixture
def build(registry: ModelRegistry) -> Any:
    """build(subtype, name=None, deps=None, **attributes): validate and build as a machine does."""
    built: list[Any] = []

    def make(subtype: str, name: str | None = None, deps: dict[ResourceName, Any] | None = None, **attributes: Any) -> Any:
        config = component_config(subtype, name, **attributes)
        registration = registry.lookup(API.component(subtype), FAKE)
        assert registration is not None, f"no fake {subtype}"
        registration.validate(config)
        resource = registration.factory(config, deps or {})
        built.append(resource)
        return resource

    yield make
    for resource in built:
        resource.close()


def validate(registry: ModelRegistry, subtype: str, **attributes: Any) -> list[str]:
    config = component_config(subtype, **attributes)
    return list(registry.lookup(API.component(subtype), FAKE).validate(config))


def wait_for(predicate: Callable[[], bool], timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.002)
    return predicate()


class InThread:
    """Run ``fn`` in a thread, keeping its exception."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.error: BaseException | None = None
        self.result: Any = None

        def run() -> None:
            try:
                self.result = fn()
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = WAIT_S) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the call did not end"


# -- registration --------------------------------------------------------------------


def test_registers_fake_model_for_every_component_api(registry: ModelRegistry, build: Any) -> None:
    assert len(registry) == 13
    for subtype in fake.FAKES:
        api = API.component(subtype)
        assert registry.models_for(api) == [Model("rdk", "builtin", "fake")]
        resource = build(subtype)
        assert isinstance(resource, interface_for(api))
        assert resource.name == f"{subtype}1"
        assert isinstance(resource.get_status(), dict)


def test_importing_the_plugin_does_not_import_the_fakes() -> None:
    code = ("import sys, viamlite_plugins.fake; "
            "print(sorted(m for m in sys.modules if m.startswith('viamlite_plugins.fake.')))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_bad_attribute_is_a_config_error_naming_it(registry: ModelRegistry) -> None:
    with pytest.raises(ConfigError) as info:
        validate(registry, "motor", max_rpm="fast")
    assert "components[0].attributes.max_rpm" in str(info.value)
    assert "fix:" in str(info.value)
    with pytest.raises(ConfigError, match=r"attributes\.max_angle_deg.*below min_angle_deg"):
        validate(registry, "servo", min_angle_deg=90, max_angle_deg=10)
    with pytest.raises(ConfigError, match=r"attributes\.analogs\[0\]\.value"):
        validate(registry, "board", analogs=[{"name": "a1", "value": 99999}])
    with pytest.raises(ConfigError, match=r"attributes\.labels"):
        validate(registry, "switch", position_count=3, labels=["a", "b"])
    assert validate(registry, "motor", max_rpm=200, ticks_per_rotation=10) == []


# -- servo ---------------------------------------------------------------------------


def test_servo_moves_and_records(build: Any) -> None:
    servo = build("servo")
    servo.move(90)
    servo.move(180)
    servo.stop()
    assert servo.get_position() == 180
    assert servo.is_moving() is False
    servo.assert_events(("move", {"angle_deg": 90}), ("move", {"angle_deg": 180}), "stop")


def test_servo_range_error_names_the_range(build: Any) -> None:
    servo = build("servo", min_angle_deg=10, max_angle_deg=120)
    with pytest.raises(InvalidArgumentError, match="10 to 120"):
        servo.move(150)
    with pytest.raises(InvalidArgumentError, match="10 to 120"):
        servo.move(5)
    assert servo.get_position() == 10
    assert servo.events == []


def test_servo_reconfigure_in_place_clamps_the_angle(build: Any) -> None:
    servo = build("servo")
    servo.move(170)
    servo.reconfigure(component_config("servo", max_angle_deg=90), {})
    assert servo.get_position() == 90
    with pytest.raises(ConfigError):
        servo.reconfigure(component_config("servo", max_angle_deg=500), {})
    assert servo.get_status()["max_angle_deg"] == 90


# -- motor ---------------------------------------------------------------------------


def test_motor_go_for_moves_over_time_and_stops_at_the_target(build: Any) -> None:
    motor = build("motor", max_rpm=6000)
    call = InThread(lambda: motor.go_for(600, 3))  # 0.3 s
    assert wait_for(motor.is_moving)
    positions = []
    while motor.is_moving() and len(positions) < 5:
        positions.append(motor.get_position())
        time.sleep(0.02)
    call.join()
    assert call.error is None
    assert len(positions) >= 2 and positions == sorted(positions) and positions[-1] > positions[0]
    assert all(0 <= p < 3 for p in positions)
    assert motor.get_position() == pytest.approx(3.0)
    assert motor.is_moving() is False
    assert motor.is_powered() == (False, 0.0)
    motor.assert_events(("go_for", {"rpm": 600, "revolutions": 3}))


def test_motor_direction_is_the_product_of_signs(build: Any) -> None:
    motor = build("motor", max_rpm=60000)
    motor.go_for(-60000, 2)
    assert motor.get_position() == pytest.approx(-2.0)
    motor.go_for(-60000, -3)
    assert motor.get_position() == pytest.approx(1.0)


def test_motor_stop_ends_go_for_early_and_the_call_says_so(build: Any) -> None:
    motor = build("motor")
    call = InThread(lambda: motor.go_for(60, 100))  # would take 100 s
    assert wait_for(lambda: motor.get_position() > 0)
    motor.stop()
    call.join(timeout=1.0)
    # cut short by another caller's stop: not a success
    assert isinstance(call.error, AbortedError)
    assert str(call.error).startswith("motor 'motor1': go_for was stopped by a Stop after ")
    assert str(call.error).endswith(" of 100 revolutions")
    stopped_at = motor.get_position()
    assert 0 < stopped_at < 100
    assert f"after {stopped_at:.4g} of" in str(call.error)
    assert motor.is_moving() is False
    time.sleep(0.02)
    assert motor.get_position() == stopped_at
    motor.assert_events("go_for", "stop", "aborted")


def test_motor_new_command_supersedes_go_to_and_the_call_says_so(build: Any) -> None:
    motor = build("motor")
    call = InThread(lambda: motor.go_to(60, 50))
    assert wait_for(lambda: motor.get_position() > 0)
    motor.set_power(-0.5)  # another caller takes over: the motor runs on as told
    call.join(timeout=1.0)
    assert isinstance(call.error, AbortedError)
    assert "motor 'motor1': go_to was superseded by a new command after " in str(call.error)
    assert str(call.error).endswith("of the 50 revolutions to position 50")
    assert motor.is_powered() == (True, -0.5)
    motor.stop()


def test_motor_go_for_that_arrived_returns_whatever_comes_next(build: Any) -> None:
    motor = build("motor", max_rpm=60000)
    call = InThread(lambda: motor.go_for(60000, 1))  # 1 ms
    assert wait_for(lambda: motor.get_position() == 1.0)  # arrived (settled by the read)
    motor.stop()
    call.join(timeout=1.0)
    assert call.error is None


def test_motor_cancelled_go_for_stops_and_reraises(build: Any) -> None:
    motor = build("motor")
    ops = OperationManager()

    def go() -> None:
        with ops.run("/viam.component.motor.v1.MotorService/GoFor"):
            motor.go_for(60, 100)

    call = InThread(go)
    assert wait_for(lambda: bool(ops.list()) and motor.is_moving())
    assert ops.cancel(ops.list()[0].id)
    call.join(timeout=1.0)
    assert isinstance(call.error, CancelledError)
    assert motor.is_moving() is False
    assert motor.is_powered().is_on is False
    motor.assert_events("go_for", "cancelled")


def test_motor_close_ends_go_for(build: Any) -> None:
    motor = build("motor")
    call = InThread(lambda: motor.go_for(60, 100))
    assert wait_for(motor.is_moving)
    motor.close()
    call.join(timeout=1.0)
    assert isinstance(call.error, ResourceClosedError)


def test_motor_set_power_runs_until_stopped(build: Any) -> None:
    motor = build("motor", max_rpm=6000)
    motor.set_power(0.5)
    assert motor.is_powered() == (True, 0.5)
    assert motor.get_status()["rpm"] == 3000
    assert wait_for(lambda: motor.get_position() > 0.5)
    assert motor.is_moving()
    motor.stop()
    assert motor.is_powered() == (False, 0.0)
    assert not motor.is_moving()
    with pytest.raises(InvalidArgumentError, match="-1 to 1"):
        motor.set_power(1.5)
    motor.assert_events(("set_power", {"power_pct": 0.5}), "stop")


def test_motor_rpm_rules(build: Any) -> None:
    motor = build("motor", max_rpm=100)
    with pytest.raises(InvalidArgumentError, match="rpm must not be 0"):
        motor.go_for(0, 5)
    with pytest.raises(InvalidArgumentError, match="rpm"):
        motor.go_to(0, 5)
    motor.set_rpm(1000)  # clamped to max_rpm
    assert motor.get_status()["rpm"] == 100
    motor.set_rpm(0)
    assert not motor.is_moving()
    motor.go_for(-50, 0)  # 0 revolutions: runs until stopped, returns at once
    assert motor.is_moving() and motor.get_status()["rpm"] == -50
    motor.stop()


def test_motor_go_to_and_reset_zero_position(build: Any) -> None:
    motor = build("motor", max_rpm=60000, ticks_per_rotation=4)
    motor.reset_zero_position(2.0)
    assert motor.get_position() == 2.0
    motor.go_to(-60000, 0.5)  # the sign of rpm does not matter for go_to
    assert motor.get_position() == 0.5
    motor.go_to(60000, 0.5)  # already there
    assert motor.get_properties().position_reporting is True
    motor.assert_events(("reset_zero_position", {"offset": 2.0}), ("go_to", {"position_revolutions": 0.5}), "go_to")


def test_motor_reconfigure_keeps_position(build: Any) -> None:
    motor = build("motor", max_rpm=60000)
    motor.go_for(60000, 2)
    motor.reconfigure(component_config("motor", max_rpm=50), {})
    assert motor.get_position() == pytest.approx(2.0)
    assert motor.get_status()["max_rpm"] == 50
    assert motor.events[-1].method == "reconfigure"


# -- encoder -------------------------------------------------------------------------


def test_encoder_follows_its_motor(registry: ModelRegistry, build: Any) -> None:
    assert validate(registry, "encoder", motor="m1") == ["m1"]
    motor = build("motor", "m1", max_rpm=60000)
    encoder = build("encoder", deps={motor.resource_name: motor}, motor="m1", ticks_per_rotation=100)
    motor.go_for(60000, 2.5)
    assert encoder.get_position().value == pytest.approx(250)
    assert encoder.get_position(PositionType.TICKS_COUNT).position_type == PositionType.TICKS_COUNT
    degrees = encoder.get_position(PositionType.ANGLE_DEGREES)
    assert degrees.value == pytest.approx(180) and degrees.position_type == PositionType.ANGLE_DEGREES
    encoder.reset_position()
    assert encoder.get_position().value == pytest.approx(0)
    motor.go_for(60000, 1)
    assert encoder.get_position().value == pytest.approx(100)
    motor.reset_zero_position(0)  # the motor's zero is its own; the encoder counts the shaft
    assert encoder.get_position().value == pytest.approx(100)
    encoder.assert_events("reset_position")


def test_encoder_without_motor_is_set_by_command(build: Any) -> None:
    encoder = build("encoder")
    assert encoder.get_position().value == 0
    assert encoder.do_command({"set_ticks": 250}) == {"ticks": 250}
    assert encoder.get_position().value == 250
    assert encoder.get_position(PositionType.ANGLE_DEGREES).value == pytest.approx(180)
    encoder.reset_position()
    assert encoder.get_position().value == 0
    with pytest.raises(InvalidArgumentError, match="set_ticks"):
        encoder.do_command({"bogus": 1})
    encoder.assert_events(("do_command", {"command": {"set_ticks": 250}}), "reset_position")


def test_encoder_motor_missing_from_dependencies(build: Any) -> None:
    with pytest.raises(ConfigError, match=r"attributes\.motor.*'m9'"):
        build("encoder", motor="m9")


# -- board ---------------------------------------------------------------------------


def test_board_gpio_pwm_and_ranges(build: Any) -> None:
    board = build("board")
    assert board.get_gpio("11") is False
    board.set_gpio("11", True)
    assert board.get_gpio("11") is True
    assert board.get_pwm("12") == 0 and board.get_pwm_frequency("12") == 0
    board.set_pwm("12", 0.25)
    board.set_pwm_frequency("12", 1000)
    assert board.get_pwm("12") == 0.25 and board.get_pwm_frequency("12") == 1000
    with pytest.raises(InvalidArgumentError, match="0 to 1"):
        board.set_pwm("12", 1.5)
    with pytest.raises(InvalidArgumentError, match="0 or more"):
        board.set_pwm_frequency("12", -5)
    board.set_power_mode(2, 1.5)
    assert board.get_status()["power_mode"] == 2
    board.assert_events(("set_gpio", {"pin": "11", "high": True}), ("set_pwm", {"duty_cycle_pct": 0.25}),
                        ("set_pwm_frequency", {"frequency_hz": 1000}), ("set_power_mode", {"mode": 2, "duration_s": 1.5}))


def test_board_analogs(build: Any) -> None:
    board = build("board", analogs=[{"name": "a1", "value": 1234}, {"name": "a2", "pin": "3"}])
    reading = board.read_analog("a1")
    assert reading.value == 1234
    assert (reading.min_range, reading.max_range) == (0, 3.3) and reading.step_size > 0
    assert 0 <= board.read_analog("a2").value <= 4095
    with pytest.raises(InvalidArgumentError, match="a1, a2"):
        board.read_analog("nope")
    board.write_analog("a2", 77)
    assert board.read_analog("a2").value == 77
    free = build("board", "board2")
    assert 0 <= free.read_analog("anything").value <= 4095


def test_board_interrupts_count_rising_edges(build: Any) -> None:
    board = build("board", digital_interrupts=[{"name": "di1", "pin": "14"}])
    board.set_gpio("14", True)
    board.set_gpio("14", True)  # no edge
    board.set_gpio("14", False)
    board.set_gpio("14", True)
    assert board.get_digital_interrupt_value("14") == 2
    assert board.get_digital_interrupt_value("di1") == 2
    assert board.do_command({"tick": {"pin": "di1", "high": True}}) == {"count": 3}
    assert board.get_digital_interrupt_value("never") == 0
    with pytest.raises(InvalidArgumentError, match="tick"):
        board.do_command({"tock": {}})


def test_board_streams_ticks_as_they_happen(build: Any) -> None:
    board = build("board")
    stream = board.stream_ticks(["d1", "d2"])
    got: list[Any] = []
    consumer = InThread(lambda: [got.append(tick) for tick in stream])
    board.set_gpio("d1", True)
    board.set_gpio("other", True)  # not subscribed
    board.do_command({"tick": {"pin": "d2", "high": False}})
    assert wait_for(lambda: len(got) == 2)
    assert [(t.pin_name, t.high) for t in got] == [("d1", True), ("d2", False)]
    assert all(t.time_ns > 0 for t in got)
    assert board.streams == 1
    stream.close()  # ends the blocked iteration and unsubscribes
    consumer.join(timeout=1.0)
    assert consumer.error is None and board.streams == 0
    board.set_gpio("d1", False)
    assert len(got) == 2


def test_board_close_ends_tick_streams(build: Any) -> None:
    board = build("board")
    stream = board.stream_ticks([])  # every interrupt
    board.set_gpio("x", True)
    consumer = InThread(lambda: list(stream))
    board.close()
    consumer.join(timeout=1.0)
    assert consumer.error is None
    assert [t.pin_name for t in consumer.result] == ["x"]
    with pytest.raises(ResourceClosedError):
        board.stream_ticks(["x"])


def test_board_tick_stream_ends_on_cancel(build: Any) -> None:
    board = build("board")
    ops = OperationManager()

    def consume() -> list[Any]:
        with ops.run("/viam.component.board.v1.BoardService/StreamTicks"):
            return list(board.stream_ticks(["x"]))

    consumer = InThread(consume)
    assert wait_for(lambda: board.streams == 1)
    ops.cancel_all()
    consumer.join(timeout=1.0)
    assert isinstance(consumer.error, CancelledError)
    assert board.streams == 0


# -- sensors -------------------------------------------------------------------------


def test_sensor_readings(build: Any) -> None:
    simulated = build("sensor")
    readings = simulated.get_readings()
    assert 17 <= readings["temperature_c"] <= 25 and 39 <= readings["humidity_pct"] <= 51
    sensor = build("sensor", "sensor2", readings={"rpm": 5, "tags": ["a", "b"]})
    assert sensor.get_readings() == {"rpm": 5, "tags": ["a", "b"]}
    assert sensor.do_command({"set_readings": {"rpm": 7}}) == {"readings": {"rpm": 7}}
    assert sensor.get_readings() == {"rpm": 7}
    sensor.do_command({"set_readings": None})
    assert sensor.get_readings()["rpm"] == 5
    sensor.assert_events(("do_command", {"command": {"set_readings": {"rpm": 7}}}), "do_command")


def test_movement_sensor(build: Any) -> None:
    sensor = build("movement_sensor", compass_heading=90, position={"latitude": 1.5, "longitude": 2.5},
                   linear_velocity={"x": 1, "y": 2, "z": 3})
    assert sensor.get_compass_heading() == 90
    assert sensor.get_linear_velocity() == Vector3(1, 2, 3)
    assert sensor.get_position().coordinate == (1.5, 2.5)
    assert all(sensor.get_properties())
    readings = sensor.get_readings()
    assert {"linear_velocity", "angular_velocity", "linear_acceleration", "compass", "orientation",
            "position", "altitude"} <= set(readings)
    accuracy = sensor.get_accuracy()
    assert isinstance(accuracy.accuracy, dict) and accuracy.position_hdop is not None


def test_power_sensor(build: Any) -> None:
    default = build("power_sensor")
    assert default.get_readings() == {"volts": 12.0, "amps": 0.5, "is_ac": False, "watts": 6.0}
    sensor = build("power_sensor", "ps2", volts=230, amps=2, is_ac=True)
    assert sensor.get_voltage() == (230, True)
    assert sensor.get_power() == pytest.approx(460)


# -- the rest ------------------------------------------------------------------------


def test_generic_echoes_commands(build: Any) -> None:
    generic = build("generic")
    assert generic.do_command({"hello": [1, 2], "n": 3}) == {"hello": [1, 2], "n": 3}
    generic.assert_events(("do_command", {"command": {"hello": [1, 2], "n": 3}}))
    assert generic.get_status() == {"commands": 1}


def test_base_move_straight_and_spin(build: Any) -> None:
    base = build("base", width_mm=400)
    call = InThread(lambda: base.move_straight(300, 1000))  # 0.3 s
    assert wait_for(base.is_moving)
    ys = []
    while base.is_moving() and len(ys) < 4:
        ys.append(base.get_status()["y_mm"])
        time.sleep(0.02)
    call.join()
    assert call.error is None
    assert len(ys) >= 2 and ys == sorted(ys) and ys[-1] > ys[0]
    assert base.get_status()["y_mm"] == pytest.approx(300)
    assert not base.is_moving()
    base.spin(90, 9000)
    assert base.get_status()["theta_deg"] == pytest.approx(90)
    base.move_straight(100, 10000)  # now facing -x
    assert base.get_status()["x_mm"] == pytest.approx(-100)
    assert base.get_properties().width_meters == pytest.approx(0.4)
    base.assert_events(("move_straight", {"distance_mm": 300}), ("spin", {"angle_deg": 90}), "move_straight")


def test_base_stop_cancel_and_errors(build: Any) -> None:
    base = build("base")
    call = InThread(lambda: base.spin(360, 10))  # would take 36 s
    assert wait_for(base.is_moving)
    base.stop()
    call.join(timeout=1.0)
    assert isinstance(call.error, AbortedError) and not base.is_moving()
    assert str(call.error).startswith("base 'base1': spin was stopped by a Stop after ")
    assert str(call.error).endswith(" of 360 degrees")
    call = InThread(lambda: base.move_straight(1000, 10))
    assert wait_for(base.is_moving)
    base.set_velocity(Vector3(0, 5, 0), Vector3(0, 0, 0))
    call.join(timeout=1.0)
    assert isinstance(call.error, AbortedError) and base.is_moving()
    assert "move_straight was superseded by a new command after " in str(call.error)
    assert str(call.error).endswith(" of 1000 mm")
    base.stop()
    ops = OperationManager()

    def move() -> None:
        with ops.run("/viam.component.base.v1.BaseService/MoveStraight"):
            base.move_straight(1000, 10)

    call = InThread(move)
    assert wait_for(lambda: bool(ops.list()) and base.is_moving())
    ops.cancel_all()
    call.join(timeout=1.0)
    assert isinstance(call.error, CancelledError) and not base.is_moving()
    with pytest.raises(InvalidArgumentError, match="mm_per_sec must not be 0"):
        base.move_straight(100, 0)
    with pytest.raises(InvalidArgumentError, match="degs_per_sec"):
        base.spin(10, 0)
    base.move_straight(0, 0)  # nothing to do
    base.set_velocity(Vector3(0, 100, 0), Vector3(0, 0, 0))
    assert base.is_moving()
    assert wait_for(lambda: base.get_status()["y_mm"] > 0)
    base.stop()
    base.set_power(Vector3(0, 0.5, 0), Vector3(0, 0, 0))
    assert base.is_moving()
    base.stop()
    assert not base.is_moving()
    with pytest.raises(InvalidArgumentError, match="-1 to 1"):
        base.set_power(Vector3(0, 2, 0), Vector3(0, 0, 0))


def test_gripper(build: Any) -> None:
    gripper = build("gripper", max_width_mm=80)
    assert gripper.get_current_inputs() == [80]
    assert gripper.grab() is True
    assert gripper.is_holding_something().is_holding_something is True
    gripper.open()
    assert gripper.is_holding_something().is_holding_something is False
    gripper.go_to_inputs([30])
    assert gripper.get_current_inputs() == [30]
    with pytest.raises(InvalidArgumentError, match="0 to 80"):
        gripper.go_to_inputs([90])
    fmt, data = gripper.get_kinematics()
    assert fmt == 1 and json.loads(data)["joints"][0]["max"] == 80
    assert gripper.is_moving() is False
    gripper.assert_events("grab", "open", ("go_to_inputs", {"values": [30]}))


def test_button_counts_pushes(build: Any) -> None:
    button = build("button")
    for _ in range(3):
        button.push()
    assert button.get_status() == {"pushes": 3}
    button.assert_events("push", "push", "push")


def test_switch(build: Any) -> None:
    switch = build("switch", position_count=3, labels=["low", "mid", "high"])
    assert switch.get_number_of_positions() == (3, ["low", "mid", "high"])
    switch.set_position(2)
    assert switch.get_position() == 2 and switch.get_status()["label"] == "high"
    with pytest.raises(InvalidArgumentError, match="0 to 2"):
        switch.set_position(3)
    switch.reconfigure(component_config("switch"), {})
    assert switch.get_position() == 1 and switch.get_number_of_positions() == (2, [])
    switch.assert_events(("set_position", {"position": 2}), "reconfigure")


# -- lifecycle -----------------------------------------------------------------------

CALLS: dict[str, Callable[[Any], Any]] = {
    "base": lambda r: r.move_straight(10, 10),
    "board": lambda r: r.set_gpio("1", True),
    "button": lambda r: r.push(),
    "camera": lambda r: r.get_images(),
    "encoder": lambda r: r.get_position(),
    "generic": lambda r: r.do_command({}),
    "gripper": lambda r: r.grab(),
    "motor": lambda r: r.set_power(0.5),
    "movement_sensor": lambda r: r.get_readings(),
    "power_sensor": lambda r: r.get_power(),
    "sensor": lambda r: r.get_readings(),
    "servo": lambda r: r.move(10),
    "switch": lambda r: r.set_position(1),
}


def test_every_fake_has_a_closed_check() -> None:
    assert set(CALLS) == set(fake.FAKES)


@pytest.mark.parametrize("subtype", sorted(CALLS))
def test_close_is_idempotent_and_closed_fakes_refuse(build: Any, subtype: str) -> None:
    resource = build(subtype)
    with resource:
        assert not resource.closed
    assert resource.closed
    resource.close()
    with pytest.raises(ResourceClosedError, match="is closed") as info:
        CALLS[subtype](resource)
    assert isinstance(info.value, ViamliteError)
    with pytest.raises(ResourceClosedError):
        resource.reconfigure(component_config(subtype), {})
    assert isinstance(resource.get_status(), dict)
