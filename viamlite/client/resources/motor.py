"""Motor proxy: ``viam.component.motor.v1.MotorService``."""
from __future__ import annotations

from viamlite.client.resources._base import RemoteResource
from viamlite.components.motor import Motor, MotorProperties, PowerState
from viamlite.resource import Extra


class MotorClient(RemoteResource, Motor):
    SERVICE = "viam.component.motor.v1.MotorService"

    def set_power(self, power_pct: float, *, extra: Extra = None) -> None:
        self._call("SetPower", power_pct=power_pct, extra=extra)

    def go_for(self, rpm: float, revolutions: float, *, extra: Extra = None) -> None:
        self._call("GoFor", rpm=rpm, revolutions=revolutions, extra=extra)

    def go_to(self, rpm: float, position_revolutions: float, *, extra: Extra = None) -> None:
        self._call("GoTo", rpm=rpm, position_revolutions=position_revolutions, extra=extra)

    def set_rpm(self, rpm: float, *, extra: Extra = None) -> None:
        self._call("SetRPM", rpm=rpm, extra=extra)

    def reset_zero_position(self, offset: float, *, extra: Extra = None) -> None:
        self._call("ResetZeroPosition", offset=offset, extra=extra)

    def get_position(self, *, extra: Extra = None) -> float:
        return self._call("GetPosition", extra=extra).position

    def get_properties(self, *, extra: Extra = None) -> MotorProperties:
        return MotorProperties(self._call("GetProperties", extra=extra).position_reporting)

    def stop(self, *, extra: Extra = None) -> None:
        self._call("Stop", extra=extra)

    def is_powered(self, *, extra: Extra = None) -> PowerState:
        response = self._call("IsPowered", extra=extra)
        return PowerState(response.is_on, response.power_pct)

    def is_moving(self) -> bool:
        return self._call("IsMoving").is_moving
