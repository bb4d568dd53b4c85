"""What machine-wide calls return, in-process and through the client alike: plain Python
values, independent of the wire."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from viamlite.names import ResourceName

#: The Viam machine API version viamlite answers GetVersion with.
API_VERSION = "v0.1.0"


class ResourceNames(list):  # type: ignore[type-arg]
    """What ``machine.resource_names`` is: a list of :class:`ResourceName`.

    ``resource_names`` was a method before it became a property (as on the viam-sdk's
    ``RobotClient``); calling the list still returns it, with a DeprecationWarning.
    """

    def __call__(self) -> list[ResourceName]:
        warnings.warn("resource_names is a property now (as in the Viam SDKs): drop the parentheses",
                      DeprecationWarning, stacklevel=2)
        return list(self)


@dataclass(frozen=True)
class Version:
    platform: str
    version: str
    api_version: str


@dataclass(frozen=True)
class CloudMetadata:
    primary_org_id: str
    location_id: str
    machine_id: str
    machine_part_id: str


@dataclass(frozen=True)
class ResourceStatus:
    name: ResourceName
    state: str  # ready, configuring, removing, unhealthy, unknown
    revision: str = ""
    error: str = ""


@dataclass(frozen=True)
class ModuleStatus:
    name: str
    state: str  # pending, starting, ready, unhealthy, closing, unknown
    error: str = ""
    failures: int = 0  # consecutive failures to start or stay up


@dataclass(frozen=True)
class MachineStatus:
    state: str  # running, initializing, unknown
    revision: str = ""
    resources: list[ResourceStatus] = field(default_factory=list)
    modules: list[ModuleStatus] = field(default_factory=list)


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    arguments: dict[str, Any]
    started: float  # seconds since the epoch
    session_id: str = ""


@dataclass(frozen=True)
class FrameConfig:
    """One frame of the machine's frame system: its name, parent and pose in the parent."""

    name: str
    parent: str
    pose: Any  # viamlite.spatial.Pose
    geometry: Any = None  # viamlite.spatial.geometry.Geometry or None
