"""The synchronous machine client: what the Viam machine API offers, for scripts and the REPL.

``viamlite.connect(address)`` returns a :class:`MachineClient`. Resources come back as
proxies implementing the same interfaces as in-process resources, so
``Servo.from_robot(machine, "servo1")`` works against either.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format

from viamlite.client.connection import Connection
from viamlite.client.resources import RemoteResource, proxy_for
from viamlite.client.session import SessionKeeper
from viamlite.errors import (
    NotSupportedError,
    ResourceNotFoundError,
    UnhealthyResourceError,
)
from viamlite.gen import common_pb2
from viamlite.gen import robot_pb2 as pb
from viamlite.machine.types import (
    CloudMetadata,
    FrameConfig,
    MachineStatus,
    ModuleStatus,
    Operation,
    ResourceNames,
    ResourceStatus,
    Version,
)
from viamlite.names import API, ResourceName
from viamlite.resource import Resource
from viamlite.rpc import wire
from viamlite.state import ConnectionState

log = logging.getLogger("viamlite.client")

ROBOT = "/viam.robot.v1.RobotService/"
_RESOURCE_STATES = {0: "unknown", 1: "unconfigured", 2: "configuring", 3: "ready", 4: "removing", 5: "unhealthy"}
_MACHINE_STATES = {0: "unknown", 1: "initializing", 2: "running"}
_MODULE_STATES = {0: "unknown", 1: "pending", 2: "starting", 3: "ready", 4: "unhealthy", 5: "closing"}


def _name(msg: Any) -> ResourceName:
    remote, _, name = msg.name.rpartition(":")
    return ResourceName(API(msg.namespace, msg.type, msg.subtype), name, remote)


def _name_proto(name: ResourceName) -> Any:
    return common_pb2.ResourceName(namespace=name.api.namespace, type=name.api.type, subtype=name.api.subtype,
                                   name=name.full_name)


class MachineClient:
    """A remote machine: machine-wide calls plus its resources by API and name.

    Thread-safe; the connection is kept healthy in the background, and a call made while
    the machine is unreachable raises :class:`~viamlite.errors.ConnectError`. The client
    attaches a :class:`~viamlite.client.session.SessionKeeper` to its connection (unless one
    is attached already), so moves run in a session as with the Viam SDKs.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        if connection.sessions is None:
            SessionKeeper.attach(connection)
        self._lock = threading.Lock()
        self._names: list[ResourceName] = []
        self._proxies: dict[tuple[API, str], RemoteResource] = {}

    @classmethod
    def connect(cls, address: str, *, api_key_id: str | None = None, api_key: str | None = None,
                timeout: float = 10.0, insecure: bool | None = None, check_interval: float = 1.0) -> "MachineClient":
        connection = Connection(address, api_key_id=api_key_id, api_key=api_key, timeout=timeout,
                                insecure=insecure, check_interval=check_interval)
        SessionKeeper.attach(connection)
        connection.open()
        client = cls(connection)
        try:
            client.refresh()
        except BaseException:
            connection.close()
            raise
        return client

    @property
    def address(self) -> str:
        return self.connection.address

    @property
    def connected(self) -> bool:
        return self.connection.connected

    def _robot(self, method: str, request: Any, *, timeout: float | None = None) -> Any:
        response_class = getattr(pb, f"{method}Response")
        try:
            return self.connection.unary(ROBOT + method, request, response_class, timeout=timeout, where=method)
        except NotSupportedError as exc:
            raise NotSupportedError(f"{self.address} does not offer {method} (it answered UNIMPLEMENTED): "
                                    f"{exc}") from None

    # -- resources -------------------------------------------------------------
    def refresh(self) -> list[ResourceName]:
        """Ask the machine for its resources again."""
        response = self._robot("ResourceNames", pb.ResourceNamesRequest())
        names = [_name(n) for n in response.resources]
        with self._lock:
            self._names = names
        return list(names)

    @property
    def resource_names(self) -> list[ResourceName]:
        """The machine's resources, as of the last refresh (see :meth:`refresh`); a property,
        as on the viam-sdk's ``RobotClient``."""
        with self._lock:
            return ResourceNames(self._names)

    def resource(self, api: API, name: str) -> Resource:
        """The proxy of resource ``name`` of ``api``; raises ResourceNotFoundError."""
        key = (api, name)
        with self._lock:
            proxy = self._proxies.get(key)
        if proxy is not None:
            return proxy
        if not any(n.api == api and n.full_name == name for n in self._names):
            self.refresh()
        if not any(n.api == api and n.full_name == name for n in self._names):
            available = sorted(n.full_name for n in self._names if n.api == api)
            raise ResourceNotFoundError(api, name, available)
        with self._lock:
            return self._proxies.setdefault(key, proxy_for(api, name, self.connection))

    def resource_by_name(self, name: str) -> Resource:
        """The resource called ``name``, whatever its API (components before services)."""
        matches = [n for n in self._names if n.full_name == name]
        if not matches:
            self.refresh()
            matches = [n for n in self._names if n.full_name == name]
        if not matches:
            raise ResourceNotFoundError("any API", name, sorted(n.full_name for n in self._names))
        matches.sort(key=lambda n: n.api.type != "component")
        return self.resource(matches[0].api, name)

    get = resource_by_name

    def __getitem__(self, name: str) -> Resource:
        return self.resource_by_name(name)

    # -- machine ---------------------------------------------------------------
    def get_machine_status(self) -> MachineStatus:
        r = self._robot("GetMachineStatus", pb.GetMachineStatusRequest())
        resources = [ResourceStatus(_name(s.name), _RESOURCE_STATES.get(s.state, "unknown"), s.revision, s.error)
                     for s in r.resources]
        modules = [ModuleStatus(m.module_name, _MODULE_STATES.get(m.state, "unknown"), m.error, m.consecutive_failures)
                   for m in r.modules]
        return MachineStatus(_MACHINE_STATES.get(r.state, "unknown"), r.config.revision, resources, modules)

    def get_version(self) -> Version:
        r = self._robot("GetVersion", pb.GetVersionRequest())
        return Version(r.platform, r.version, r.api_version)

    def get_cloud_metadata(self) -> CloudMetadata:
        r = self._robot("GetCloudMetadata", pb.GetCloudMetadataRequest())
        return CloudMetadata(r.primary_org_id, r.location_id, r.machine_id, r.machine_part_id)

    def get_operations(self) -> list[Operation]:
        r = self._robot("GetOperations", pb.GetOperationsRequest())
        return [Operation(op.id, op.method, json_format.MessageToDict(op.arguments),
                          op.started.ToNanoseconds() / 1e9, op.session_id) for op in r.operations]

    def cancel_operation(self, operation_id: str) -> None:
        self._robot("CancelOperation", pb.CancelOperationRequest(id=operation_id))

    def block_for_operation(self, operation_id: str, timeout: float | None = None) -> None:
        """Wait until the operation ends (or ``timeout`` seconds pass: CallTimeoutError)."""
        self._robot("BlockForOperation", pb.BlockForOperationRequest(id=operation_id), timeout=timeout)

    def stop_all(self, extra: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
        """Stop every actuator; return the failures (one line each, empty when all stopped).

        ``extra`` maps a resource name to extra parameters for its stop.
        """
        request = pb.StopAllRequest()
        for name, params in (extra or {}).items():
            item = request.extra.add()
            res = self.resource_by_name(name)
            item.name.CopyFrom(_name_proto(res.resource_name))
            wire.dict_to_struct(params, item.params)
        try:
            self._robot("StopAll", request)
        except (NotSupportedError, UnhealthyResourceError):
            raise
        except Exception as exc:
            from viamlite.errors import ConnectError

            if isinstance(exc, ConnectError):
                raise
            return [str(exc)]
        return []

    def get_frame_system_config(self, supplemental_transforms: Iterable[Any] = ()) -> list[FrameConfig]:
        r = self._robot("FrameSystemConfig", pb.FrameSystemConfigRequest(
            supplemental_transforms=list(supplemental_transforms)))
        out = []
        for item in r.frame_system_configs:
            frame = item.frame
            geometry = (wire.geometry_from_proto(frame.physical_object) if frame.HasField("physical_object")
                        else None)
            out.append(FrameConfig(frame.reference_frame, frame.pose_in_observer_frame.reference_frame,
                                   wire.pose_from_proto(frame.pose_in_observer_frame.pose), geometry))
        return out

    frame_system_config = get_frame_system_config

    def get_pose(self, component_name: str, destination_frame: str = "world",
                 supplemental_transforms: Sequence[Any] = ()) -> Any:
        """The pose of ``component_name``'s frame in ``destination_frame``."""
        r = self._robot("GetPose", pb.GetPoseRequest(component_name=component_name,
                                                     destination_frame=destination_frame,
                                                     supplemental_transforms=list(supplemental_transforms)))
        return wire.pose_from_proto(r.pose.pose)

    def transform_pose(self, pose: Any, source_frame: str, destination: str = "world",
                       supplemental_transforms: Sequence[Any] = ()) -> Any:
        """``pose`` (in ``source_frame``) expressed in ``destination``."""
        source = common_pb2.PoseInFrame(reference_frame=source_frame, pose=wire.pose_to_proto(pose))
        r = self._robot("TransformPose", pb.TransformPoseRequest(source=source, destination=destination,
                                                                 supplemental_transforms=list(supplemental_transforms)))
        return wire.pose_from_proto(r.pose.pose)

    def log(self, message: str, level: str = "info", logger_name: str = "client") -> None:
        """Send a log line to the machine's log."""
        entry = common_pb2.LogEntry(host="", level=level, logger_name=logger_name, message=message)
        entry.time.FromNanoseconds(time.time_ns())
        self._robot("Log", pb.LogRequest(logs=[entry]))

    def shutdown(self) -> None:
        """Ask the machine to shut down (it answers first, then stops)."""
        self._robot("Shutdown", pb.ShutdownRequest())

    # -- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        """Close the connection (idempotent); proxies then raise ResourceClosedError."""
        with self._lock:
            proxies, self._proxies = list(self._proxies.values()), {}
        for proxy in proxies:
            proxy.close()
        self.connection.close()

    @property
    def closed(self) -> bool:
        return self.connection.state is ConnectionState.CLOSED

    def __enter__(self) -> "MachineClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<MachineClient {self.address} {self.connection.state}, {len(self._names)} resources>"

    def describe(self) -> str:
        """The machine's resources, one per line."""
        if not self._names:
            return "  (no resources)"
        width = max(len(n.full_name) for n in self._names)
        return "\n".join(f"  {n.full_name:<{width}}  {n.api}" for n in self._names)
