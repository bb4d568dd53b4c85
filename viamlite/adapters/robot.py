"""The machine over the wire: ``viam.robot.v1.RobotService``."""
from __future__ import annotations

import logging
import platform as _platform
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format

from viamlite import __version__
from viamlite.adapters import adapter_module, modules, remotes
from viamlite.adapters.service import message_class, rpc_error
from viamlite.adapters.session import SESSION_EXPIRED
from viamlite.components import COMPONENTS
from viamlite.errors import InvalidArgumentError
from viamlite.gen import POOL, common_pb2
from viamlite.gen import robot_pb2 as pb
from viamlite.machine import State
from viamlite.machine.types import API_VERSION
from viamlite.names import API
from viamlite.rpc import Call, Code, Lane, Method, RpcError, wire
from viamlite.spatial import FrameError, Pose

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine

SERVICE = "viam.robot.v1.RobotService"
remote_log = logging.getLogger("viamlite.client_log")

_STATES = {
    State.READY: pb.ResourceStatus.STATE_READY,
    State.REMOVING: pb.ResourceStatus.STATE_REMOVING,
    State.UNHEALTHY: pb.ResourceStatus.STATE_UNHEALTHY,
}
_LONG_RUNNING = {"BlockForOperation", "RestartModule"}
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "warning": logging.WARNING,
           "error": logging.ERROR, "fatal": logging.CRITICAL, "panic": logging.CRITICAL}


def resource_name_proto(api: API, name: str) -> Any:
    return common_pb2.ResourceName(namespace=api.namespace, type=api.type, subtype=api.subtype, name=name)


