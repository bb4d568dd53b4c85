"""Servo proxy: ``viam.component.servo.v1.ServoService``."""
from __future__ import annotations

from viamlite.client.resources._base import RemoteResource
from viamlite.components.servo import Servo
from viamlite.resource import Extra


class ServoClient(RemoteResource, Servo):
    SERVICE = "viam.component.servo.v1.ServoService"

    def move(self, angle_deg: int, *, extra: Extra = None) -> None:
        self._call("Move", angle_deg=int(angle_deg), extra=extra)

    def get_position(self, *, extra: Extra = None) -> int:
        return self._call("GetPosition", extra=extra).position_deg

    def stop(self, *, extra: Extra = None) -> None:
        self._call("Stop", extra=extra)

    def is_moving(self) -> bool:
        return self._call("IsMoving").is_moving
