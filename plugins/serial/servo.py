"""A hobby servo on one of the firmware's servo outputs."""
from __future__ import annotations

import logging
import math
import threading
from collections.abc import Mapping
from typing import Any

from viamlite_plugins.serial.base import OnLink
from viamlite_plugins.serial.link import Link
from viamlite_plugins.serial.settings import pin_attr

from viamlite.attributes import Attributes
from viamlite.driver import attributes_of
from viamlite.components.servo import Servo
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra

log = logging.getLogger(__name__)

SERVOS = 4
MIN_US, MAX_US = 400, 2600


class SerialServo(OnLink, Servo):
    """A servo driven by the viamlite firmware's 50 Hz pulses (``viamlite:serial:servo``).

    Attributes: ``port`` (required), ``baud``, ``watchdog_ms``, ``on_timeout`` (shared by
    the port's resources), and

    * ``pin`` (required): the Arduino pin of the servo's signal wire, 2 to 19 (``9``, ``"D9"``, ``"A0"``);
    * ``min_us`` / ``max_us`` (default 500 and 2500, within 400 to 2600): pulse widths at 0
      and 180 degrees; the width is linear in between;
    * ``index`` (0 to 3, default the first free one): which firmware servo (``servo0``..) drives it.

    ``move`` takes whole degrees 0 to 180. ``stop`` holds the current pulse (the firmware
    servo moves at once, so there is nothing to stop). When the board resets, the servo is
    attached again and sent to its last angle before any call goes on; when the firmware's
    watchdog released it (the host went silent), the next ``move`` attaches it again.
    """

    def __init__(self, name: str, attributes: Mapping[str, Any] | Attributes | None = None) -> None:
        super().__init__(name)
        attrs = attributes_of(attributes)
        s = self.settings(attrs)
        self.pin: int = s["pin"]
        self.min_us: int = s["min_us"]
        self.max_us: int = s["max_us"]
        self._angle: int | None = None
        self._lock = threading.Lock()
        self._connect(s, attrs)

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        s = super().settings(attrs)
        s["pin"] = pin_attr(attrs, "pin")
        s["min_us"] = attrs.number("min_us", 500, minimum=MIN_US, maximum=MAX_US, integer=True)
        s["max_us"] = attrs.number("max_us", 2500, minimum=MIN_US, maximum=MAX_US, integer=True)
        if s["max_us"] <= s["min_us"]:
            raise attrs.fail("max_us", f"max_us {s['max_us']} is not above min_us {s['min_us']}",
                             "make max_us larger than min_us (typical: 500 and 2500)")
        s["index"] = attrs.number("index", None, minimum=0, maximum=SERVOS - 1, integer=True)
        return s

    def _setup(self, s: dict[str, Any], attrs: Attributes) -> None:
        count = int(self.link.info.get("servos", SERVOS))
        self.index = self.link.claim_index("servo", count, self.name, s["index"], attrs)
        self.link.claim_pin(self.pin, self.name, attrs, "pin")
        self.device = f"servo{self.index}"
        self.link.call(self.device, "attach", self.pin, self.min_us, self.max_us)
        self.link.add_restore(self.name, self._restore)

    def _restore(self, link: Link, reset: bool) -> None:
        from viamlite.fastpath.errors import CallError

        try:
            link.call_now(self.device, "attach", self.pin, self.min_us, self.max_us)
        except CallError as exc:  # already attached on a board that did not reset
            log.debug("servo %r: attach on restore: %s", self.name, exc)
        if self._angle is not None:
            link.call_now(self.device, "move", self._angle)

    def _release(self) -> None:
        try:
            self.link.call(self.device, "detach")
        except Exception as exc:
            log.debug("servo %r: detach on close failed: %s", self.name, exc)

    # -- the API -----------------------------------------------------------------
    def move(self, angle_deg: int, *, extra: Extra = None) -> None:
        from viamlite.fastpath.errors import FailedPrecondition

        self._check_open()
        if isinstance(angle_deg, bool) or not isinstance(angle_deg, (int, float)) or not math.isfinite(angle_deg) \
                or angle_deg != int(angle_deg) or not 0 <= angle_deg <= 180:
            raise InvalidArgumentError(f"servo {self.name!r}: angle {angle_deg!r} is out of range; "
                                       "use whole degrees from 0 to 180")
        angle = int(angle_deg)
        with self._lock:
            try:
                self.link.call(self.device, "move", angle)
            except FailedPrecondition as exc:
                if "attach" not in str(exc):
                    raise
                log.info("servo %r was released by the firmware (%s); attaching it again", self.name, exc)
                self.link.call(self.device, "attach", self.pin, self.min_us, self.max_us)
                self.link.call(self.device, "move", angle)
            self._angle = angle

    def get_position(self, *, extra: Extra = None) -> int:
        self._check_open()
        return int(self.link.call(self.device, "get_position"))

    def stop(self, *, extra: Extra = None) -> None:
        """Hold the current pulse."""
        self._check_open()
        self.link.call(self.device, "stop")

    def is_moving(self) -> bool:
        self._check_open()
        return False

    def pulse_width_us(self, angle_deg: int) -> int:
        """The pulse the firmware sends for ``angle_deg`` (as it computes it)."""
        return round(self.min_us + (self.max_us - self.min_us) * angle_deg / 180)

    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """``{"get_state": {}}``: angle, pulse width and setpoint counters from the firmware;
        ``{"detach": {}}``: stop the pulses (the next move attaches again)."""
        self._check_open()
        if set(command) == {"get_state"}:
            angle, pulse, seq, applied = self.link.call(self.device, "get_state")
            return {"angle": angle, "pulse_us": pulse, "setpoint_seq": seq, "setpoints_applied": applied}
        if set(command) == {"detach"}:
            self.link.call(self.device, "detach")
            return {}
        keys = ", ".join(sorted(map(str, command))) or "(empty)"
        raise InvalidArgumentError(f"servo {self.name!r}: unknown command {keys}; "
                                   'this servo supports {"get_state": {}} and {"detach": {}}')

    def get_status(self) -> dict[str, Any]:
        status = {"index": getattr(self, "index", None), "pin": self.pin, "min_us": self.min_us,
                  "max_us": self.max_us, "angle": self._angle, **self.link_status()}
        return status
