"""Button API over the wire: ``viam.component.button.v1.ButtonService``."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.button import Button
from viamlite.gen import button_pb2 as pb
from viamlite.rpc.wire import extra_of

service = ResourceService(Button.API, pb.DESCRIPTOR.services_by_name["ButtonService"])


@service.unary("Push")
def push(button: Button, req: pb.PushRequest) -> pb.PushResponse:
    button.push(extra=extra_of(req))
    return pb.PushResponse()
