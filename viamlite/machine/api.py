"""The machine-wide calls of the Viam machine API, answered in-process.

:class:`~viamlite.machine.Machine` offers them with the same names and return values as the
client (:class:`viamlite.client.machine.MachineClient`), so a script or the REPL runs the
same against a machine in this process and one across the network.
"""
from __future__ import annotations

import logging
import platform
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from viamlite.machine.types import (
    API_VERSION,
    CloudMetadata,
    FrameConfig,
    MachineStatus,
    ModuleStatus,
    Operation,
    ResourceStatus,
    Version,
)
from viamlite.names import ResourceName

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine

client_log = logging.getLogger("viamlite.client_log")


class MachineAPI:
    """Mixed into :class:`~viamlite.machine.Machine`."""

    def get_version(self: "Machine") -> Version:
        from viamlite import __version__

        return Version(f"viamlite (python {platform.python_version()})", __version__, API_VERSION)

    def get_machine_status(self: "Machine") -> MachineStatus:
        resources = [ResourceStatus(e.name, e.state, str(e.revision), e.error) for e in self.entries()]
        for status in self.remotes.statuses():
            resources.append(ResourceStatus(ResourceName(status.api, status.name, status.remote), "ready", "",
                                            status.error))
        modules = [ModuleStatus(m.name, m.state.value, m.error, m.failures)
                   for m in (self.modules.statuses() if self.modules is not None else [])]
        return MachineStatus("running", str(self.revision), resources, modules)

    def get_cloud_metadata(self: "Machine") -> CloudMetadata:
        cloud = self.config.raw.get("cloud") or {}
        return CloudMetadata(str(cloud.get("primary_org_id", "")), str(cloud.get("location_id", "")),
                             str(cloud.get("machine_id", "")), str(cloud.get("id", "")))

    def get_operations(self: "Machine") -> list[Operation]:
        return [Operation(op.id, op.method, _arguments(op.arguments), op.started, op.session_id)
                for op in self.operations.list()]

    def cancel_operation(self: "Machine", operation_id: str) -> None:
        self.operations.cancel(operation_id)  # one that already ended is not an error

    def block_for_operation(self: "Machine", operation_id: str, timeout: float | None = None) -> None:
        """Wait until the operation ends (TimeoutError after ``timeout`` seconds)."""
        op = self.operations.get(operation_id)
        if op is not None and not op.done.wait(timeout):
            raise TimeoutError(f"operation {operation_id} still running after {timeout:g} s")

    def get_frame_system_config(self: "Machine", supplemental_transforms: Iterable[Any] = ()) -> list[FrameConfig]:
        """Every frame: the config's, then the remotes' parts, then ``supplemental_transforms``
        ((name, parent, pose) tuples)."""
        from viamlite.machine.frames import frame_pose

        out = []
        for entry in self.entries():
            frame = entry.config.frame
            if frame is not None:
                res = entry.resource
                geometry = res.geometries[0] if res is not None and res.geometries else None
                out.append(FrameConfig(entry.config.name, frame.parent, frame_pose(frame), geometry))
        out += [FrameConfig(name, parent, pose, geometry) for name, parent, pose, geometry in self.remotes.frames()]
        out += [FrameConfig(name, parent, pose) for name, parent, pose in supplemental_transforms]
        return out

    frame_system_config = get_frame_system_config

    def get_pose(self: "Machine", component_name: str, destination_frame: str = "world",
                 supplemental_transforms: Sequence[Any] = ()) -> Any:
        """The pose of ``component_name``'s frame in ``destination_frame``."""
        return self.frame_system().pose_in(component_name, destination_frame or "world", list(supplemental_transforms))

    def transform_pose(self: "Machine", pose: Any, source_frame: str, destination: str = "world",
                       supplemental_transforms: Sequence[Any] = ()) -> Any:
        """``pose`` (in ``source_frame``) expressed in ``destination``."""
        return self.frame_system().transform(pose, source_frame or "world", destination or "world",
                                             list(supplemental_transforms))

    def log(self: "Machine", message: str, level: str = "info", logger_name: str = "client") -> None:
        number = logging.getLevelName(level.upper())  # an int for a known level name
        client_log.log(number if isinstance(number, int) else logging.INFO, "[%s] %s", logger_name, message)

    def shutdown(self: "Machine") -> None:
        """In-process, shutting the machine down closes it."""
        self.close()


def _arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return dict(arguments)
    if hasattr(arguments, "DESCRIPTOR"):  # the request of a call that came over gRPC
        from google.protobuf import json_format

        return json_format.MessageToDict(arguments, preserving_proto_field_name=True)
    return {}
