"""The fake servo: moves to an angle at once."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import FakeResource, finite

from viamlite.attributes import Attributes
from viamlite.components.servo import Servo
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra


class FakeServo(FakeResource, Servo):
    """A servo that reaches any angle in its range instantly.

    Attributes: ``min_angle_deg`` (default 0) and ``max_angle_deg`` (default 180), whole
    degrees with ``0 <= min_angle_deg <= max_angle_deg <= 360``. It starts at
    ``min_angle_deg``; a reconfigure that narrows the range clamps the angle into it.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        low = attrs.number("min_angle_deg", 0, minimum=0, maximum=360, integer=True)
        high = attrs.number("max_angle_deg", 180, minimum=0, maximum=360, integer=True)
        if low > high:
            raise attrs.fail("max_angle_deg", f"max_angle_deg {high} is below min_angle_deg {low}",
                             "make max_angle_deg at least min_angle_deg")
        return {"min_angle_deg": low, "max_angle_deg": high}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        low, high = s["min_angle_deg"], s["max_angle_deg"]
        with self._lock:
            self.min_angle_deg, self.max_angle_deg = low, high
            angle = getattr(self, "_angle", low)
            self._angle = min(max(angle, low), high)

    def move(self, angle_deg: int, *, extra: Extra = None) -> None:
        self._check_open()
        angle = finite(angle_deg, "angle_deg")
        with self._lock:
            low, high = self.min_angle_deg, self.max_angle_deg
            if not low <= angle <= high:
                raise InvalidArgumentError(
                    f"servo {self.name!r}: angle {angle_deg!r} is out of range; use {low} to {high} degrees")
            self._angle = int(round(angle))
            self._record("move", extra, angle_deg=self._angle)

    def get_position(self, *, extra: Extra = None) -> int:
        self._check_open()
        with self._lock:
            return self._angle

    def stop(self, *, extra: Extra = None) -> None:
        self._check_open()
        self._record("stop", extra)

    def is_moving(self) -> bool:
        self._check_open()
        return False

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            return {"position_deg": self._angle, "is_moving": False,
                    "min_angle_deg": self.min_angle_deg, "max_angle_deg": self.max_angle_deg}
