"""What every serial model shares: its link, claims released on close, and the common status."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from viamlite_plugins.serial.link import Link, acquire
from viamlite_plugins.serial.settings import PortSettings

from viamlite.attributes import Attributes

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import ResourceConfig


class OnLink:
    """Mixin for a resource on a serial link (put before the component interface)."""

    name: str
    link: Link

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        """Read and check every attribute (raising ConfigError naming the attribute and the fix)."""
        return {"port": PortSettings.read(attrs)}

    @classmethod
    def validate_config(cls, config: "ResourceConfig") -> list[str]:
        cls.settings(Attributes.of(config))
        return []

    @classmethod
    def from_config(cls, config: "ResourceConfig", dependencies: Mapping[Any, Any]) -> Any:
        return cls(config.name, Attributes.of(config))  # type: ignore[call-arg]

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
