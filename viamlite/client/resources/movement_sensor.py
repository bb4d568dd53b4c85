"""Movement sensor proxy: ``viam.component.movementsensor.v1.MovementSensorService``."""
from __future__ import annotations

from typing import Any

from viamlite.client.resources._base import RemoteResource
from viamlite.components.movement_sensor import (
    Accuracy,
    AngularVelocity,
    GeoPoint,
    GeoPosition,
    MovementSensor,
    MovementSensorProperties,
)
from viamlite.resource import Extra
from viamlite.rpc.wire import orientation_from_proto, vector_from_proto
from viamlite.spatial import OrientationVector, Vector3

_OPTIONAL = ("position_hdop", "position_vdop", "position_nmea_gga_fix", "compass_degrees_error")


class MovementSensorClient(RemoteResource, MovementSensor):
    SERVICE = "viam.component.movementsensor.v1.MovementSensorService"

    def get_linear_velocity(self, *, extra: Extra = None) -> Vector3:
        return vector_from_proto(self._call("GetLinearVelocity", extra=extra).linear_velocity)

    def get_angular_velocity(self, *, extra: Extra = None) -> Vector3:
        v = self._call("GetAngularVelocity", extra=extra).angular_velocity
        return AngularVelocity(v.x, v.y, v.z)

    def get_linear_acceleration(self, *, extra: Extra = None) -> Vector3:
        return vector_from_proto(self._call("GetLinearAcceleration", extra=extra).linear_acceleration)

    def get_compass_heading(self, *, extra: Extra = None) -> float:
        return self._call("GetCompassHeading", extra=extra).value

    def get_orientation(self, *, extra: Extra = None) -> OrientationVector:
        return orientation_from_proto(self._call("GetOrientation", extra=extra).orientation)

    def get_position(self, *, extra: Extra = None) -> GeoPosition:
        response = self._call("GetPosition", extra=extra)
        return GeoPosition(GeoPoint(response.coordinate.latitude, response.coordinate.longitude), response.altitude_m)

    def get_properties(self, *, extra: Extra = None) -> MovementSensorProperties:
        response = self._call("GetProperties", extra=extra)
        return MovementSensorProperties(**{f: getattr(response, f) for f in MovementSensorProperties._fields})

    def get_accuracy(self, *, extra: Extra = None) -> Accuracy:
        response = self._call("GetAccuracy", extra=extra)
        optional = {f: getattr(response, f) for f in _OPTIONAL if response.HasField(f)}
        return Accuracy(dict(response.accuracy), **optional)

    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        return RemoteResource.get_readings(self, extra=extra)
