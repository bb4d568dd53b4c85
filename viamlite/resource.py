"""The base of every resource: name, lifecycle and the methods every API shares.

A resource knows nothing of transports. Drivers subclass one component interface
(``viamlite.components.servo.Servo``, ...) and the machine builds them through the model
registry.
"""
from __future__ import annotations

import abc
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from viamlite.errors import NotSupportedError, ResourceClosedError
from viamlite.names import API, ResourceName

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import ResourceConfig
    from viamlite.spatial.geometry import Geometry

R = TypeVar("R", bound="Resource")
Extra = Mapping[str, Any] | None


class MustRebuild(Exception):
    """Raised by ``reconfigure`` when the resource cannot apply the new config in place."""


class ResourceSource(Protocol):
    """Anything that hands out resources by API and name: a machine or a client."""

    def resource(self, api: API, name: str) -> "Resource": ...


class Resource(abc.ABC):
    """A named thing on a machine. Subclasses set ``API``."""

    API: ClassVar[API]

    def __init__(self, name: str) -> None:
        self.name = name
        self.geometries: list[Geometry] = []
        self._closed = False
        self._close_lock = threading.Lock()

    # -- identity ----------------------------------------------------------------
    @property
    def resource_name(self) -> ResourceName:
        return ResourceName(self.API, self.name)

    @classmethod
    def from_robot(cls: type[R], machine: ResourceSource, name: str) -> R:
        """The resource ``name`` of this API on ``machine`` (in-process or a client)."""
        res = machine.resource(cls.API, name)
        if not isinstance(res, cls):
            raise TypeError(f"{name!r} is a {type(res).__name__}, not a {cls.__name__}")
        return res

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<{type(self).__name__} {self.name!r} {self.API}{state}>"

    # -- lifecycle ---------------------------------------------------------------
    def reconfigure(self, config: "ResourceConfig", dependencies: Mapping[ResourceName, "Resource"]) -> None:
        """Apply a changed config in place; raise :class:`MustRebuild` to be rebuilt instead."""
        raise MustRebuild()

    def close(self) -> None:
        """Release the resource. Idempotent; a closed resource raises ResourceClosedError."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._on_close()

    def _on_close(self) -> None:
        """Subclasses release hardware here; called once."""

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ResourceClosedError(f"{self.API.subtype} {self.name!r} is closed; it was removed or the machine stopped")

    def __enter__(self: R) -> R:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- methods every API has ---------------------------------------------------
    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """Run a model-specific command; the default model supports none."""
        raise NotSupportedError(f"{self.API.subtype} {self.name!r} ({type(self).__name__}) supports no commands")

    def get_geometries(self, *, extra: Extra = None) -> "list[Geometry]":
        """The resource's geometries in its own frame (from the config's frame block by default)."""
        return list(self.geometries)

    def get_status(self) -> dict[str, Any]:
        """Model-specific status as a JSON-like dict."""
        return {}


class Actuator(Resource):
    """A resource that moves: StopAll and shutdown stop every actuator."""

    @abc.abstractmethod
    def stop(self, *, extra: Extra = None) -> None:
        """Stop moving now."""

    @abc.abstractmethod
    def is_moving(self) -> bool: ...


class Sensing(Resource):
    """A resource with GetReadings."""

    @abc.abstractmethod
    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        """Current readings as a JSON-like dict (spatial values as viamlite.spatial types)."""
