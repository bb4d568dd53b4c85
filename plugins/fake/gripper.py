"""The fake gripper: two jaws that open, grab and move to a width at once."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from viamlite_plugins.fake import FakeResource, in_range

from viamlite.attributes import Attributes
from viamlite.components.gripper import Gripper, HoldingStatus
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra


class FakeGripper(FakeResource, Gripper):
    """A gripper with one input, the jaw opening in millimetres.

    Attributes: ``max_width_mm`` (default 100, > 0), the fully open width; it starts open.

    ``grab()`` closes the jaws (width 0), always succeeds and then holds something;
    ``open()`` opens fully and lets go; ``go_to_inputs([width_mm])`` moves the jaws to a
    width from 0 to ``max_width_mm`` and lets go. Moves are instant, so ``is_moving`` is
    False. ``get_kinematics`` answers format 1 (SVA JSON): one prismatic jaw joint.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        return {"max_width_mm": float(attrs.number("max_width_mm", 100.0, above=0))}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        max_width = s["max_width_mm"]
        with self._lock:
            self.max_width_mm = max_width
            self._width = min(getattr(self, "_width", max_width), max_width)
            self._holding: bool = getattr(self, "_holding", False)

    def open(self, *, extra: Extra = None) -> None:
        self._check_open()
        self._record("open", extra)
        with self._lock:
            self._width, self._holding = self.max_width_mm, False

    def grab(self, *, extra: Extra = None) -> bool:
        self._check_open()
        self._record("grab", extra)
        with self._lock:
            self._width, self._holding = 0.0, True
        return True

    def is_holding_something(self, *, extra: Extra = None) -> HoldingStatus:
        self._check_open()
        with self._lock:
            return HoldingStatus(self._holding, {"width_mm": self._width})

    def stop(self, *, extra: Extra = None) -> None:
        self._check_open()
        self._record("stop", extra)

    def is_moving(self) -> bool:
        self._check_open()
        return False

    def get_current_inputs(self, *, extra: Extra = None) -> list[float]:
        self._check_open()
        with self._lock:
            return [self._width]

    def go_to_inputs(self, values: Sequence[float], *, extra: Extra = None) -> None:
        self._check_open()
        if len(values) != 1:
            raise InvalidArgumentError(f"gripper {self.name!r} has 1 input (jaw width in mm), got {len(values)} values")
        with self._lock:
            width = in_range(values[0], 0.0, self.max_width_mm, f"gripper {self.name!r}: jaw width (mm)")
            self._width, self._holding = width, False
        self._record("go_to_inputs", extra, values=[width])

    def get_kinematics(self, *, extra: Extra = None) -> tuple[int, bytes]:
        self._check_open()
        model = {
            "name": self.name,
            "kinematic_param_type": "SVA",
            "links": [{"id": "base_link", "parent": "world", "translation": {"x": 0, "y": 0, "z": 0}}],
            "joints": [{"id": "jaw", "type": "prismatic", "parent": "base_link",
                        "axis": {"x": 1, "y": 0, "z": 0}, "min": 0, "max": self.max_width_mm}],
        }
        return 1, json.dumps(model).encode()

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            return {"width_mm": self._width, "holding": self._holding, "max_width_mm": self.max_width_mm}
