"""Remote parts in RobotService answers: names, status, RPC subtypes, frames, StopAll."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from viamlite.gen import common_pb2
from viamlite.gen import robot_pb2 as pb
from viamlite.remotes import CHAINS_KEY, MACHINE_KEY, Reachability
from viamlite.rpc import Call, wire

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine

_REACHABILITY = {
    Reachability.REACHABLE: pb.ResourceStatus.REACHABILITY_REACHABLE,
    Reachability.REMOTE_DISCONNECTED: pb.ResourceStatus.REACHABILITY_REMOTE_DISCONNECTED,
    Reachability.SHADOWED_BY_LOCAL: pb.ResourceStatus.REACHABILITY_SHADOWED_BY_LOCAL,
    Reachability.AMBIGUOUS_REMOTE: pb.ResourceStatus.REACHABILITY_AMBIGUOUS_REMOTE,
}


def add_names(machine: "Machine", response: Any, call: Call) -> None:
    """Append the remotes' resources to a ResourceNamesResponse; tell a linking machine,
    in trailing metadata, this machine's id and the machines each resource came through."""
    manager = machine.remotes
    chains: dict[str, list[int]] = {}
    for route in manager.routes():
        if route.chain:
            chains.setdefault(",".join(route.chain), []).append(len(response.resources))
        response.resources.append(common_pb2.ResourceName(
            namespace=route.api.namespace, type=route.api.type, subtype=route.api.subtype, name=route.name,
            remote_path=list(route.remote_path)))
    setter = getattr(call, "set_trailing_metadata", None)
    if setter is not None:
        pairs = [(MACHINE_KEY, manager.machine_id)]
        if chains:
            pairs.append((CHAINS_KEY, json.dumps(chains, separators=(",", ":"))))
        setter(pairs)


def add_statuses(machine: "Machine", response: Any) -> None:
    """Append the remotes' resources to a GetMachineStatusResponse."""
    for status in machine.remotes.statuses():
        response.resources.add(
            name=common_pb2.ResourceName(namespace=status.api.namespace, type=status.api.type,
                                         subtype=status.api.subtype, name=status.name, remote_path=[status.remote]),
            state=pb.ResourceStatus.STATE_READY, error=status.error,
            reachability=_REACHABILITY[status.reachability], remote=status.remote)


def add_subtypes(machine: "Machine", response: Any) -> None:
    """Append the APIs only remotes serve to a ResourceRPCSubtypesResponse."""
    have = {(s.subtype.namespace, s.subtype.type, s.subtype.subtype) for s in response.resource_rpc_subtypes}
    for api, service in sorted(machine.remotes.services().items()):
        if (api.namespace, api.type, api.subtype) in have:
            continue
        if not any(route.api == api for route in machine.remotes.routes()):
            continue
        response.resource_rpc_subtypes.add(
            subtype=common_pb2.ResourceName(namespace=api.namespace, type=api.type, subtype=api.subtype),
            proto_service=service)


def add_frames(machine: "Machine", response: Any) -> None:
    """Append the remotes' frames (prefixed, under ``<remote>_world`` or world)."""
    for name, parent, pose, geometry in machine.remotes.frames():
        item = response.frame_system_configs.add()
        item.frame.reference_frame = name
        item.frame.pose_in_observer_frame.reference_frame = parent
        item.frame.pose_in_observer_frame.pose.CopyFrom(wire.pose_to_proto(pose))
        if geometry is not None:
            item.frame.physical_object.ParseFromString(geometry)


def stop_remotes(machine: "Machine", call: Call) -> list[str]:
    """Forward StopAll to every remote not already on the request's way; the errors."""
    return machine.remotes.stop_all(machine.remotes.via(call.metadata()))
