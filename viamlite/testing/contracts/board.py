"""The board contract: GPIO levels, PWM, analog reads and writes, digital interrupts."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from viamlite.components.board import AnalogValue, Board, Tick
from viamlite.errors import InvalidArgumentError, NotSupportedError
from viamlite.testing.contracts.common import NOT_FINITE, NOT_NUMBERS, Capabilities, Contract, raises


@dataclass(frozen=True)
class BoardCapabilities(Capabilities):
    """``gpio_pin`` (required): a pin that reads back the level ``set_gpio`` drives on it.

    Each of the others names what the board has, or is None when it has none, in which case
    the contract checks that those calls raise NotSupportedError:

    * ``pwm_pin``: a PWM output (duty cycle and frequency read back, ``pwm_frequency_hz``
      being one it takes);
    * ``analog_reader``: a reader (or pin) ``read_analog`` answers;
    * ``analog_writer``: a pin ``write_analog`` takes whole numbers on, within
      ``analog_write_range`` (both ends included; None: any whole number, so no value is
      out of range); with ``analog_loopback`` reading it back answers what was written;
    * ``interrupt``: a digital interrupt (its count and a tick stream).
    """

    gpio_pin: str = ""
    pwm_pin: str | None = None
    pwm_frequency_hz: int = 1000
    analog_reader: str | None = None
    analog_writer: str | None = None
    analog_write_range: tuple[int, int] | None = (0, 255)
    analog_loopback: bool = False
    interrupt: str | None = None


class BoardContract(Contract):
    """What :class:`viamlite.components.board.Board` promises."""

    interface = Board
    capabilities = BoardCapabilities()

    def closed_calls(self, resource: Any, capabilities: Any) -> dict[str, Callable[[], Any]]:
        pin = capabilities.gpio_pin
        calls: dict[str, Callable[[], Any]] = {"set_gpio": lambda: resource.set_gpio(pin, True),
                                               "get_gpio": lambda: resource.get_gpio(pin)}
        if capabilities.pwm_pin is not None:
            calls["set_pwm"] = lambda: resource.set_pwm(capabilities.pwm_pin, 0.5)
            calls["get_pwm"] = lambda: resource.get_pwm(capabilities.pwm_pin)
        if capabilities.analog_reader is not None:
            calls["read_analog"] = lambda: resource.read_analog(capabilities.analog_reader)
        if capabilities.interrupt is not None:
            calls["get_digital_interrupt_value"] = lambda: resource.get_digital_interrupt_value(capabilities.interrupt)
            calls["stream_ticks"] = lambda: resource.stream_ticks([capabilities.interrupt])
        return calls

    def _pin(self, capabilities: BoardCapabilities) -> str:
        if not capabilities.gpio_pin:
            raise AssertionError("BoardCapabilities.gpio_pin is required: a pin that reads back what set_gpio drives")
        return capabilities.gpio_pin

    # -- GPIO --------------------------------------------------------------------------
    def test_set_gpio_then_get_gpio(self, resource: Any, capabilities: BoardCapabilities) -> None:
        pin = self._pin(capabilities)
        for high in (True, False, True, False):
            resource.set_gpio(pin, high)
            level = resource.get_gpio(pin)
            assert level is high, f"set_gpio({pin!r}, {high}) then get_gpio answers {level!r}"

    # -- PWM ---------------------------------------------------------------------------
    def test_pwm_duty_cycle_and_frequency_read_back(self, resource: Any, capabilities: BoardCapabilities) -> None:
        pin = capabilities.pwm_pin
        if pin is None:
            for name, call in {"set_pwm": lambda: resource.set_pwm(self._pin(capabilities), 0.5),
                               "get_pwm": lambda: resource.get_pwm(self._pin(capabilities)),
                               "set_pwm_frequency": lambda: resource.set_pwm_frequency(self._pin(capabilities), 1000),
                               "get_pwm_frequency": lambda: resource.get_pwm_frequency(self._pin(capabilities))}.items():
                raises(NotSupportedError, call, f"{name} on a board without PWM (pwm_pin=None)")
            return
        resource.set_pwm_frequency(pin, capabilities.pwm_frequency_hz)
        for duty in (0.25, 1.0, 0.5, 0.0):
            resource.set_pwm(pin, duty)
            got = resource.get_pwm(pin)
            assert math.isclose(got, duty, abs_tol=1e-3), f"set_pwm({pin!r}, {duty}) then get_pwm answers {got!r}"
        assert resource.get_pwm_frequency(pin) == capabilities.pwm_frequency_hz

    def test_bad_pwm_arguments_are_invalid(self, resource: Any, capabilities: BoardCapabilities) -> None:
        pin = capabilities.pwm_pin
        if pin is None:
            raises(NotSupportedError, lambda: resource.set_pwm(self._pin(capabilities), 2.0),
                   "set_pwm on a board without PWM (pwm_pin=None)")
            return
        resource.set_pwm(pin, 0.5)
        for bad in (1.5, -0.1, *NOT_FINITE, *NOT_NUMBERS):
            raises(InvalidArgumentError, lambda bad=bad: resource.set_pwm(pin, bad), f"set_pwm({pin!r}, {bad!r})")
        assert math.isclose(resource.get_pwm(pin), 0.5, abs_tol=1e-3), "a refused duty cycle changed the output"
        for bad in (-1, math.nan, "1000"):
            raises(InvalidArgumentError, lambda bad=bad: resource.set_pwm_frequency(pin, bad),
                   f"set_pwm_frequency({pin!r}, {bad!r})")

    # -- analog ------------------------------------------------------------------------
    def test_read_analog_answers_a_value_in_its_range(self, resource: Any, capabilities: BoardCapabilities) -> None:
        reader = capabilities.analog_reader
        if reader is None:
            raises(NotSupportedError, lambda: resource.read_analog("A0"),
                   "read_analog on a board without analog readers (analog_reader=None)")
            return
        for _ in range(3):
            value = resource.read_analog(reader)
            assert isinstance(value, AnalogValue), f"read_analog answered {value!r}, not an AnalogValue"
            assert isinstance(value.value, int) and not isinstance(value.value, bool)
            assert value.min_range < value.max_range and value.step_size > 0, value
            steps = (value.max_range - value.min_range) / value.step_size
            assert 0 <= value.value <= steps + 0.5, f"{value.value} is beyond the reader's {steps:.0f} steps"

    def test_write_analog(self, resource: Any, capabilities: BoardCapabilities) -> None:
        pin = capabilities.analog_writer
        if pin is None:
            raises(NotSupportedError, lambda: resource.write_analog(self._pin(capabilities), 1),
                   "write_analog on a board without analog outputs (analog_writer=None)")
            return
        low, high = capabilities.analog_write_range or (0, 255)
        for value in (high, low, (low + high) // 3):
            resource.write_analog(pin, value)
            if capabilities.analog_loopback:
                got = resource.read_analog(pin).value
                assert got == value, f"write_analog({pin!r}, {value}) then read_analog answers {got}"
        out_of_range = (low - 1, high + 1) if capabilities.analog_write_range else ()
        for bad in (*out_of_range, 1.5, *NOT_NUMBERS):
            raises(InvalidArgumentError, lambda bad=bad: resource.write_analog(pin, bad), f"write_analog({pin!r}, {bad!r})")

    # -- digital interrupts ------------------------------------------------------------
    def test_digital_interrupt_count_and_tick_stream(self, resource: Any, capabilities: BoardCapabilities) -> None:
        name = capabilities.interrupt
        if name is None:
            raises(NotSupportedError, lambda: resource.get_digital_interrupt_value("di1"),
                   "get_digital_interrupt_value on a board without interrupts (interrupt=None)")
            raises(NotSupportedError, lambda: resource.stream_ticks(["di1"]),
                   "stream_ticks on a board without interrupts (interrupt=None)")
            return
        count = resource.get_digital_interrupt_value(name)
        assert isinstance(count, int) and not isinstance(count, bool) and count >= 0, count
        stream = resource.stream_ticks([name])
        stream.close()
        ticks = list(stream)  # ends once closed; ticks queued before the close still come
        assert all(isinstance(t, Tick) and t.pin_name == name for t in ticks), ticks
        assert resource.get_digital_interrupt_value(name) >= count, "an interrupt's count went down"
