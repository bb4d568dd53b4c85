"""Encoder API over the wire: ``viam.component.encoder.v1.EncoderService``."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.encoder import Encoder
from viamlite.gen import encoder_pb2 as pb
from viamlite.rpc.wire import extra_of

service = ResourceService(Encoder.API, pb.DESCRIPTOR.services_by_name["EncoderService"])


@service.unary("GetPosition")
def get_position(encoder: Encoder, req: pb.GetPositionRequest) -> pb.GetPositionResponse:
    kind = req.position_type if req.HasField("position_type") else 0
    pos = encoder.get_position(kind, extra=extra_of(req))
    return pb.GetPositionResponse(value=pos.value, position_type=pos.position_type)


@service.unary("ResetPosition")
def reset_position(encoder: Encoder, req: pb.ResetPositionRequest) -> pb.ResetPositionResponse:
    encoder.reset_position(extra=extra_of(req))
    return pb.ResetPositionResponse()


@service.unary("GetProperties")
def get_properties(encoder: Encoder, req: pb.GetPropertiesRequest) -> pb.GetPropertiesResponse:
    props = encoder.get_properties(extra=extra_of(req))
    return pb.GetPropertiesResponse(ticks_count_supported=props.ticks_count_supported,
                                    angle_degrees_supported=props.angle_degrees_supported)
