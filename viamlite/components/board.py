"""The board API: GPIO pins, PWM, analog readers and writers, digital interrupts.

Pins are named by the board's own names (``"11"``, ``"GPIO17"``, ``"D18"``).
"""
from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from viamlite.names import API
from viamlite.resource import Extra, Resource


class AnalogValue(NamedTuple):
    value: int
    min_range: float
    max_range: float
    step_size: float


class Tick(NamedTuple):
    """One digital interrupt edge: pin name, time in nanoseconds, level after the edge."""

    pin_name: str
    time_ns: int
    high: bool


class PowerMode:
    UNSPECIFIED = 0
    NORMAL = 1
    OFFLINE_DEEP = 2


class Board(Resource):
    API = API.component("board")

    @abstractmethod
    def set_gpio(self, pin: str, high: bool, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def get_gpio(self, pin: str, *, extra: Extra = None) -> bool: ...

    @abstractmethod
    def get_pwm(self, pin: str, *, extra: Extra = None) -> float:
        """PWM duty cycle of ``pin``, 0.0 to 1.0."""

    @abstractmethod
    def set_pwm(self, pin: str, duty_cycle_pct: float, *, extra: Extra = None) -> None:
        """Set the duty cycle, 0.0 to 1.0."""

    @abstractmethod
    def get_pwm_frequency(self, pin: str, *, extra: Extra = None) -> int: ...

    @abstractmethod
    def set_pwm_frequency(self, pin: str, frequency_hz: int, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def read_analog(self, reader: str, *, extra: Extra = None) -> AnalogValue: ...

    @abstractmethod
    def write_analog(self, pin: str, value: int, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def get_digital_interrupt_value(self, interrupt: str, *, extra: Extra = None) -> int:
        """Ticks counted on the interrupt so far."""

    @abstractmethod
    def stream_ticks(self, interrupts: Sequence[str], *, extra: Extra = None) -> Iterator[Tick]:
        """Edges on ``interrupts`` as they happen; the iterator ends when closed."""

    def set_power_mode(self, mode: int, duration_s: float | None = None, *, extra: Extra = None) -> None:
        from viamlite.errors import NotSupportedError

        raise NotSupportedError(f"board {self.name!r} does not support power modes")
