"""The fake power sensor: a constant voltage and current."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import FakeResource

from viamlite.attributes import Attributes
from viamlite.components.power_sensor import Current, PowerSensor, Voltage
from viamlite.resource import Extra


class FakePowerSensor(FakeResource, PowerSensor):
    """A power sensor reading what it was configured with.

    Attributes: ``volts`` (default 12), ``amps`` (default 0.5), ``is_ac`` (default
    false). ``get_power`` is ``volts * amps`` watts.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        return {"volts": float(attrs.number("volts", 12.0)), "amps": float(attrs.number("amps", 0.5)),
                "is_ac": attrs.boolean("is_ac", False)}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        with self._lock:
            self.volts, self.amps, self.is_ac = s["volts"], s["amps"], s["is_ac"]

    def get_voltage(self, *, extra: Extra = None) -> Voltage:
        self._check_open()
        with self._lock:
            return Voltage(self.volts, self.is_ac)

    def get_current(self, *, extra: Extra = None) -> Current:
        self._check_open()
        with self._lock:
            return Current(self.amps, self.is_ac)

    def get_power(self, *, extra: Extra = None) -> float:
        self._check_open()
        with self._lock:
            return self.volts * self.amps

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            return {"volts": self.volts, "amps": self.amps, "watts": self.volts * self.amps, "is_ac": self.is_ac}
