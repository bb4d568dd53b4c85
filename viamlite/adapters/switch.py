"""Switch API over the wire: ``viam.component.switch.v1.SwitchService``."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.switch import Switch
from viamlite.gen import switch_pb2 as pb
from viamlite.rpc.wire import extra_of

service = ResourceService(Switch.API, pb.DESCRIPTOR.services_by_name["SwitchService"])


@service.unary("SetPosition")
def set_position(switch: Switch, req: pb.SetPositionRequest) -> pb.SetPositionResponse:
    switch.set_position(req.position, extra=extra_of(req))
    return pb.SetPositionResponse()


@service.unary("GetPosition")
def get_position(switch: Switch, req: pb.GetPositionRequest) -> pb.GetPositionResponse:
    return pb.GetPositionResponse(position=switch.get_position(extra=extra_of(req)))


@service.unary("GetNumberOfPositions")
def get_number_of_positions(switch: Switch, req: pb.GetNumberOfPositionsRequest) -> pb.GetNumberOfPositionsResponse:
    n = switch.get_number_of_positions(extra=extra_of(req))
    return pb.GetNumberOfPositionsResponse(number_of_positions=n.number_of_positions, labels=list(n.labels))
