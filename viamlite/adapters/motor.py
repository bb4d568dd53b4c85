"""Motor API over the wire: ``viam.component.motor.v1.MotorService``."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.motor import Motor
from viamlite.gen import motor_pb2 as pb
from viamlite.rpc.wire import extra_of

service = ResourceService(Motor.API, pb.DESCRIPTOR.services_by_name["MotorService"])


@service.unary("SetPower")
def set_power(motor: Motor, req: pb.SetPowerRequest) -> pb.SetPowerResponse:
    motor.set_power(req.power_pct, extra=extra_of(req))
    return pb.SetPowerResponse()


@service.unary("GoFor", long_running=True)
def go_for(motor: Motor, req: pb.GoForRequest) -> pb.GoForResponse:
    motor.go_for(req.rpm, req.revolutions, extra=extra_of(req))
    return pb.GoForResponse()


@service.unary("GoTo", long_running=True)
def go_to(motor: Motor, req: pb.GoToRequest) -> pb.GoToResponse:
    motor.go_to(req.rpm, req.position_revolutions, extra=extra_of(req))
    return pb.GoToResponse()


@service.unary("SetRPM")
def set_rpm(motor: Motor, req: pb.SetRPMRequest) -> pb.SetRPMResponse:
    motor.set_rpm(req.rpm, extra=extra_of(req))
    return pb.SetRPMResponse()


@service.unary("ResetZeroPosition")
def reset_zero_position(motor: Motor, req: pb.ResetZeroPositionRequest) -> pb.ResetZeroPositionResponse:
    motor.reset_zero_position(req.offset, extra=extra_of(req))
    return pb.ResetZeroPositionResponse()


@service.unary("GetPosition")
def get_position(motor: Motor, req: pb.GetPositionRequest) -> pb.GetPositionResponse:
    return pb.GetPositionResponse(position=motor.get_position(extra=extra_of(req)))


@service.unary("GetProperties")
def get_properties(motor: Motor, req: pb.GetPropertiesRequest) -> pb.GetPropertiesResponse:
    props = motor.get_properties(extra=extra_of(req))
    return pb.GetPropertiesResponse(position_reporting=props.position_reporting)


@service.unary("Stop")
def stop(motor: Motor, req: pb.StopRequest) -> pb.StopResponse:
    motor.stop(extra=extra_of(req))
    return pb.StopResponse()


@service.unary("IsPowered")
def is_powered(motor: Motor, req: pb.IsPoweredRequest) -> pb.IsPoweredResponse:
    state = motor.is_powered(extra=extra_of(req))
    return pb.IsPoweredResponse(is_on=state.is_on, power_pct=state.power_pct)


@service.unary("IsMoving")
def is_moving(motor: Motor, req: pb.IsMovingRequest) -> pb.IsMovingResponse:
    return pb.IsMovingResponse(is_moving=motor.is_moving())
