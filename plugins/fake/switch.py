"""The fake switch: a selector with a configured number of positions."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import FakeResource

from viamlite.attributes import Attributes
from viamlite.components.switch import Switch, SwitchPositions
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra


class FakeSwitch(FakeResource, Switch):
    """A switch with positions ``0 .. position_count - 1``, starting at 0.

    Attributes: ``position_count`` (whole number >= 1, default 2) and ``labels``
    (optional list of ``position_count`` strings; ``get_number_of_positions`` answers
    with no labels when unset). A reconfigure to fewer positions moves the switch to the
    last one if it was beyond.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        count = attrs.number("position_count", 2, minimum=1, integer=True)
        labels = attrs.sequence("labels", example='["off", "on"]')
        if labels and (len(labels) != count or not all(isinstance(label, str) for label in labels)):
            raise attrs.fail("labels", f"labels must be {count} strings, one per position, got {list(labels)!r}",
                             f"give {count} labels, or set position_count to the number of labels")
        return {"position_count": count, "labels": list(labels)}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        count, labels = s["position_count"], s["labels"]
        with self._lock:
            self.position_count, self.labels = count, list(labels)
            self._position = min(getattr(self, "_position", 0), count - 1)

    def set_position(self, position: int, *, extra: Extra = None) -> None:
        self._check_open()
        with self._lock:
            count = self.position_count
            if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < count:
                raise InvalidArgumentError(
                    f"switch {self.name!r}: position {position!r} is out of range; use 0 to {count - 1}")
            self._position = position
        self._record("set_position", extra, position=position)

    def get_position(self, *, extra: Extra = None) -> int:
        self._check_open()
        with self._lock:
            return self._position

    def get_number_of_positions(self, *, extra: Extra = None) -> SwitchPositions:
        self._check_open()
        with self._lock:
            return SwitchPositions(self.position_count, list(self.labels))

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            status: dict[str, Any] = {"position": self._position, "position_count": self.position_count}
            if self.labels:
                status["label"] = self.labels[self._position]
            return status
