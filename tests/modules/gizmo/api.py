"""The gizmo API (acme:component:gizmo) for the viam-sdk: the resource's interface, its
gRPC service and its client, registered as the SDK's documentation shows for a custom API."""
import abc
from typing import Any, AsyncIterator, Final, Mapping, Optional

from grpclib.client import Channel
from grpclib.server import Stream
from viam.components.component_base import ComponentBase
from viam.resource.registry import Registry, ResourceRegistration
from viam.resource.rpc_service_base import ResourceRPCServiceBase
from viam.resource.types import API
from viam.utils import ValueTypes

from gizmo_grpc import GizmoServiceBase, GizmoServiceStub
from gizmo_pb2 import CountToRequest, CountToResponse, DoOneRequest, DoOneResponse


class Gizmo(ComponentBase):
    API: Final = API("acme", "component", "gizmo")  # pyright: ignore [reportIncompatibleVariableOverride]

    @abc.abstractmethod
    async def do_one(self, arg1: str, **kwargs) -> bool: ...

    @abc.abstractmethod
    def count_to(self, n: int) -> AsyncIterator[int]: ...


class GizmoRPCService(GizmoServiceBase, ResourceRPCServiceBase):
    RESOURCE_TYPE = Gizmo

    async def DoOne(self, stream: Stream[DoOneRequest, DoOneResponse]) -> None:
        request = await stream.recv_message()
        assert request is not None
        gizmo = self.get_resource(request.name)
        await stream.send_message(DoOneResponse(ret1=await gizmo.do_one(request.arg1), echo=request.arg1))

    async def CountTo(self, stream: Stream[CountToRequest, CountToResponse]) -> None:
        request = await stream.recv_message()
        assert request is not None
        gizmo = self.get_resource(request.name)
        async for i in gizmo.count_to(request.n):
            await stream.send_message(CountToResponse(i=i))


class GizmoClient(Gizmo):
    def __init__(self, name: str, channel: Channel) -> None:
        self.channel = channel
        self.client = GizmoServiceStub(channel)
        super().__init__(name)

    async def do_one(self, arg1: str, **kwargs) -> bool:
        return (await self.client.DoOne(DoOneRequest(name=self.name, arg1=arg1))).ret1

    async def count_to(self, n: int) -> AsyncIterator[int]:  # type: ignore[override]
        async with self.client.CountTo.open() as stream:
            await stream.send_message(CountToRequest(name=self.name, n=n), end=True)
            async for reply in stream:
                yield reply.i

    async def do_command(self, command: Mapping[str, ValueTypes], *, timeout: Optional[float] = None,
                         **kwargs: Any) -> Mapping[str, ValueTypes]:
        raise NotImplementedError()


Registry.register_api(ResourceRegistration(Gizmo, GizmoRPCService, lambda name, channel: GizmoClient(name, channel)))
