"""A hobby servo on a board's PWM pin: angle to pulse width to duty cycle."""
from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

from viamlite_plugins.blinka import board_dependency

from viamlite.attributes import Attributes
from viamlite.driver import Configured
from viamlite.components.board import Board
from viamlite.components.servo import Servo
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra


class BlinkaServo(Configured, Servo):
    """A servo driven by pulses on a board's PWM pin (``viamlite:blinka:servo``).

    Attributes:

    * ``board`` (required): the name of the board component whose pin drives the servo
      (an implicit dependency; any board model works, usually ``viamlite:blinka:board``);
    * ``pin`` (required): the board's PWM pin (``D18``);
    * ``min_angle_deg`` / ``max_angle_deg`` (default 0 and 180): the servo's range;
    * ``min_width_us`` / ``max_width_us`` (default 500 and 2500): pulse widths at those
      angles; the width is linear in the angle between them;
    * ``frequency_hz`` (default 50): pulses per second (the period must exceed ``max_width_us``);
    * ``starting_position_deg`` (optional): moved to when built; otherwise the pin is
      left alone until the first move.

    ``move(angle)`` sets the pin's duty cycle to ``width_us * frequency_hz / 1e6``.
    ``get_position`` reads the duty cycle back from the board and turns it into an angle;
    while the pin sends no pulses it answers the last angle moved to (``min_angle_deg``
    before any). ``stop`` stops the pulses (the servo goes limp), as viam-server's servo does.
    """

    def __init__(self, name: str, board: Board, settings: Mapping[str, Any]) -> None:
        super().__init__(name)
        self.board = board
        self.pin: str = settings["pin"]
        self.min_angle_deg: float = settings["min_angle_deg"]
        self.max_angle_deg: float = settings["max_angle_deg"]
        self.min_width_us: float = settings["min_width_us"]
        self.max_width_us: float = settings["max_width_us"]
        self.frequency_hz: int = settings["frequency_hz"]
        self._lock = threading.Lock()
        self._angle = settings["starting_position_deg"]
        board.set_pwm_frequency(self.pin, self.frequency_hz)
        if self._angle is not None:
            self.move(self._angle)
        else:
            self._angle = self.min_angle_deg

    # -- config ------------------------------------------------------------------
    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        board, pin = attrs.string("board"), attrs.string("pin")
        for key, value, example in (("board", board, '"board": "pi"'), ("pin", pin, '"pin": "D18"')):
            if value is None:
                raise attrs.fail(key, f"the servo needs a {key}", f"write {example}")
        low = attrs.number("min_angle_deg", 0, minimum=0, maximum=360)
        high = attrs.number("max_angle_deg", 180, minimum=0, maximum=360)
        if high <= low:
            raise attrs.fail("max_angle_deg", f"max_angle_deg {high} is not above min_angle_deg {low}",
                             "make max_angle_deg larger than min_angle_deg")
        min_width = attrs.number("min_width_us", 500, above=0)
        max_width = attrs.number("max_width_us", 2500, above=0)
        if max_width <= min_width:
            raise attrs.fail("max_width_us", f"max_width_us {max_width} is not above min_width_us {min_width}",
                             "make max_width_us larger than min_width_us")
        frequency = attrs.number("frequency_hz", 50, above=0, maximum=100_000, integer=True)
        period_us = 1e6 / frequency
        if max_width > period_us:
            raise attrs.fail("max_width_us", f"a {max_width} µs pulse does not fit in the {period_us:g} µs period "
                             f"of {frequency} Hz", "lower frequency_hz or max_width_us")
        start = attrs.number("starting_position_deg", None)
        if start is not None and not low <= start <= high:
            raise attrs.fail("starting_position_deg", f"starting_position_deg {start} is outside {low} to {high}",
                             "pick an angle within min_angle_deg and max_angle_deg")
        return {"board": board, "pin": pin, "min_angle_deg": low, "max_angle_deg": high,
                "min_width_us": min_width, "max_width_us": max_width, "frequency_hz": frequency,
                "starting_position_deg": start}

    @classmethod
    def implicit_dependencies(cls, settings: dict[str, Any]) -> list[str]:
        return [settings["board"]]

    @classmethod
    def build(cls, name: str, attrs: Attributes, dependencies: Mapping[Any, Any]) -> "BlinkaServo":
        s = cls.settings(attrs)
        return cls(name, board_dependency(attrs, dependencies, s["board"]), s)

    # -- the mapping -------------------------------------------------------------
    def pulse_width_us(self, angle_deg: float) -> float:
        """The pulse width for ``angle_deg`` (linear between the configured ends)."""
        span = (angle_deg - self.min_angle_deg) / (self.max_angle_deg - self.min_angle_deg)
        return self.min_width_us + span * (self.max_width_us - self.min_width_us)

    def duty_cycle(self, angle_deg: float) -> float:
        """The PWM duty cycle (0.0 to 1.0) for ``angle_deg``."""
        return self.pulse_width_us(angle_deg) * self.frequency_hz / 1e6

    def angle_of(self, duty: float) -> float:
        """The angle a duty cycle stands for, clamped into the range."""
        width = duty * 1e6 / self.frequency_hz
        span = (width - self.min_width_us) / (self.max_width_us - self.min_width_us)
        angle = self.min_angle_deg + span * (self.max_angle_deg - self.min_angle_deg)
        return min(max(angle, self.min_angle_deg), self.max_angle_deg)

    # -- the API -----------------------------------------------------------------
    def move(self, angle_deg: int, *, extra: Extra = None) -> None:
        self._check_open()
        if isinstance(angle_deg, bool) or not isinstance(angle_deg, (int, float)) or not math.isfinite(angle_deg) \
                or not self.min_angle_deg <= angle_deg <= self.max_angle_deg:
            raise InvalidArgumentError(f"servo {self.name!r}: angle {angle_deg!r} is out of range; use "
                                       f"{self.min_angle_deg:g} to {self.max_angle_deg:g} degrees")
        with self._lock:
            self.board.set_pwm(self.pin, self.duty_cycle(angle_deg))
            self._angle = angle_deg

    def get_position(self, *, extra: Extra = None) -> int:
        """The angle the pin's pulses stand for, in whole degrees."""
        self._check_open()
        with self._lock:
            duty = self.board.get_pwm(self.pin)
            return int(round(self.angle_of(duty) if duty > 0 else self._angle))

    def stop(self, *, extra: Extra = None) -> None:
        """Stop the pulses; the servo stops holding its position."""
        self._check_open()
        with self._lock:
            self.board.set_pwm(self.pin, 0.0)

    def is_moving(self) -> bool:
        self._check_open()
        return False

    def get_status(self) -> dict[str, Any]:
        return {"board": self.board.name, "pin": self.pin, "angle_deg": self._angle,
                "pulse_width_us": self.pulse_width_us(self._angle), "frequency_hz": self.frequency_hz}

