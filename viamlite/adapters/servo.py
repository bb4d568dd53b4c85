"""Servo API over the wire: ``viam.component.servo.v1.ServoService``."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.servo import Servo
from viamlite.gen import servo_pb2 as pb
from viamlite.rpc.wire import extra_of

service = ResourceService(Servo.API, pb.DESCRIPTOR.services_by_name["ServoService"])


@service.unary("Move")
def move(servo: Servo, req: pb.MoveRequest) -> pb.MoveResponse:
    servo.move(req.angle_deg, extra=extra_of(req))
    return pb.MoveResponse()


@service.unary("GetPosition")
def get_position(servo: Servo, req: pb.GetPositionRequest) -> pb.GetPositionResponse:
    return pb.GetPositionResponse(position_deg=servo.get_position(extra=extra_of(req)))


@service.unary("Stop")
def stop(servo: Servo, req: pb.StopRequest) -> pb.StopResponse:
    servo.stop(extra=extra_of(req))
    return pb.StopResponse()


@service.unary("IsMoving")
def is_moving(servo: Servo, req: pb.IsMovingRequest) -> pb.IsMovingResponse:
    return pb.IsMovingResponse(is_moving=servo.is_moving())
