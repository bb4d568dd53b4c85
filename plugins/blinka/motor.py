"""A DC motor on a driver with a PWM (speed) pin and a direction pin."""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from typing import Any

from viamlite_plugins.blinka import board_dependency

from viamlite.machine import operations
from viamlite.attributes import Attributes
from viamlite.driver import Configured
from viamlite.components.board import Board
from viamlite.components.motor import Motor, MotorProperties, PowerState
from viamlite.errors import AbortedError, CancelledError, InvalidArgumentError, NotSupportedError
from viamlite.resource import Extra

#: Longest single wait of a timed move: a stop or cancel ends it within about this long.
STEP_S = 0.01


class BlinkaMotor(Configured, Motor):
    """A motor behind a PWM + direction driver (``viamlite:blinka:motor``), without an encoder.

    Attributes:

    * ``board`` (required): the board component whose pins drive the motor (an implicit
      dependency; usually a ``viamlite:blinka:board``);
    * ``pins`` (required): ``{"pwm": "D12", "dir": "D16"}``: the speed pin (its duty cycle
      is the power) and the direction pin (high forwards);
    * ``dir_flip`` (default false): forwards is the direction pin low;
    * ``pwm_freq_hz`` (optional): the PWM frequency; the board's default otherwise;
    * ``max_rpm`` (optional, > 0): the speed at full power; ``set_rpm`` and ``go_for``
      need it (power = rpm / max_rpm, capped at full power).

    ``set_power(p)`` sets the direction pin, then the duty cycle ``|p|``. ``go_for(rpm,
    revolutions)`` runs for the time ``|revolutions| / rpm`` takes at that speed (it blocks),
    then stops; ``revolutions`` 0 runs until stopped. A stop or a new command (from another
    caller) ends a blocking ``go_for`` early with AbortedError, saying which and how far it
    got by the clock; a cancel ends it with CancelledError, a close with
    ResourceClosedError. Without an encoder the motor reports no position: ``go_to``,
    ``get_position`` and ``reset_zero_position`` are not supported.
    """

    def __init__(self, name: str, board: Board, settings: Mapping[str, Any]) -> None:
        super().__init__(name)
        self.board = board
        self.pwm_pin: str = settings["pwm"]
        self.dir_pin: str = settings["dir"]
        self.dir_flip: bool = settings["dir_flip"]
        self.max_rpm: float | None = settings["max_rpm"]
        self._lock = threading.Lock()
        self._power = 0.0
        self._run = 0
        self._ended: dict[int, tuple[str, float] | None] = {}  # a blocked go_for's run -> why it ended, when
        if settings["pwm_freq_hz"] is not None:
            board.set_pwm_frequency(self.pwm_pin, settings["pwm_freq_hz"])
        self._drive(0.0)

    # -- config ------------------------------------------------------------------
    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        board = attrs.string("board")
        if board is None:
            raise attrs.fail("board", "the motor needs a board", 'write "board": "pi"')
        pin_map = attrs.mapping("pins", example='{"pwm": "D12", "dir": "D16"}')
        if pin_map is None:
            raise attrs.fail("pins", "the motor needs its pins", 'write "pins": {"pwm": "D12", "dir": "D16"}')
        sub = attrs.nested("pins", pin_map)
        found = {}
        for key in ("pwm", "dir"):
            found[key] = sub.string(key)
            if found[key] is None:
                raise sub.fail(key, f"the motor needs a {key} pin", 'write "pins": {"pwm": "D12", "dir": "D16"}')
        unknown = sorted(set(pin_map) - {"pwm", "dir"})
        if unknown:
            raise sub.fail(unknown[0], f"pin role {unknown[0]!r} is not supported by this motor",
                           "use pins pwm and dir (a PWM + direction driver)")
        if found["pwm"] == found["dir"]:
            raise sub.fail("dir", "the pwm and dir pins are the same pin", "wire them to two pins")
        return {"board": board, **found, "dir_flip": attrs.boolean("dir_flip", False),
                "pwm_freq_hz": attrs.number("pwm_freq_hz", None, above=0, integer=True),
                "max_rpm": attrs.number("max_rpm", None, above=0)}

    @classmethod
    def implicit_dependencies(cls, settings: dict[str, Any]) -> list[str]:
        return [settings["board"]]

    @classmethod
    def build(cls, name: str, attrs: Attributes, dependencies: Mapping[Any, Any]) -> "BlinkaMotor":
        s = cls.settings(attrs)
        return cls(name, board_dependency(attrs, dependencies, s["board"]), s)

    # -- driving the pins ----------------------------------------------------------
    def _drive(self, power: float) -> None:
        """Put ``power`` (-1.0 to 1.0) on the pins; locked."""
        forwards = power >= 0
        if power != 0:
            self.board.set_gpio(self.dir_pin, forwards != self.dir_flip)
        self.board.set_pwm(self.pwm_pin, abs(power))
        self._power = power

    def _power_for(self, rpm: Any) -> float:
        if self.max_rpm is None:
            raise InvalidArgumentError(f"motor {self.name!r}: speeds in rpm need max_rpm in the motor's attributes; "
                                       "or use set_power")
        if isinstance(rpm, bool) or not isinstance(rpm, (int, float)) or not math.isfinite(rpm):
            raise InvalidArgumentError(f"motor {self.name!r}: rpm must be a finite number, got {rpm!r}")
        return max(-1.0, min(1.0, rpm / self.max_rpm))

    # -- the API -------------------------------------------------------------------
    def set_power(self, power_pct: float, *, extra: Extra = None) -> None:
        self._check_open()
        if isinstance(power_pct, bool) or not isinstance(power_pct, (int, float)) or not math.isfinite(power_pct) \
                or not -1.0 <= power_pct <= 1.0:
            raise InvalidArgumentError(f"motor {self.name!r}: power_pct {power_pct!r} is out of range; use -1.0 to 1.0")
        with self._lock:
            self._supersede()
            self._drive(float(power_pct))

    def set_rpm(self, rpm: float, *, extra: Extra = None) -> None:
        self._check_open()
        power = self._power_for(rpm)
        with self._lock:
            self._supersede()
            self._drive(power)

    def go_for(self, rpm: float, revolutions: float, *, extra: Extra = None) -> None:
        self._check_open()
        power = self._power_for(rpm)
        if power == 0:
            raise InvalidArgumentError(f"motor {self.name!r}: rpm must not be 0")
        if isinstance(revolutions, bool) or not isinstance(revolutions, (int, float)) or not math.isfinite(revolutions):
            raise InvalidArgumentError(f"motor {self.name!r}: revolutions must be a finite number, got {revolutions!r}")
        assert self.max_rpm is not None
        with self._lock:
            run = self._supersede()
            self._drive(power if revolutions >= 0 else -power)
            if revolutions == 0:
                return
            began = time.monotonic()
            end = began + abs(revolutions) / (abs(power) * self.max_rpm) * 60.0
            self._ended[run] = None
        try:
            while True:
                with self._lock:
                    self._check_open()
                    if self._run != run:
                        op = operations.current()  # an expired session cancels, then stops
                        if op is not None and op.is_cancelled():
                            raise CancelledError(f"{op.method} was cancelled")
                        why, at = self._ended[run] or ("superseded by a new command", end)
                        if at < end:
                            went = (at - began) / 60.0 * abs(power) * self.max_rpm
                            raise AbortedError(f"motor {self.name!r}: go_for was {why} after about {went:.4g} of "
                                               f"{abs(revolutions):g} revolutions (by the clock: no encoder)")
                        return  # the time was up just before the next command
                left = end - time.monotonic()
                if left <= 0:
                    break
                operations.sleep(min(STEP_S, left))
        except BaseException:
            with self._lock:
                if self._run == run and not self.closed:
                    self._drive(0.0)
            raise
        finally:
            with self._lock:
                self._ended.pop(run, None)
        with self._lock:
            if self._run == run:
                self._drive(0.0)

    def _supersede(self, why: str = "superseded by a new command") -> int:
        """End any blocking move (telling its call ``why``, and when); the new run's id. Locked."""
        if self._run in self._ended and self._ended[self._run] is None:
            self._ended[self._run] = (why, time.monotonic())
        self._run += 1
        return self._run

    def go_to(self, rpm: float, position_revolutions: float, *, extra: Extra = None) -> None:
        raise self._no_encoder("go_to")

    def reset_zero_position(self, offset: float, *, extra: Extra = None) -> None:
        raise self._no_encoder("reset_zero_position")

    def get_position(self, *, extra: Extra = None) -> float:
        raise self._no_encoder("get_position")

    def _no_encoder(self, method: str) -> NotSupportedError:
        self._check_open()
        return NotSupportedError(f"motor {self.name!r} has no encoder, so {method} is not supported")

    def get_properties(self, *, extra: Extra = None) -> MotorProperties:
        self._check_open()
        return MotorProperties(position_reporting=False)

    def stop(self, *, extra: Extra = None) -> None:
        self._check_open()
        with self._lock:
            self._supersede("stopped by a Stop")
            self._drive(0.0)

    def is_powered(self, *, extra: Extra = None) -> PowerState:
        self._check_open()
        with self._lock:
            return PowerState(self._power != 0, self._power)

    def is_moving(self) -> bool:
        self._check_open()
        with self._lock:
            return self._power != 0

    def _on_close(self) -> None:
        with self._lock:
            self._supersede("closed")

    def get_status(self) -> dict[str, Any]:
        return {"board": self.board.name, "pins": {"pwm": self.pwm_pin, "dir": self.dir_pin},
                "power_pct": self._power, "dir_flip": self.dir_flip, "max_rpm": self.max_rpm}
