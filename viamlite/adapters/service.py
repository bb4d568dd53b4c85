"""Serving one resource API: method table, dispatch to the named resource, errors.

An API adapter creates a :class:`ResourceService`, decorates one function per wire
method, and the methods every API shares (DoCommand, GetGeometries, GetStatus,
GetReadings) are added here once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from google.protobuf import message_factory

from viamlite.adapters import status, wire
from viamlite.gen import POOL, common_pb2
from viamlite.names import API

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine

log = logging.getLogger("viamlite.adapters")


class Call(Protocol):
    """What an adapter may know of a call in flight, whatever the transport."""

    def metadata(self) -> Sequence[tuple[str, str | bytes]]: ...

    def time_remaining(self) -> float | None: ...

    def add_done_callback(self, callback: Callable[[], None]) -> None: ...

    def is_active(self) -> bool: ...

    def peer(self) -> str: ...


class RpcError(Exception):
    """Raised by dispatch: the transport turns it into a status."""

    def __init__(self, code: Any, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Method:
    """One served method: full path, message classes, and the function that runs it.

    ``handler(request, call) -> response`` (unary) or an iterator of responses
    (``server_streaming``).
    """

    path: str
    request_class: type
    response_class: type
    handler: Callable[[Any, Call], Any]
    server_streaming: bool = False
    client_streaming: bool = False
    long_running: bool = False  # may block for seconds (a move, a wait): served apart from quick calls


def message_class(full_name: str) -> type:
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(full_name))


class ResourceService:
    """The methods of one resource API's gRPC service."""

    def __init__(self, api: API, descriptor: Any) -> None:
        self.api = api
        self.descriptor = descriptor
        self.service: str = descriptor.full_name
        self._impls: dict[str, tuple[Callable[..., Any], bool, bool]] = {}

    def unary(self, name: str, *, long_running: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorate ``fn(resource, request) -> response`` as the method ``name``.

        ``long_running`` marks methods that may block for seconds (GoFor, MoveStraight, ...).
        """
        return self._add(name, streaming=False, long_running=long_running)

    def stream(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorate ``fn(resource, request, call) -> iterator of responses``."""
        return self._add(name, streaming=True, long_running=True)

    def _add(self, name: str, streaming: bool, long_running: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        if name not in self.descriptor.methods_by_name:
            raise KeyError(f"{self.service} has no method {name}")

        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._impls[name] = (fn, streaming, long_running)
            return fn

        return deco

    def methods(self, machine: "Machine") -> list[Method]:
        """Bind every method to ``machine``; methods without an implementation are left out
        (the transport answers them UNIMPLEMENTED)."""
        impls = dict(_COMMON)
        impls.update(self._impls)
        out = []
        for md in self.descriptor.methods:
            if md.name not in impls:
                continue
            fn, streaming, long_running = impls[md.name]
            req_cls = message_class(md.input_type.full_name)
            resp_cls = message_class(md.output_type.full_name)
            path = f"/{self.service}/{md.name}"
            name_field = "board_name" if "name" not in md.input_type.fields_by_name else "name"
            binder = _bind_stream if streaming else _bind_unary
            out.append(Method(path, req_cls, resp_cls, binder(machine, self.api, path, fn, name_field),
                              server_streaming=streaming, long_running=long_running))
        return out


def _bind_unary(machine: "Machine", api: API, path: str, fn: Callable[..., Any], name_field: str) -> Callable[[Any, Call], Any]:
    lookup = machine.resource
    run = machine.operations.run
    method = path.rsplit("/", 1)[1]

    def handler(request: Any, call: Call) -> Any:
        name = getattr(request, name_field)
        try:
            resource = lookup(api, name)
            with run(path, request):
                return fn(resource, request)
        except Exception as exc:
            raise _rpc_error(exc, f"{api.subtype} {name!r} {method}") from exc

    return handler


def _bind_stream(machine: "Machine", api: API, path: str, fn: Callable[..., Any], name_field: str) -> Callable[[Any, Call], Any]:
    method = path.rsplit("/", 1)[1]

    def handler(request: Any, call: Call) -> Iterator[Any]:
        name = getattr(request, name_field)
        try:
            resource = machine.resource(api, name)
            with machine.operations.run(path, request):
                yield from fn(resource, request, call)
        except GeneratorExit:
            raise
        except Exception as exc:
            raise _rpc_error(exc, f"{api.subtype} {name!r} {method}") from exc

    return handler


def _rpc_error(exc: BaseException, where: str) -> RpcError:
    code = status.code_for(exc)
    if code.name == "UNKNOWN":
        log.warning("%s failed", where, exc_info=exc)
    return RpcError(code, status.describe(exc, where))


# -- methods every API shares ------------------------------------------------------


def _do_command(resource: Any, request: Any) -> Any:
    result = resource.do_command(wire.struct_to_dict(request.command))
    if result is None:
        result = {}
    if not isinstance(result, dict):
        raise TypeError(f"do_command must return a dict, returned {type(result).__name__}")
    response = common_pb2.DoCommandResponse()
    wire.dict_to_struct(result, response.result)
    return response


def _get_geometries(resource: Any, request: Any) -> Any:
    geometries = resource.get_geometries(extra=wire.extra_of(request))
    return common_pb2.GetGeometriesResponse(geometries=[wire.geometry_to_proto(g) for g in geometries])


def _get_status(resource: Any, request: Any) -> Any:
    response = common_pb2.GetStatusResponse()
    wire.dict_to_struct(resource.get_status() or {}, response.result)
    return response


def _get_readings(resource: Any, request: Any) -> Any:
    response = common_pb2.GetReadingsResponse()
    wire.readings_to_proto(resource.get_readings(extra=wire.extra_of(request)), response.readings)
    return response


_COMMON: dict[str, tuple[Callable[..., Any], bool, bool]] = {
    "DoCommand": (_do_command, False, True),  # a model's command may take as long as it likes
    "GetGeometries": (_get_geometries, False, False),
    "GetStatus": (_get_status, False, False),
    "GetReadings": (_get_readings, False, False),
}
