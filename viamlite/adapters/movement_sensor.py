"""Movement sensor API over the wire: ``viam.component.movementsensor.v1.MovementSensorService``."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.movement_sensor import MovementSensor
from viamlite.gen import common_pb2
from viamlite.gen import movementsensor_pb2 as pb
from viamlite.rpc.wire import extra_of, orientation_to_proto, vector_to_proto

service = ResourceService(MovementSensor.API, pb.DESCRIPTOR.services_by_name["MovementSensorService"])


@service.unary("GetLinearVelocity")
def get_linear_velocity(sensor: MovementSensor, req: pb.GetLinearVelocityRequest) -> pb.GetLinearVelocityResponse:
    return pb.GetLinearVelocityResponse(linear_velocity=vector_to_proto(sensor.get_linear_velocity(extra=extra_of(req))))


@service.unary("GetAngularVelocity")
def get_angular_velocity(sensor: MovementSensor, req: pb.GetAngularVelocityRequest) -> pb.GetAngularVelocityResponse:
    return pb.GetAngularVelocityResponse(angular_velocity=vector_to_proto(sensor.get_angular_velocity(extra=extra_of(req))))


@service.unary("GetLinearAcceleration")
def get_linear_acceleration(sensor: MovementSensor, req: pb.GetLinearAccelerationRequest) -> pb.GetLinearAccelerationResponse:
    return pb.GetLinearAccelerationResponse(
        linear_acceleration=vector_to_proto(sensor.get_linear_acceleration(extra=extra_of(req))))


@service.unary("GetCompassHeading")
def get_compass_heading(sensor: MovementSensor, req: pb.GetCompassHeadingRequest) -> pb.GetCompassHeadingResponse:
    return pb.GetCompassHeadingResponse(value=sensor.get_compass_heading(extra=extra_of(req)))


@service.unary("GetOrientation")
def get_orientation(sensor: MovementSensor, req: pb.GetOrientationRequest) -> pb.GetOrientationResponse:
    return pb.GetOrientationResponse(orientation=orientation_to_proto(sensor.get_orientation(extra=extra_of(req))))


@service.unary("GetPosition")
def get_position(sensor: MovementSensor, req: pb.GetPositionRequest) -> pb.GetPositionResponse:
    pos = sensor.get_position(extra=extra_of(req))
    point = common_pb2.GeoPoint(latitude=pos.coordinate.latitude, longitude=pos.coordinate.longitude)
    return pb.GetPositionResponse(coordinate=point, altitude_m=pos.altitude_m)


@service.unary("GetProperties")
def get_properties(sensor: MovementSensor, req: pb.GetPropertiesRequest) -> pb.GetPropertiesResponse:
    return pb.GetPropertiesResponse(**sensor.get_properties(extra=extra_of(req))._asdict())


@service.unary("GetAccuracy")
def get_accuracy(sensor: MovementSensor, req: pb.GetAccuracyRequest) -> pb.GetAccuracyResponse:
    acc = sensor.get_accuracy(extra=extra_of(req))
    optional = {k: v for k, v in acc._asdict().items() if k != "accuracy" and v is not None}
    return pb.GetAccuracyResponse(accuracy=dict(acc.accuracy), **optional)
