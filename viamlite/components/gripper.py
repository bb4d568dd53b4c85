"""The gripper API: open, grab, and the state of its jaws."""
from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, NamedTuple

from viamlite.names import API
from viamlite.resource import Actuator, Extra


class HoldingStatus(NamedTuple):
    is_holding_something: bool
    meta: dict[str, Any]


class Gripper(Actuator):
    API = API.component("gripper")

    @abstractmethod
    def open(self, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def grab(self, *, extra: Extra = None) -> bool:
        """Close the jaws; True when something was grabbed."""

    @abstractmethod
    def is_holding_something(self, *, extra: Extra = None) -> HoldingStatus: ...

    @abstractmethod
    def stop(self, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def is_moving(self) -> bool: ...

    def get_current_inputs(self, *, extra: Extra = None) -> list[float]:
        """Joint inputs (jaw opening in millimetres for a simple gripper)."""
        from viamlite.errors import NotSupportedError

        raise NotSupportedError(f"gripper {self.name!r} has no joint inputs")

    def go_to_inputs(self, values: Sequence[float], *, extra: Extra = None) -> None:
        from viamlite.errors import NotSupportedError

        raise NotSupportedError(f"gripper {self.name!r} has no joint inputs")

    def get_kinematics(self, *, extra: Extra = None) -> tuple[int, bytes]:
        """(format, data) of the kinematics file; format 1 is SVA JSON, 2 URDF."""
        from viamlite.errors import NotSupportedError

        raise NotSupportedError(f"gripper {self.name!r} has no kinematics")


