"""The servo API: a positional actuator moved to an angle in degrees."""
from __future__ import annotations

from abc import abstractmethod

from viamlite.names import API
from viamlite.resource import Actuator, Extra


class Servo(Actuator):
    API = API.component("servo")

    @abstractmethod
    def move(self, angle_deg: int, *, extra: Extra = None) -> None:
        """Move to ``angle_deg`` degrees."""

    @abstractmethod
    def get_position(self, *, extra: Extra = None) -> int:
        """The current angle in degrees."""

    @abstractmethod
    def stop(self, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def is_moving(self) -> bool: ...
