"""A quadrature encoder decoded by the firmware (x4, pin-change interrupts)."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from viamlite_plugins.serial.base import OnLink
from viamlite_plugins.serial.link import Link
from viamlite_plugins.serial.settings import pin_attr

from viamlite.attributes import Attributes
from viamlite.driver import attributes_of
from viamlite.components.encoder import (
    Encoder,
    EncoderPosition,
    EncoderProperties,
    PositionType,
)
from viamlite.errors import NotSupportedError
from viamlite.resource import Extra

log = logging.getLogger(__name__)

ENCODERS = 2


class SerialEncoder(OnLink, Encoder):
    """A quadrature encoder on two firmware pins (``viamlite:serial:encoder``).

    Attributes: ``port`` (required), ``baud``, ``watchdog_ms``, ``on_timeout``, and

    * ``pin_a`` / ``pin_b`` (required, different): the encoder's A and B channels, 2 to 19;
      A leading B counts up;
    * ``index`` (0 or 1, default the first free one): which firmware encoder (``encoder0``..).

    Positions are in ticks (four per quadrature cycle); angles are not supported. After a
    board reset the encoder is attached again and its count starts from 0.
    """

    def __init__(self, name: str, attributes: Mapping[str, Any] | Attributes | None = None) -> None:
        super().__init__(name)
        attrs = attributes_of(attributes)
        s = self.settings(attrs)
        self.pin_a: int = s["pin_a"]
        self.pin_b: int = s["pin_b"]
        self._connect(s, attrs)

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        s = super().settings(attrs)
        s["pin_a"], s["pin_b"] = pin_attr(attrs, "pin_a"), pin_attr(attrs, "pin_b")
        if s["pin_a"] == s["pin_b"]:
            raise attrs.fail("pin_b", f"pin_b is the same pin as pin_a ({s['pin_a']})",
                             "wire the encoder's B channel to another pin and set pin_b to it")
        s["index"] = attrs.number("index", None, minimum=0, maximum=ENCODERS - 1, integer=True)
        return s

    def _setup(self, s: dict[str, Any], attrs: Attributes) -> None:
        count = int(self.link.info.get("encoders", ENCODERS))
        self.index = self.link.claim_index("encoder", count, self.name, s["index"], attrs)
        self.link.claim_pin(self.pin_a, self.name, attrs, "pin_a")
        self.link.claim_pin(self.pin_b, self.name, attrs, "pin_b")
        self.device = f"encoder{self.index}"
        self.link.call(self.device, "attach", self.pin_a, self.pin_b)
        self.link.add_restore(self.name, self._restore)

    def _restore(self, link: Link, reset: bool) -> None:
        """Attach again unless the firmware says the encoder is still attached (re-attaching zeroes the count)."""
        from viamlite.fastpath.errors import CallError

        try:
            attached = link.call_now(self.device, "get_status").get("attached")
        except (CallError, AttributeError):
            attached = None
        if attached is False or (attached is None and reset):
            link.call_now(self.device, "attach", self.pin_a, self.pin_b)

    # -- the API -----------------------------------------------------------------
    def get_position(self, position_type: int = PositionType.UNSPECIFIED, *, extra: Extra = None) -> EncoderPosition:
        self._check_open()
        if position_type == PositionType.ANGLE_DEGREES:
            raise NotSupportedError(f"encoder {self.name!r} counts ticks only; ask for TICKS_COUNT (1) "
                                    "or leave the position type unspecified")
        count, _ = self.link.call(self.device, "get_position")
        return EncoderPosition(count, PositionType.TICKS_COUNT)

    def reset_position(self, *, extra: Extra = None) -> None:
        self._check_open()
        self.link.call(self.device, "reset_position")

    def get_properties(self, *, extra: Extra = None) -> EncoderProperties:
        self._check_open()
        return EncoderProperties(ticks_count_supported=True, angle_degrees_supported=False)

    def get_status(self) -> dict[str, Any]:
        return {"index": getattr(self, "index", None), "pin_a": self.pin_a, "pin_b": self.pin_b,
                **self.link_status()}
