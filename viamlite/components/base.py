"""The base API: a mobile platform moved straight, spun, or driven by power or velocity."""
from __future__ import annotations

from abc import abstractmethod
from typing import NamedTuple

from viamlite.names import API
from viamlite.resource import Actuator, Extra
from viamlite.spatial import Vector3


class BaseProperties(NamedTuple):
    width_meters: float
    turning_radius_meters: float
    wheel_circumference_meters: float


class Base(Actuator):
    API = API.component("base")

    @abstractmethod
    def move_straight(self, distance_mm: int, mm_per_sec: float, *, extra: Extra = None) -> None:
        """Drive ``distance_mm`` (negative backwards) at ``mm_per_sec``; blocks until done."""

    @abstractmethod
    def spin(self, angle_deg: float, degs_per_sec: float, *, extra: Extra = None) -> None:
        """Turn in place by ``angle_deg`` (positive counter-clockwise); blocks until done."""

    @abstractmethod
    def set_power(self, linear: Vector3, angular: Vector3, *, extra: Extra = None) -> None:
        """Power fractions, -1.0 to 1.0 per axis."""

    @abstractmethod
    def set_velocity(self, linear: Vector3, angular: Vector3, *, extra: Extra = None) -> None:
        """Millimetres per second and degrees per second."""

    @abstractmethod
    def get_properties(self, *, extra: Extra = None) -> BaseProperties: ...

    @abstractmethod
    def stop(self, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def is_moving(self) -> bool: ...