class RobotService:
    """Machine-wide methods; ``shutdown`` is what Shutdown triggers (after answering)."""

    def __init__(self, machine: "Machine", shutdown: Callable[[], None] | None = None) -> None:
        self.machine = machine
        self.shutdown = shutdown

    def methods(self) -> list[Method]:
        desc = POOL.FindServiceByName(SERVICE)
        out = []
        for md in desc.methods:
            fn = getattr(self, md.name, None)
            if fn is None or md.client_streaming or md.server_streaming:
                continue
            out.append(Method(f"/{SERVICE}/{md.name}", message_class(md.input_type.full_name),
                              message_class(md.output_type.full_name), _guard(md.name, fn),
                              lane=Lane.LONG if md.name in _LONG_RUNNING else Lane.CONTROL))
        return out

    # -- resources -------------------------------------------------------------
    def ResourceNames(self, req: Any, call: Call) -> Any:
        resp = pb.ResourceNamesResponse(resources=[resource_name_proto(n.api, n.name)
                                                   for n in self.machine.resource_names])
        remotes.add_names(self.machine, resp, call)
        return resp

    def ResourceRPCSubtypes(self, req: Any, call: Call) -> Any:
        out = []
        for api in sorted({n.api for n in self.machine.resource_names}):
            service = _service_for(api)
            if service:
                out.append(pb.ResourceRPCSubtype(subtype=resource_name_proto(api, ""), proto_service=service))
        resp = pb.ResourceRPCSubtypesResponse(resource_rpc_subtypes=out)
        modules.add_subtypes(self.machine, resp)
        remotes.add_subtypes(self.machine, resp)
        return resp

    def GetMachineStatus(self, req: Any, call: Call) -> Any:
        resp = pb.GetMachineStatusResponse(state=pb.GetMachineStatusResponse.STATE_RUNNING)
        resp.config.revision = str(self.machine.revision)
        resp.config.last_updated.FromNanoseconds(int(self.machine.applied_at * 1e9))
        for entry in self.machine.entries():
            status = resp.resources.add(name=resource_name_proto(entry.config.api, entry.config.name),
                                        state=_STATES.get(entry.state, pb.ResourceStatus.STATE_UNSPECIFIED),
                                        revision=str(entry.revision), error=entry.error,
                                        reachability=pb.ResourceStatus.REACHABILITY_REACHABLE)
            status.last_updated.FromNanoseconds(int(entry.updated * 1e9))
        remotes.add_statuses(self.machine, resp)
        modules.add_statuses(self.machine, resp)
        return resp

    # -- modules -----------------------------------------------------------------
    def GetModelsFromModules(self, req: Any, call: Call) -> Any:
        resp = pb.GetModelsFromModulesResponse()
        modules.add_models(self.machine, resp)
        return resp

    def RestartModule(self, req: Any, call: Call) -> Any:
        modules.restart(self.machine, req)
        return pb.RestartModuleResponse()

    def GetVersion(self, req: Any, call: Call) -> Any:
        return pb.GetVersionResponse(platform=f"viamlite (python {_platform.python_version()})",
                                     version=__version__, api_version=API_VERSION)

    def GetCloudMetadata(self, req: Any, call: Call) -> Any:
        cloud = self.machine.config.raw.get("cloud") or {}
        return pb.GetCloudMetadataResponse(
            primary_org_id=str(cloud.get("primary_org_id", "")), location_id=str(cloud.get("location_id", "")),
            machine_id=str(cloud.get("machine_id", "")), machine_part_id=str(cloud.get("id", "")))

    # -- operations ------------------------------------------------------------
    def GetOperations(self, req: Any, call: Call) -> Any:
        resp = pb.GetOperationsResponse()
        for op in self.machine.operations.list():
            item = resp.operations.add(id=op.id, method=op.method)
            if op.session_id:
                item.session_id = op.session_id
            item.started.FromNanoseconds(int(op.started * 1e9))
            args = op.arguments
            if args is not None and hasattr(args, "DESCRIPTOR"):
                wire.dict_to_struct(json_format.MessageToDict(args, preserving_proto_field_name=True), item.arguments)
        return resp

    def CancelOperation(self, req: Any, call: Call) -> Any:
        self.machine.operations.cancel(req.id)  # an operation that already ended is not an error
        return pb.CancelOperationResponse()

    def BlockForOperation(self, req: Any, call: Call) -> Any:
        op = self.machine.operations.get(req.id)
        if op is not None:
            done = op.done
            while not done.wait(0.1):
                if not call.is_active():
                    break
        return pb.BlockForOperationResponse()

    # -- sessions ----------------------------------------------------------------
    def StartSession(self, req: Any, call: Call) -> Any:
        session = self.machine.sessions.start(req.resume)
        resp = pb.StartSessionResponse(id=session.id)
        resp.heartbeat_window.FromNanoseconds(int(session.window * 1e9))
        return resp

    def SendSessionHeartbeat(self, req: Any, call: Call) -> Any:
        try:
            self.machine.sessions.heartbeat(req.id)
        except LookupError:
            raise RpcError(Code.INVALID_ARGUMENT, SESSION_EXPIRED) from None
        return pb.SendSessionHeartbeatResponse()

    def GetSessions(self, req: Any, call: Call) -> Any:
        return pb.GetSessionsResponse(sessions=[pb.Session(id=s.id) for s in self.machine.sessions.sessions()])

    # -- machine actions -------------------------------------------------------
    def StopAll(self, req: Any, call: Call) -> Any:
        errors = self.machine.stop_all() + remotes.stop_remotes(self.machine, call)
        if errors:
            raise RuntimeError("some resources did not stop: " + "; ".join(errors))
        return pb.StopAllResponse()

    def Shutdown(self, req: Any, call: Call) -> Any:
        if self.shutdown is None:
            raise NotImplementedError("this machine cannot be shut down remotely")
        threading.Timer(0.1, self.shutdown).start()  # answer first, then stop
        return pb.ShutdownResponse()

    def Log(self, req: Any, call: Call) -> Any:
        for entry in req.logs:
            level = _LEVELS.get(entry.level.lower(), logging.INFO)
            remote_log.log(level, "[%s] %s", entry.logger_name or "client", entry.message)
        return pb.LogResponse()

    # -- frames ----------------------------------------------------------------
    def FrameSystemConfig(self, req: Any, call: Call) -> Any:
        from viamlite.machine.frames import frame_pose

        resp = pb.FrameSystemConfigResponse()
        for entry in self.machine.entries():
            frame = entry.config.frame
            if frame is None:
                continue
            item = resp.frame_system_configs.add()
            item.frame.reference_frame = entry.config.name
            item.frame.pose_in_observer_frame.reference_frame = frame.parent
            item.frame.pose_in_observer_frame.pose.CopyFrom(wire.pose_to_proto(frame_pose(frame)))
            res = entry.resource
            if res is not None and res.geometries:
                item.frame.physical_object.CopyFrom(wire.geometry_to_proto(res.geometries[0]))
        remotes.add_frames(self.machine, resp)
        for item in resp.frame_system_configs:  # viam-server sets it, empty, on every frame
            item.kinematics.SetInParent()
        for transform in req.supplemental_transforms:  # the caller's extra frames belong to the answer too
            resp.frame_system_configs.add().frame.CopyFrom(transform)
        return resp

    def GetPose(self, req: Any, call: Call) -> Any:
        destination = req.destination_frame or "world"
        pose = self._frames_call(lambda fs, sup: fs.pose_in(req.component_name, destination, sup),
                                 req.supplemental_transforms)
        return pb.GetPoseResponse(pose=common_pb2.PoseInFrame(reference_frame=destination, pose=wire.pose_to_proto(pose)))

    def TransformPose(self, req: Any, call: Call) -> Any:
        source = req.source.reference_frame or "world"
        destination = req.destination or "world"
        start = wire.pose_from_proto(req.source.pose)
        pose = self._frames_call(lambda fs, sup: fs.transform(start, source, destination, sup),
                                 req.supplemental_transforms)
        return pb.TransformPoseResponse(pose=common_pb2.PoseInFrame(reference_frame=destination,
                                                                   pose=wire.pose_to_proto(pose)))

    def _frames_call(self, fn: Callable[[Any, Any], Pose], supplemental: Any) -> Pose:
        extra = [(t.reference_frame, t.pose_in_observer_frame.reference_frame or "world",
                  wire.pose_from_proto(t.pose_in_observer_frame.pose)) for t in supplemental]
        try:
            return fn(self.machine.frame_system(), extra)
        except FrameError as exc:
            raise InvalidArgumentError(str(exc)) from None


def _service_for(api: API) -> str:
    if api.namespace == "rdk" and api.type == "component" and api.subtype in COMPONENTS:
        import importlib

        return importlib.import_module(adapter_module(api.subtype)).service.service
    return ""


def _guard(name: str, fn: Callable[[Any, Call], Any]) -> Callable[[Any, Call], Any]:
    def handler(req: Any, call: Call) -> Any:
        try:
            return fn(req, call)
        except RpcError:
            raise
        except Exception as exc:
            raise rpc_error(exc, name) from exc

    return handler
