"""Power sensor proxy: ``viam.component.powersensor.v1.PowerSensorService``."""
from __future__ import annotations

from typing import Any

from viamlite.client.resources._base import RemoteResource
from viamlite.components.power_sensor import Current, PowerSensor, Voltage
from viamlite.resource import Extra


class PowerSensorClient(RemoteResource, PowerSensor):
    SERVICE = "viam.component.powersensor.v1.PowerSensorService"

    def get_voltage(self, *, extra: Extra = None) -> Voltage:
        response = self._call("GetVoltage", extra=extra)
        return Voltage(response.volts, response.is_ac)

    def get_current(self, *, extra: Extra = None) -> Current:
        response = self._call("GetCurrent", extra=extra)
        return Current(response.amperes, response.is_ac)

    def get_power(self, *, extra: Extra = None) -> float:
        return self._call("GetPower", extra=extra).watts

    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        return RemoteResource.get_readings(self, extra=extra)
