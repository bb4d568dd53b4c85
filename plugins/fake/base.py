"""The fake base: a differential-drive platform whose moves take real time and update its odometry."""
from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import STOPPED, FakeResource, finite, in_range

from viamlite.attributes import Attributes
from viamlite.components.base import Base, BaseProperties
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra
from viamlite.spatial import Vector3

ZERO = Vector3(0.0, 0.0, 0.0)


class FakeBase(FakeResource, Base):
    """A base that moves at the commanded speed from the moment it is told to.

    Attributes: ``width_mm`` (default 600, > 0) and ``wheel_circumference_mm`` (default
    300, > 0), reported by ``get_properties`` in metres (turning radius 0).

    * ``move_straight(distance_mm, mm_per_sec)`` and ``spin(angle_deg, degs_per_sec)``
      block for ``|distance| / |speed|`` seconds, like the motor's ``go_for``: the
      direction is the product of the signs, ``is_moving()`` is True meanwhile, and
      ``stop()``, a new command, a cancel or ``close()`` end them at once. As with the
      motor, the blocked call then raises AbortedError for a stop or a new command (with
      how far it got: ``base 'base1': spin was stopped by a Stop after 12.5 of
      360 degrees``), CancelledError for a cancel and ResourceClosedError for a close. A
      distance or angle of 0 returns at once; a speed of 0 with a non-zero distance or
      angle is an InvalidArgumentError.
    * ``set_velocity(linear, angular)`` drives at ``linear.y`` mm/s forward and
      ``angular.z`` deg/s counter-clockwise until stopped; ``set_power`` (each component
      -1.0 to 1.0) leaves the base moving until stopped but does not change the odometry,
      as a power has no known speed.
    * ``get_status()`` reports the odometry: ``x_mm``, ``y_mm`` (the base starts at the
      origin facing +y) and ``theta_deg`` (counter-clockwise).
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        return {"width_mm": float(attrs.number("width_mm", 600.0, above=0)),
                "wheel_circumference_mm": float(attrs.number("wheel_circumference_mm", 300.0, above=0))}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        width, circumference = s["width_mm"], s["wheel_circumference_mm"]
        with self._lock:
            self.width_mm, self.wheel_circumference_mm = width, circumference
            if not hasattr(self, "_pose0"):
                self._pose0 = (0.0, 0.0, 0.0)  # x mm, y mm, theta deg at _t0
                self._t0 = time.monotonic()
                self._v = 0.0  # mm/s forward
                self._w = 0.0  # deg/s counter-clockwise
                self._end_t: float | None = None
                self._power = (ZERO, ZERO)
                self._velocity = (ZERO, ZERO)

    # -- kinematics (all locked) -------------------------------------------------
    def _pose_at(self, now: float) -> tuple[float, float, float]:
        x0, y0, th0 = self._pose0
        dt = max(0.0, (min(now, self._end_t) if self._end_t is not None else now) - self._t0)
        th1 = th0 + self._w * dt
        a0, a1 = math.radians(th0), math.radians(th1)
        if self._w == 0:
            return x0 - self._v * dt * math.sin(a0), y0 + self._v * dt * math.cos(a0), th1
        r = self._v / math.radians(self._w)
        return x0 + r * (math.cos(a1) - math.cos(a0)), y0 + r * (math.sin(a1) - math.sin(a0)), th1

    def _drive(self, v: float, w: float, duration: float | None) -> int:
        now = time.monotonic()
        self._pose0, self._t0 = self._pose_at(now), now
        self._v, self._w = v, w
        self._end_t = None if duration is None else now + duration
        return self._new_run()

    def _time_left(self, now: float) -> float:
        if self._v == 0 and self._w == 0:
            return 0.0
        if self._end_t is None:
            return math.inf
        left = self._end_t - now
        if left <= 0:  # arrived: stop exactly at the end of the move
            self._pose0, self._t0 = self._pose_at(self._end_t), now
            self._v = self._w = 0.0
            self._end_t = None
            self._velocity = (ZERO, ZERO)
            return 0.0
        return left

    def _halt(self) -> None:
        now = time.monotonic()
        self._pose0, self._t0 = self._pose_at(now), now
        self._v = self._w = 0.0
        self._end_t = None
        self._power = self._velocity = (ZERO, ZERO)

    # -- the API -----------------------------------------------------------------
    def move_straight(self, distance_mm: int, mm_per_sec: float, *, extra: Extra = None) -> None:
        self._check_open()
        distance, speed = finite(distance_mm, "distance_mm"), finite(mm_per_sec, "mm_per_sec")
        self._blocking_move("move_straight", extra, distance, speed, "distance_mm", "mm_per_sec", linear=True)

    def spin(self, angle_deg: float, degs_per_sec: float, *, extra: Extra = None) -> None:
        self._check_open()
        angle, speed = finite(angle_deg, "angle_deg"), finite(degs_per_sec, "degs_per_sec")
        self._blocking_move("spin", extra, angle, speed, "angle_deg", "degs_per_sec", linear=False)

    def _blocking_move(self, method: str, extra: Extra, amount: float, speed: float,
                       amount_name: str, speed_name: str, *, linear: bool) -> None:
        if amount != 0 and speed == 0:
            raise InvalidArgumentError(
                f"base {self.name!r}: {speed_name} must not be 0 when {amount_name} is {amount:g}; give a non-zero speed")
        self._record(method, extra, **{amount_name: amount, speed_name: speed})
        with self._lock:
            if amount == 0:
                self._halt()
                self._new_run()
                return
            rate = abs(speed) * math.copysign(1.0, speed) * math.copysign(1.0, amount)
            self._halt()
            duration = abs(amount) / abs(speed)
            run = self._drive(rate if linear else 0.0, 0.0 if linear else rate, duration)
            began, unit = self._t0, "mm" if linear else "degrees"

            def progress() -> str | None:  # read as the next command takes over (at _t0)
                went = self._t0 - began
                return None if went >= duration else f"after {went * abs(speed):.4g} of {abs(amount):g} {unit}"

            self._wait_on(run, method, progress)
            self._velocity = (Vector3(0.0, rate, 0.0), ZERO) if linear else (ZERO, Vector3(0.0, 0.0, rate))
        self._follow(run)

    def set_power(self, linear: Vector3, angular: Vector3, *, extra: Extra = None) -> None:
        self._check_open()
        linear, angular = (Vector3(*(in_range(getattr(vector, axis), -1.0, 1.0, f"base {self.name!r}: {label}.{axis} power")
                                     for axis in ("x", "y", "z")))
                           for label, vector in (("linear", linear), ("angular", angular)))
        self._record("set_power", extra, linear=linear, angular=angular)
        with self._lock:
            self._halt()
            self._new_run()
            self._power = (linear, angular)

    def set_velocity(self, linear: Vector3, angular: Vector3, *, extra: Extra = None) -> None:
        self._check_open()
        linear, angular = (Vector3(*(finite(getattr(vector, axis), f"base {self.name!r}: {label}.{axis} velocity")
                                     for axis in ("x", "y", "z")))
                           for label, vector in (("linear", linear), ("angular", angular)))
        self._record("set_velocity", extra, linear=linear, angular=angular)
        with self._lock:
            self._halt()
            self._drive(linear.y, angular.z, None)
            self._velocity = (linear, angular)

    def get_properties(self, *, extra: Extra = None) -> BaseProperties:
        self._check_open()
        with self._lock:
            return BaseProperties(self.width_mm / 1000.0, 0.0, self.wheel_circumference_mm / 1000.0)

    def stop(self, *, extra: Extra = None) -> None:
        self._check_open()
        self._record("stop", extra)
        with self._lock:
            self._halt()
            self._new_run(STOPPED)

    def is_moving(self) -> bool:
        self._check_open()
        with self._lock:
            return self._moving(time.monotonic())

    def _moving(self, now: float) -> bool:
        self._time_left(now)
        return self._v != 0 or self._w != 0 or any(v != ZERO for v in (*self._power, *self._velocity))

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            now = time.monotonic()
            moving = self._moving(now)
            x, y, theta = self._pose_at(now)
            (lp, ap), (lv, av) = self._power, self._velocity
            return {"x_mm": x, "y_mm": y, "theta_deg": theta, "is_moving": moving,
                    "linear_power": {"x": lp.x, "y": lp.y, "z": lp.z},
                    "angular_power": {"x": ap.x, "y": ap.y, "z": ap.z},
                    "linear_velocity": {"x": lv.x, "y": lv.y, "z": lv.z},
                    "angular_velocity": {"x": av.x, "y": av.y, "z": av.z},
                    "width_mm": self.width_mm, "wheel_circumference_mm": self.wheel_circumference_mm}
