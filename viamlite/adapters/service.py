"""Serving one resource API: method table, dispatch to the named resource, errors.

An API adapter creates a :class:`ResourceService`, decorates one function per wire
method, and the methods every API shares (DoCommand, GetGeometries, GetStatus,
GetReadings) are added here once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from google.protobuf import message_factory

from viamlite.adapters import status
from viamlite.adapters.session import join_session
from viamlite.errors import AbortedError, CancelledError, ResourceNotFoundError
from viamlite.gen import POOL, common_pb2, safety_monitored
from viamlite.names import API
from viamlite.remotes.forward import Forwarded
from viamlite.rpc import Call, Code, Lane, Method, RpcError, wire

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine

log = logging.getLogger("viamlite.adapters")

__all__ = ["Call", "ResourceService", "message_class", "rpc_error"]


def message_class(full_name: str) -> type:
    return message_factory.GetMessageClass(POOL.FindMessageTypeByName(full_name))


def rpc_error(exc: BaseException, where: str) -> RpcError:
    """The status for ``exc``; unexpected failures are logged with their traceback."""
    err = status.rpc_error(exc, where)
    if err.code == Code.UNKNOWN:
        log.warning("%s failed", where, exc_info=exc)
    return err


class ResourceService:
    """The methods of one resource API's service (``descriptor``: its ServiceDescriptor)."""

    def __init__(self, api: API, descriptor: Any) -> None:
        self.api = api
        self.descriptor = descriptor
        self.service: str = descriptor.full_name
        self._impls: dict[str, tuple[Callable[..., Any], bool, bool]] = {}

    def unary(self, name: str, *, long_running: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorate ``fn(resource, request) -> response`` as the method ``name``.

        ``long_running`` marks methods that may block for seconds (GoFor, MoveStraight, ...):
        they run apart from quick calls, and end when their caller cancels or goes away.
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
            path = f"/{self.service}/{md.name}"
            name_field = "name" if "name" in md.input_type.fields_by_name else "board_name"
            where = f"{self.api.subtype} {{!r}} {md.name}"
            monitored = safety_monitored(md)
            if streaming:
                handler = _bind_stream(machine, self.api, path, fn, name_field, where)
            else:
                handler = _bind_unary(machine, self.api, path, fn, name_field, where, long_running, monitored)
            out.append(Method(path, message_class(md.input_type.full_name), message_class(md.output_type.full_name),
                              handler, server_streaming=streaming, lane=Lane.LONG if long_running else Lane.QUICK))
        return out


def _bind_unary(machine: "Machine", api: API, path: str, fn: Callable[..., Any], name_field: str, where: str,
                long_running: bool, monitored: bool = False) -> Callable[[Any, Call], Any]:
    lookup = machine.resource
    run = machine.operations.run
    remotes = machine.remotes
    movers = machine.movers

    def handler(request: Any, call: Call) -> Any:
        name = getattr(request, name_field)
        key = (api, name)
        before = movers.last(key) if monitored else None
        sid = join_session(machine, call, key, monitored)
        try:
            resource = lookup(api, name)
            with run(path, request, sid) as op:
                if long_running:  # a cancelled or vanished caller ends the operation
                    call.add_done_callback(op.cancel)
                try:
                    if isinstance(resource, Forwarded):  # served by a module: its own bytes, as for remotes
                        from viamlite.remotes.forward import forward_unary

                        return forward_unary(remotes, resource.route, path, request, name_field, call)
                    return fn(resource, request)
                except Exception as exc:
                    # a move refused or failed at once takes nothing over; one cut short did move
                    if monitored and not isinstance(exc, (AbortedError, CancelledError)):
                        movers.undo(key, sid, before)
                    raise
        except ResourceNotFoundError as exc:  # not here: perhaps on a remote part
            route = remotes.lookup(api, name)
            if route is None:
                raise rpc_error(exc, where.format(name)) from exc
            from viamlite.remotes.forward import forward_unary

            return forward_unary(remotes, route, path, request, name_field, call)
        except Exception as exc:
            raise rpc_error(exc, where.format(name)) from exc

    return handler


def _bind_stream(machine: "Machine", api: API, path: str, fn: Callable[..., Any], name_field: str,
                 where: str) -> Callable[[Any, Call], Any]:
    def handler(request: Any, call: Call) -> Iterator[Any]:
        name = getattr(request, name_field)
        sid = join_session(machine, call, (api, name), False)
        try:
            resource = machine.resource(api, name)
        except ResourceNotFoundError as exc:  # not here: perhaps on a remote part
            route = machine.remotes.lookup(api, name)
            if route is None:
                raise rpc_error(exc, where.format(name)) from exc
            from viamlite.remotes.forward import forward_stream

            yield from forward_stream(machine.remotes, route, path, request, name_field, call)
            return
        except Exception as exc:
            raise rpc_error(exc, where.format(name)) from exc
        try:
            with machine.operations.run(path, request, sid) as op:
                call.add_done_callback(op.cancel)
                if isinstance(resource, Forwarded):  # served by a module: its own bytes, as for remotes
                    from viamlite.remotes.forward import forward_stream

                    yield from forward_stream(machine.remotes, resource.route, path, request, name_field, call)
                    return
                yield from fn(resource, request, call)
        except GeneratorExit:
            raise
        except Exception as exc:
            raise rpc_error(exc, where.format(name)) from exc

    return handler


# -- methods every API shares ------------------------------------------------------


def _do_command(resource: Any, request: Any) -> Any:
    result = resource.do_command(wire.struct_to_dict(request.command))
    if result is None:
        result = {}
    if not isinstance(result, dict):
        raise TypeError(f"the driver's do_command returned {type(result).__name__}, not a dict")
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
