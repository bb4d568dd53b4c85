"""Named analog and digital pins of the firmware as a sensor's readings."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from viamlite_plugins.serial.base import OnLink
from viamlite_plugins.serial.settings import pin_map

from viamlite.attributes import Attributes
from viamlite.driver import attributes_of
from viamlite.components.sensor import Sensor
from viamlite.resource import Extra

VOLTS_SUFFIX = "_volts"


class SerialSensor(OnLink, Sensor):
    """Pins read as readings (``viamlite:serial:sensor``).

    Attributes: ``port`` (required), ``baud``, ``watchdog_ms``, ``on_timeout``, and at
    least one of

    * ``analog``: ``{"pot": "A0"}``, reading name to analog pin (``A0``..``A5``, ``0``..``5``
      or ``14``..``19``): the reading is the 10-bit value (0..1023), and ``<name>_volts``
      the voltage (5 V reference);
    * ``digital``: ``{"button": 7}``, reading name to pin (2 to 19): the reading is the
      level, true for high.

    Pins may be shared with other sensors and the board, not with a servo or an encoder.
    """

    def __init__(self, name: str, attributes: Mapping[str, Any] | Attributes | None = None) -> None:
        super().__init__(name)
        attrs = attributes_of(attributes)
        s = self.settings(attrs)
        self.analog: dict[str, int] = s["analog"]
        self.digital: dict[str, int] = s["digital"]
        self._connect(s, attrs)

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        s = super().settings(attrs)
        s["analog"] = pin_map(attrs, "analog", analog=True)
        s["digital"] = pin_map(attrs, "digital", analog=False)
        if not s["analog"] and not s["digital"]:
            raise attrs.fail("analog", "the sensor reads no pins",
                             'write "analog": {"pot": "A0"} and/or "digital": {"button": 7}')
        names = [*s["analog"], *(n + VOLTS_SUFFIX for n in s["analog"])]
        for name in s["digital"]:
            if name in names:
                raise attrs.fail(f"digital.{name}", f"reading {name!r} is also an analog reading",
                                 "give every reading its own name")
        return s

    def _setup(self, s: dict[str, Any], attrs: Attributes) -> None:
        for key, pins in (("analog", self.analog), ("digital", self.digital)):
            for name, pin in pins.items():
                self.link.claim_pin(pin, self.name, attrs, f"{key}.{name}", shared=True)

    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        self._check_open()
        out: dict[str, Any] = {}
        for name, pin in self.analog.items():
            value, low, high, step = self.link.call("board", "read_analog", pin)
            out[name] = value
            out[name + VOLTS_SUFFIX] = round(low + value * step, 4)
        for name, pin in self.digital.items():
            out[name] = bool(self.link.call("board", "get_gpio", pin))
        return out

    def get_status(self) -> dict[str, Any]:
        return {"analog": dict(self.analog), "digital": dict(self.digital), **self.link_status()}
