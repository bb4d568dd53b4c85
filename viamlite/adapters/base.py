"""Base API over the wire: ``viam.component.base.v1.BaseService``."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.base import Base
from viamlite.gen import base_pb2 as pb
from viamlite.rpc.wire import extra_of, vector_from_proto

service = ResourceService(Base.API, pb.DESCRIPTOR.services_by_name["BaseService"])


@service.unary("MoveStraight", long_running=True)
def move_straight(base: Base, req: pb.MoveStraightRequest) -> pb.MoveStraightResponse:
    base.move_straight(req.distance_mm, req.mm_per_sec, extra=extra_of(req))
    return pb.MoveStraightResponse()


@service.unary("Spin", long_running=True)
def spin(base: Base, req: pb.SpinRequest) -> pb.SpinResponse:
    base.spin(req.angle_deg, req.degs_per_sec, extra=extra_of(req))
    return pb.SpinResponse()


@service.unary("SetPower")
def set_power(base: Base, req: pb.SetPowerRequest) -> pb.SetPowerResponse:
    base.set_power(vector_from_proto(req.linear), vector_from_proto(req.angular), extra=extra_of(req))
    return pb.SetPowerResponse()


@service.unary("SetVelocity")
def set_velocity(base: Base, req: pb.SetVelocityRequest) -> pb.SetVelocityResponse:
    base.set_velocity(vector_from_proto(req.linear), vector_from_proto(req.angular), extra=extra_of(req))
    return pb.SetVelocityResponse()


@service.unary("Stop")
def stop(base: Base, req: pb.StopRequest) -> pb.StopResponse:
    base.stop(extra=extra_of(req))
    return pb.StopResponse()


@service.unary("IsMoving")
def is_moving(base: Base, req: pb.IsMovingRequest) -> pb.IsMovingResponse:
    return pb.IsMovingResponse(is_moving=base.is_moving())


@service.unary("GetProperties")
def get_properties(base: Base, req: pb.GetPropertiesRequest) -> pb.GetPropertiesResponse:
    return pb.GetPropertiesResponse(**base.get_properties(extra=extra_of(req))._asdict())
