"""Gripper API over the wire: ``viam.component.gripper.v1.GripperService``."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.gripper import Gripper
from viamlite.gen import common_pb2
from viamlite.gen import gripper_pb2 as pb
from viamlite.rpc.wire import dict_to_struct, extra_of

service = ResourceService(Gripper.API, pb.DESCRIPTOR.services_by_name["GripperService"])


@service.unary("Open", long_running=True)
def open_(gripper: Gripper, req: pb.OpenRequest) -> pb.OpenResponse:
    gripper.open(extra=extra_of(req))
    return pb.OpenResponse()


@service.unary("Grab", long_running=True)
def grab(gripper: Gripper, req: pb.GrabRequest) -> pb.GrabResponse:
    return pb.GrabResponse(success=gripper.grab(extra=extra_of(req)))


@service.unary("Stop")
def stop(gripper: Gripper, req: pb.StopRequest) -> pb.StopResponse:
    gripper.stop(extra=extra_of(req))
    return pb.StopResponse()


@service.unary("IsMoving")
def is_moving(gripper: Gripper, req: pb.IsMovingRequest) -> pb.IsMovingResponse:
    return pb.IsMovingResponse(is_moving=gripper.is_moving())


@service.unary("IsHoldingSomething")
def is_holding_something(gripper: Gripper, req: pb.IsHoldingSomethingRequest) -> pb.IsHoldingSomethingResponse:
    status = gripper.is_holding_something(extra=extra_of(req))
    response = pb.IsHoldingSomethingResponse(is_holding_something=status.is_holding_something)
    dict_to_struct(status.meta or {}, response.meta)
    return response


@service.unary("GetCurrentInputs")
def get_current_inputs(gripper: Gripper, req: pb.GetCurrentInputsRequest) -> pb.GetCurrentInputsResponse:
    return pb.GetCurrentInputsResponse(values=gripper.get_current_inputs(extra=extra_of(req)))


@service.unary("GoToInputs", long_running=True)
def go_to_inputs(gripper: Gripper, req: pb.GoToInputsRequest) -> pb.GoToInputsResponse:
    gripper.go_to_inputs(list(req.values), extra=extra_of(req))
    return pb.GoToInputsResponse()


@service.unary("GetKinematics")
def get_kinematics(gripper: Gripper, req: common_pb2.GetKinematicsRequest) -> common_pb2.GetKinematicsResponse:
    fmt, data = gripper.get_kinematics(extra=extra_of(req))
    return common_pb2.GetKinematicsResponse(format=fmt, kinematics_data=data)
