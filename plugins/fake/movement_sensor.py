"""The fake movement sensor: constant, plausible motion and position."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import FakeResource

from viamlite.attributes import Attributes
from viamlite.components.movement_sensor import (
    Accuracy,
    GeoPoint,
    GeoPosition,
    MovementSensor,
    MovementSensorProperties,
)
from viamlite.resource import Extra
from viamlite.spatial import OrientationVector, Vector3


class FakeMovementSensor(FakeResource, MovementSensor):
    """A movement sensor supporting every measurement, each a constant.

    Attributes (all optional; defaults in brackets):
    ``linear_velocity`` {x, y, z} m/s [0, 5.4, 0]; ``angular_velocity`` {x, y, z} deg/s
    [0, 0, 1]; ``linear_acceleration`` {x, y, z} m/s² [0, 0, 9.81]; ``compass_heading``
    degrees, 0 to 360 [25]; ``orientation`` {o_x, o_y, o_z, theta} (theta in degrees)
    [0, 0, 1, 0]; ``position`` {latitude, longitude} [40.7, -73.98]; ``altitude_m`` [50.5].
    ``get_accuracy`` answers ``{"hdop": 1.0, "vdop": 1.5, "compass_degrees_error": 2.0}``
    with the same values in its fields and an NMEA GGA fix of 1.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        linear_velocity = attrs.vector("linear_velocity", Vector3(0.0, 5.4, 0.0))
        angular_velocity = attrs.vector("angular_velocity", Vector3(0.0, 0.0, 1.0))
        linear_acceleration = attrs.vector("linear_acceleration", Vector3(0.0, 0.0, 9.81))
        heading = float(attrs.number("compass_heading", 25.0, minimum=0, maximum=360))
        ov = attrs.mapping("orientation", example='{"o_x": 0, "o_y": 0, "o_z": 1, "theta": 0}') or {}
        sub = attrs.nested("orientation", ov)
        orientation = OrientationVector(float(sub.number("o_x", 0.0)), float(sub.number("o_y", 0.0)),
                                        float(sub.number("o_z", 1.0)), float(sub.number("theta", 0.0)))
        pos = attrs.nested("position", attrs.mapping("position", example='{"latitude": 40.7, "longitude": -73.98}') or {})
        point = GeoPoint(float(pos.number("latitude", 40.7, minimum=-90, maximum=90)),
                         float(pos.number("longitude", -73.98, minimum=-180, maximum=180)))
        altitude = float(attrs.number("altitude_m", 50.5))
        return {"linear_velocity": linear_velocity, "angular_velocity": angular_velocity,
                "linear_acceleration": linear_acceleration, "compass_heading": heading,
                "orientation": orientation, "position": GeoPosition(point, altitude)}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        with self._lock:
            self.linear_velocity, self.angular_velocity = s["linear_velocity"], s["angular_velocity"]
            self.linear_acceleration, self.compass_heading = s["linear_acceleration"], s["compass_heading"]
            self.orientation, self.position = s["orientation"], s["position"]

    def get_linear_velocity(self, *, extra: Extra = None) -> Vector3:
        self._check_open()
        with self._lock:
            return self.linear_velocity

    def get_angular_velocity(self, *, extra: Extra = None) -> Vector3:
        self._check_open()
        with self._lock:
            return self.angular_velocity

    def get_linear_acceleration(self, *, extra: Extra = None) -> Vector3:
        self._check_open()
        with self._lock:
            return self.linear_acceleration

    def get_compass_heading(self, *, extra: Extra = None) -> float:
        self._check_open()
        with self._lock:
            return self.compass_heading

    def get_orientation(self, *, extra: Extra = None) -> OrientationVector:
        self._check_open()
        with self._lock:
            return self.orientation

    def get_position(self, *, extra: Extra = None) -> GeoPosition:
        self._check_open()
        with self._lock:
            return self.position

    def get_properties(self, *, extra: Extra = None) -> MovementSensorProperties:
        self._check_open()
        return MovementSensorProperties(True, True, True, True, True, True)

    def get_accuracy(self, *, extra: Extra = None) -> Accuracy:
        self._check_open()
        return Accuracy({"hdop": 1.0, "vdop": 1.5, "compass_degrees_error": 2.0},
                        position_hdop=1.0, position_vdop=1.5, position_nmea_gga_fix=1, compass_degrees_error=2.0)

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            v, w, a, o = self.linear_velocity, self.angular_velocity, self.linear_acceleration, self.orientation
            return {
                "linear_velocity": {"x": v.x, "y": v.y, "z": v.z},
                "angular_velocity": {"x": w.x, "y": w.y, "z": w.z},
                "linear_acceleration": {"x": a.x, "y": a.y, "z": a.z},
                "compass_heading": self.compass_heading,
                "orientation": {"o_x": o.o_x, "o_y": o.o_y, "o_z": o.o_z, "theta": o.theta_deg},
                "position": {"latitude": self.position.coordinate.latitude,
                             "longitude": self.position.coordinate.longitude},
                "altitude_m": self.position.altitude_m,
            }
