"""The power sensor API: voltage, current and power."""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, NamedTuple

from viamlite.names import API
from viamlite.resource import Extra, Sensing


class Voltage(NamedTuple):
    volts: float
    is_ac: bool


class Current(NamedTuple):
    amperes: float
    is_ac: bool


class PowerSensor(Sensing):
    API = API.component("power_sensor")

    @abstractmethod
    def get_voltage(self, *, extra: Extra = None) -> Voltage: ...

    @abstractmethod
    def get_current(self, *, extra: Extra = None) -> Current: ...

    @abstractmethod
    def get_power(self, *, extra: Extra = None) -> float:
        """Watts."""

    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        volts, current, watts = self.get_voltage(), self.get_current(), self.get_power()
        return {"volts": volts.volts, "amps": current.amperes, "is_ac": volts.is_ac, "watts": watts}
