"""Base proxy: ``viam.component.base.v1.BaseService``."""
from __future__ import annotations

from viamlite.client.resources._base import RemoteResource
from viamlite.components.base import Base, BaseProperties
from viamlite.resource import Extra
from viamlite.rpc.wire import vector_to_proto
from viamlite.spatial import Vector3


class BaseClient(RemoteResource, Base):
    SERVICE = "viam.component.base.v1.BaseService"

    def move_straight(self, distance_mm: int, mm_per_sec: float, *, extra: Extra = None) -> None:
        self._call("MoveStraight", distance_mm=int(distance_mm), mm_per_sec=mm_per_sec, extra=extra)

    def spin(self, angle_deg: float, degs_per_sec: float, *, extra: Extra = None) -> None:
        self._call("Spin", angle_deg=angle_deg, degs_per_sec=degs_per_sec, extra=extra)

    def set_power(self, linear: Vector3, angular: Vector3, *, extra: Extra = None) -> None:
        self._call("SetPower", linear=vector_to_proto(linear), angular=vector_to_proto(angular), extra=extra)

    def set_velocity(self, linear: Vector3, angular: Vector3, *, extra: Extra = None) -> None:
        self._call("SetVelocity", linear=vector_to_proto(linear), angular=vector_to_proto(angular), extra=extra)

    def get_properties(self, *, extra: Extra = None) -> BaseProperties:
        response = self._call("GetProperties", extra=extra)
        return BaseProperties(**{f: getattr(response, f) for f in BaseProperties._fields})

    def stop(self, *, extra: Extra = None) -> None:
        self._call("Stop", extra=extra)

    def is_moving(self) -> bool:
        return self._call("IsMoving").is_moving
