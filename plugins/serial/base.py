"""What every serial model shares: its link, claims released on close, and the common status."""
from __future__ import annotations

from typing import Any

from viamlite_plugins.serial.link import Link, acquire
from viamlite_plugins.serial.settings import PortSettings

from viamlite.attributes import Attributes
from viamlite.driver import Configured


class OnLink(Configured):
    """Mixin for a resource on a serial link (put before the component interface).

    A model follows the driver contract (:class:`viamlite.driver.Configured`): its
    constructor takes ``(name, attributes)``, its :meth:`settings` extends these.
    """

    name: str
    link: Link

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        """Read and check every attribute (raising ConfigError naming the attribute and the fix)."""
        return {"port": PortSettings.read(attrs)}

    def _connect(self, settings: dict[str, Any], attrs: Attributes) -> None:
        """Take the port's link, then :meth:`_setup` (claims, attach); a failure gives the link back."""
        self.link = acquire(settings["port"], self.name, attrs)
        try:
            self._setup(settings, attrs)
        except BaseException:
            self.link.release(self.name)
            raise

    def _setup(self, settings: dict[str, Any], attrs: Attributes) -> None:
        """Claim indexes and pins, set the firmware up, register restore actions."""

    def _release(self) -> None:
        """Undo :meth:`_setup` on the firmware (best effort); the link is still held."""

    def _on_close(self) -> None:
        try:
            self._release()
        finally:
            self.link.release(self.name)

    def link_status(self) -> dict[str, Any]:
        return self.link.status()
