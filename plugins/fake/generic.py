"""The fake generic component: DoCommand echoes the command."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import FakeResource

from viamlite.attributes import Attributes, thaw
from viamlite.components.generic import Generic


class FakeGeneric(FakeResource, Generic):
    """A generic component whose ``do_command`` answers with the command it was sent.

    Attributes: none.
    """

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        with self._lock:
            self.commands: int = getattr(self, "commands", 0)

    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        self._check_open()
        echoed = thaw(command)
        self._record("do_command", command=echoed)
        with self._lock:
            self.commands += 1
        return thaw(echoed)

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            return {"commands": self.commands}
