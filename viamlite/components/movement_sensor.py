"""The movement sensor API: velocities, orientation, heading, position."""
from __future__ import annotations

from abc import abstractmethod
from typing import Any, NamedTuple

from viamlite.names import API
from viamlite.resource import Extra, Sensing
from viamlite.spatial import OrientationVector, Vector3


class AngularVelocity(Vector3):
    """Degrees per second about x, y, z; a reading the wire tags apart from a plain vector."""


class GeoPoint(NamedTuple):
    latitude: float
    longitude: float


class GeoPosition(NamedTuple):
    coordinate: GeoPoint
    altitude_m: float


class MovementSensorProperties(NamedTuple):
    linear_velocity_supported: bool = False
    angular_velocity_supported: bool = False
    orientation_supported: bool = False
    position_supported: bool = False
    compass_heading_supported: bool = False
    linear_acceleration_supported: bool = False


class Accuracy(NamedTuple):
    accuracy: dict[str, float]
    position_hdop: float | None = None
    position_vdop: float | None = None
    position_nmea_gga_fix: int | None = None
    compass_degrees_error: float | None = None


class MovementSensor(Sensing):
    API = API.component("movement_sensor")

    @abstractmethod
    def get_linear_velocity(self, *, extra: Extra = None) -> Vector3:
        """Metres per second."""

    @abstractmethod
    def get_angular_velocity(self, *, extra: Extra = None) -> Vector3:
        """Degrees per second."""

    @abstractmethod
    def get_compass_heading(self, *, extra: Extra = None) -> float: ...

    @abstractmethod
    def get_orientation(self, *, extra: Extra = None) -> OrientationVector: ...

    @abstractmethod
    def get_position(self, *, extra: Extra = None) -> GeoPosition: ...

    @abstractmethod
    def get_properties(self, *, extra: Extra = None) -> MovementSensorProperties: ...

    @abstractmethod
    def get_accuracy(self, *, extra: Extra = None) -> Accuracy: ...

    @abstractmethod
    def get_linear_acceleration(self, *, extra: Extra = None) -> Vector3:
        """Metres per second squared."""

    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        """Every supported measurement, keyed as the Viam SDKs key them."""
        props = self.get_properties()
        out: dict[str, Any] = {}
        if props.linear_velocity_supported:
            out["linear_velocity"] = self.get_linear_velocity()
        if props.angular_velocity_supported:
            v = self.get_angular_velocity()
            out["angular_velocity"] = AngularVelocity(v.x, v.y, v.z)
        if props.linear_acceleration_supported:
            out["linear_acceleration"] = self.get_linear_acceleration()
        if props.compass_heading_supported:
            out["compass"] = self.get_compass_heading()
        if props.orientation_supported:
            out["orientation"] = self.get_orientation()
        if props.position_supported:
            pos = self.get_position()
            out["position"] = pos.coordinate
            out["altitude"] = pos.altitude_m
        return out
