"""The fake motor: turns over real time, its position integrated from when each command began."""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import STOPPED, FakeResource, finite, in_range

from viamlite.attributes import Attributes
from viamlite.components.motor import Motor, MotorProperties, PowerState
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra

log = logging.getLogger(__name__)


class FakeMotor(FakeResource, Motor):
    """A motor with an ideal encoder: it reaches its speed at once and counts revolutions.

    Attributes: ``max_rpm`` (default 100, > 0) and ``ticks_per_rotation`` (optional whole
    number > 0; when set, the reported position is rounded to whole ticks).

    * ``set_power(p)`` (-1.0 to 1.0) runs at ``p * max_rpm``; ``set_rpm`` runs at a speed;
      both return at once and run until told otherwise.
    * ``go_for(rpm, revolutions)`` blocks for ``|revolutions| / |rpm|`` minutes while the
      position moves, then stops exactly there. The direction is ``sign(rpm) *
      sign(revolutions)``. ``revolutions`` 0 runs at ``rpm`` until stopped and returns at
      once (like ``set_rpm``). ``go_to`` turns toward a position at ``|rpm|``.
    * An ``rpm`` of 0 is an InvalidArgumentError for ``go_for`` and ``go_to`` (``set_rpm(0)``
      stops); a speed above ``max_rpm`` is clamped to ``max_rpm`` with a warning.
    * ``stop()`` (from any thread), a new command, a cancelled operation or ``close()``
      ends a blocking move at once; a stop, a cancel or a close leaves the motor stopped
      where it is, a new command runs it as that command says. The blocked call then
      raises: AbortedError for a stop or a new command (it was cut short; the message
      says which, and how far it got: ``motor 'motor1': go_for was stopped by a Stop
      after 1.5 of 100 revolutions``), CancelledError for a cancel,
      ResourceClosedError for a close. A move that arrived returns, whatever comes next.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        return {"max_rpm": float(attrs.number("max_rpm", 100.0, above=0)),
                "ticks_per_rotation": attrs.number("ticks_per_rotation", None, above=0, integer=True)}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        max_rpm, ticks = s["max_rpm"], s["ticks_per_rotation"]
        with self._lock:
            if not hasattr(self, "_rpm"):
                self._raw0 = 0.0  # shaft revolutions at time _t0
                self._t0 = time.monotonic()
                self._rpm = 0.0  # signed speed since _t0
                self._power = 0.0  # signed fraction shown by is_powered
                self._end: float | None = None  # raw position where the current move ends
                self._offset = 0.0  # reported position = raw + offset
            self.max_rpm, self.ticks_per_rotation = max_rpm, ticks
            # a move in progress goes on, within the new limit
            self._rebase(math.copysign(min(abs(self._rpm), max_rpm), self._rpm), self._end)

    # -- kinematics (all locked) -------------------------------------------------
    def _raw_at(self, now: float) -> float:
        raw = self._raw0 + self._rpm * (now - self._t0) / 60.0
        if self._end is not None:
            raw = min(raw, self._end) if self._rpm > 0 else max(raw, self._end)
        return raw

    def _time_left(self, now: float) -> float:
        if self._rpm == 0:
            return 0.0
        if self._end is None:
            return math.inf
        left = (self._end - self._raw_at(now)) / self._rpm * 60.0
        if left <= 0:  # arrived: stop exactly at the end
            self._raw0, self._t0, self._rpm, self._power, self._end = self._end, now, 0.0, 0.0, None
            return 0.0
        return left

    def _rebase(self, rpm: float, end: float | None) -> None:
        now = time.monotonic()
        self._raw0, self._t0 = self._raw_at(now), now
        self._rpm, self._power, self._end = rpm, rpm / self.max_rpm, end

    def _start(self, rpm: float, end: float | None) -> int:
        """Run at ``rpm`` from where the motor is now, until ``end`` (raw) if given."""
        self._rebase(rpm, end)
        return self._new_run()

    def _halt(self) -> None:
        now = time.monotonic()
        self._raw0, self._t0 = self._raw_at(now), now
        self._rpm, self._power, self._end = 0.0, 0.0, None

    def _speed(self, rpm: Any, allow_zero: bool = False) -> float:
        value = finite(rpm, "rpm")
        if value == 0 and not allow_zero:
            raise InvalidArgumentError(f"motor {self.name!r}: rpm must not be 0; use a speed up to ±{self.max_rpm:g}")
        if abs(value) > self.max_rpm:
            log.warning("motor %r: %g rpm is above max_rpm %g; running at %g", self.name, value, self.max_rpm, self.max_rpm)
            value = math.copysign(self.max_rpm, value)
        return value

    # -- the API -----------------------------------------------------------------
    def set_power(self, power_pct: float, *, extra: Extra = None) -> None:
        self._check_open()
        power = in_range(power_pct, -1.0, 1.0, f"motor {self.name!r}: power_pct")
        self._record("set_power", extra, power_pct=power)
        with self._lock:
            if power == 0:
                self._halt()
                self._new_run()
            else:
                self._start(power * self.max_rpm, None)

    def set_rpm(self, rpm: float, *, extra: Extra = None) -> None:
        self._check_open()
        with self._lock:
            speed = self._speed(rpm, allow_zero=True)
            self._record("set_rpm", extra, rpm=float(rpm))
            if speed == 0:
                self._halt()
                self._new_run()
            else:
                self._start(speed, None)

    def go_for(self, rpm: float, revolutions: float, *, extra: Extra = None) -> None:
        self._check_open()
        revs = finite(revolutions, "revolutions")
        with self._lock:
            speed = self._speed(rpm)
            self._record("go_for", extra, rpm=float(rpm), revolutions=revs)
            if revs == 0:
                self._start(speed, None)
                return
            direction = math.copysign(1.0, speed) * math.copysign(1.0, revs)
            start = self._raw_at(time.monotonic())
            end = start + abs(revs) * direction
            run = self._wait_on(self._start(abs(speed) * direction, end), "go_for",
                                lambda: self._went(start, end, f"after {{:.4g}} of {abs(revs):g} revolutions"))
        self._follow(run)

    def go_to(self, rpm: float, position_revolutions: float, *, extra: Extra = None) -> None:
        self._check_open()
        target = finite(position_revolutions, "position_revolutions")
        with self._lock:
            speed = abs(self._speed(rpm))
            self._record("go_to", extra, rpm=float(rpm), position_revolutions=target)
            end = target - self._offset
            start = self._raw_at(time.monotonic())
            delta = end - start
            if delta == 0:
                return
            run = self._wait_on(self._start(math.copysign(speed, delta), end), "go_to",
                                lambda: self._went(start, end, f"after {{:.4g}} of the {abs(delta):.4g} revolutions "
                                                                f"to position {target:g}"))
        self._follow(run)

    def _went(self, start: float, end: float, text: str) -> str | None:
        """How far a move from raw ``start`` toward ``end`` got, as ``text`` says it (None:
        it arrived); locked, read as the next command takes over (``_raw0`` is where the
        motor was then)."""
        if self._raw0 == end:
            return None
        return text.format(abs(self._raw0 - start))

    def reset_zero_position(self, offset: float, *, extra: Extra = None) -> None:
        self._check_open()
        value = finite(offset, "offset")
        with self._lock:
            self._record("reset_zero_position", extra, offset=value)
            self._offset = value - self._raw_at(time.monotonic())

    def get_position(self, *, extra: Extra = None) -> float:
        self._check_open()
        with self._lock:
            position = self._raw_at(time.monotonic()) + self._offset
            if self.ticks_per_rotation:
                position = round(position * self.ticks_per_rotation) / self.ticks_per_rotation
            return position

    def shaft_revolutions(self) -> float:
        """Revolutions the shaft turned since it was built, unaffected by ``reset_zero_position``.

        A fake encoder that follows this motor counts these.
        """
        self._check_open()
        with self._lock:
            return self._raw_at(time.monotonic())

    def get_properties(self, *, extra: Extra = None) -> MotorProperties:
        self._check_open()
        return MotorProperties(position_reporting=True)

    def stop(self, *, extra: Extra = None) -> None:
        self._check_open()
        self._record("stop", extra)
        with self._lock:
            self._halt()
            self._new_run(STOPPED)

    def is_powered(self, *, extra: Extra = None) -> PowerState:
        self._check_open()
        with self._lock:
            self._time_left(time.monotonic())
            return PowerState(self._power != 0, self._power)

    def is_moving(self) -> bool:
        self._check_open()
        with self._lock:
            self._time_left(time.monotonic())
            return self._rpm != 0

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            self._time_left(now)
            return {"position": self._raw_at(now) + self._offset, "rpm": self._rpm, "power_pct": self._power,
                    "is_moving": self._rpm != 0, "max_rpm": self.max_rpm,
                    "ticks_per_rotation": self.ticks_per_rotation}
