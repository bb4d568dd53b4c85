"""The motor API: power, speed and position in revolutions."""
from __future__ import annotations

from abc import abstractmethod
from typing import NamedTuple

from viamlite.names import API
from viamlite.resource import Actuator, Extra


class MotorProperties(NamedTuple):
    position_reporting: bool


class PowerState(NamedTuple):
    is_on: bool
    power_pct: float


class Motor(Actuator):
    API = API.component("motor")

    @abstractmethod
    def set_power(self, power_pct: float, *, extra: Extra = None) -> None:
        """Run at ``power_pct`` of full power, -1.0 to 1.0 (negative runs backwards)."""

    @abstractmethod
    def go_for(self, rpm: float, revolutions: float, *, extra: Extra = None) -> None:
        """Turn ``revolutions`` at ``rpm``; blocks until done. ``revolutions`` 0 runs until stopped."""

    @abstractmethod
    def go_to(self, rpm: float, position_revolutions: float, *, extra: Extra = None) -> None:
        """Turn to ``position_revolutions`` at ``rpm``; blocks until there."""

    @abstractmethod
    def set_rpm(self, rpm: float, *, extra: Extra = None) -> None:
        """Run at ``rpm`` until told otherwise."""

    @abstractmethod
    def reset_zero_position(self, offset: float, *, extra: Extra = None) -> None:
        """Make the current position read as ``offset`` revolutions."""

    @abstractmethod
    def get_position(self, *, extra: Extra = None) -> float:
        """Position in revolutions."""

    @abstractmethod
    def get_properties(self, *, extra: Extra = None) -> MotorProperties: ...

    @abstractmethod
    def stop(self, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def is_powered(self, *, extra: Extra = None) -> PowerState: ...

    @abstractmethod
    def is_moving(self) -> bool: ...
