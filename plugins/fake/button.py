"""The fake button: counts pushes."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import FakeResource

from viamlite.attributes import Attributes
from viamlite.components.button import Button
from viamlite.resource import Extra


class FakeButton(FakeResource, Button):
    """A button that counts its pushes (``get_status()["pushes"]``).

    Attributes: none.
    """

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        with self._lock:
            self.pushes: int = getattr(self, "pushes", 0)

    def push(self, *, extra: Extra = None) -> None:
        self._check_open()
        with self._lock:
            self.pushes += 1
        self._record("push", extra)

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            return {"pushes": self.pushes}
