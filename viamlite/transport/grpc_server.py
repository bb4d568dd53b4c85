"""The gRPC transport: a grpcio server over a table of methods, plus server reflection.

It knows method paths, message classes and status codes; what a method does is the
adapters' business. Requests are parsed here so a malformed one is answered
INVALID_ARGUMENT; a path with no method is answered UNIMPLEMENTED, naming it.
"""
from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from viamlite.errors import BindError
from viamlite.rpc import Code, Lane, Method, Router, RpcError
from viamlite.transport.workers import ElasticExecutor

REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"
REFLECTION_V1ALPHA = "grpc.reflection.v1alpha.ServerReflection"
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
#: HTTP/2 streams one connection may have open at once (more wait in the client).
MAX_STREAMS_PER_CONNECTION = 64
#: Long calls and streams one connection may have running at once (more are refused).
MAX_LONG_CALLS_PER_CONNECTION = 16


_STATUS = {code.value[0]: code for code in grpc.StatusCode}


def status_code(code: Code) -> grpc.StatusCode:
    return _STATUS[int(code)]


class _GrpcCall:
    """The adapters' view of a grpcio call (see :class:`viamlite.rpc.Call`)."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: grpc.ServicerContext) -> None:
        self._ctx = ctx

    def metadata(self) -> Sequence[tuple[str, str | bytes]]:
        return self._ctx.invocation_metadata()

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        self._ctx.add_callback(callback)

    def is_active(self) -> bool:
        return self._ctx.is_active()

    def time_remaining(self) -> float | None:
        return self._ctx.time_remaining()

    def set_trailing_metadata(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._ctx.set_trailing_metadata(tuple(pairs))


def _parse(cls: Any, data: bytes, ctx: grpc.ServicerContext, path: str) -> Any:
    try:
        return cls.FromString(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        ctx.abort(grpc.StatusCode.INVALID_ARGUMENT,
                  f"{path}: the request is not a valid {cls.DESCRIPTOR.full_name} message ({exc})")


class _PerConnection:
    """Counts the long calls each connection (peer address and port) has running."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    def enter(self, ctx: grpc.ServicerContext, path: str) -> str:
        peer = ctx.peer()
        with self._lock:
            count = self._running.get(peer, 0)
            if count >= self.limit:
                refused = True
            else:
                refused = False
                self._running[peer] = count + 1
        if refused:
            ctx.abort(grpc.StatusCode.RESOURCE_EXHAUSTED,
                      f"{path}: this connection already has {self.limit} long calls and streams running, the most "
                      f"one connection may have; end some of them, or open another connection")
        return peer

    def leave(self, peer: str) -> None:
        with self._lock:
            count = self._running.get(peer, 1) - 1
            if count:
                self._running[peer] = count
            else:
                self._running.pop(peer, None)


def _unary(method: Method, limit: _PerConnection | None) -> grpc.RpcMethodHandler:
    handler, cls, path = method.handler, method.request_class, method.path

    def behavior(data: bytes, ctx: grpc.ServicerContext) -> bytes:
        request = _parse(cls, data, ctx, path)
        peer = limit.enter(ctx, path) if limit is not None else None
        try:
            return handler(request, _GrpcCall(ctx)).SerializeToString()
        except RpcError as err:
            ctx.abort(status_code(err.code), err.message)
        finally:
            if peer is not None:
                limit.leave(peer)  # type: ignore[union-attr]

    return grpc.unary_unary_rpc_method_handler(behavior)


def _server_stream(method: Method, limit: _PerConnection) -> grpc.RpcMethodHandler:
    handler, cls, path = method.handler, method.request_class, method.path

    def behavior(data: bytes, ctx: grpc.ServicerContext) -> Iterable[bytes]:
        request = _parse(cls, data, ctx, path)
        peer = limit.enter(ctx, path)
        try:
            for response in handler(request, _GrpcCall(ctx)):
                yield response.SerializeToString()
        except RpcError as err:
            ctx.abort(status_code(err.code), err.message)
        finally:
            limit.leave(peer)

    return grpc.unary_stream_rpc_method_handler(behavior)


def _bidi(method: Method, limit: _PerConnection) -> grpc.RpcMethodHandler:
    handler, cls, path = method.handler, method.request_class, method.path

    def behavior(requests: Any, ctx: grpc.ServicerContext) -> Iterable[bytes]:
        peer = limit.enter(ctx, path)
        try:
            parsed = (_parse(cls, data, ctx, path) for data in requests)
            for response in handler(parsed, _GrpcCall(ctx)):
                yield response.SerializeToString()
        except RpcError as err:
            ctx.abort(status_code(err.code), err.message)
        finally:
            limit.leave(peer)

    return grpc.stream_stream_rpc_method_handler(behavior)


def _client_stream(method: Method, limit: _PerConnection) -> grpc.RpcMethodHandler:
    """A client-streaming method: the handler gets an iterator of parsed requests."""
    handler, cls, path = method.handler, method.request_class, method.path

    def parse(requests: Iterable[bytes]) -> Iterator[Any]:
        # A malformed message is an RpcError the handler sees (a handler that maps its
        # failures to statuses keeps INVALID_ARGUMENT), not an abort from inside it.
        for data in requests:
            try:
                yield cls.FromString(data)
            except (DecodeError, ValueError, RuntimeError) as exc:
                raise RpcError(Code.INVALID_ARGUMENT,
                               f"{path}: a request is not a valid {cls.DESCRIPTOR.full_name} message ({exc})") from None

    def behavior(requests: Iterable[bytes], ctx: grpc.ServicerContext) -> bytes:
        peer = limit.enter(ctx, path)
        try:
            return handler(parse(requests), _GrpcCall(ctx)).SerializeToString()
        except RpcError as err:
            ctx.abort(status_code(err.code), err.message)
        finally:
            limit.leave(peer)

    return grpc.stream_unary_rpc_method_handler(behavior)


def _unimplemented(path: str) -> grpc.RpcMethodHandler:
    def behavior(requests: Any, ctx: grpc.ServicerContext) -> Iterable[bytes]:
        ctx.abort(grpc.StatusCode.UNIMPLEMENTED, f"{path} is not implemented by this viamlite machine")
        yield b""  # pragma: no cover - abort raises

    return grpc.stream_stream_rpc_method_handler(behavior)


def _routed(path: str, router: Router, limit: "_PerConnection") -> grpc.RpcMethodHandler:
    """Any call the table has no method for: the router may relay it (as bytes) elsewhere."""
    def behavior(requests: Any, ctx: grpc.ServicerContext) -> Iterable[bytes]:
        call = _GrpcCall(ctx)
        first = next(requests, None)
        peer = limit.enter(ctx, path)
        try:
            relay = router(path, first, call) if first is not None else None
            if relay is None:
                ctx.abort(grpc.StatusCode.UNIMPLEMENTED, f"{path} is not implemented by this viamlite machine")
            yield from relay(itertools.chain((first,), requests))
        except RpcError as err:
            ctx.abort(status_code(err.code), err.message)
        finally:
            limit.leave(peer)

    return grpc.stream_stream_rpc_method_handler(behavior)


def _refused(err: RpcError) -> grpc.RpcMethodHandler:
    def behavior(requests: Any, ctx: grpc.ServicerContext) -> Iterable[bytes]:
        ctx.abort(status_code(err.code), err.message)
        yield b""  # pragma: no cover - abort raises

    return grpc.stream_stream_rpc_method_handler(behavior)


#: ``gate(path, metadata)`` raises :class:`RpcError` to refuse a call before it runs.
Gate = Callable[[str, Sequence[tuple[str, Any]]], None]


class _Table(grpc.GenericRpcHandler):
    def __init__(self, handlers: dict[str, grpc.RpcMethodHandler], gate: Gate | None = None,
                 router: Router | None = None, pool: futures.ThreadPoolExecutor | None = None,
                 limit: "_PerConnection | None" = None) -> None:
        self.handlers = handlers
        self.gate = gate
        self.router = router
        self.pool = pool
        self.limit = limit or _PerConnection(MAX_LONG_CALLS_PER_CONNECTION)

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        if self.gate is not None:
            try:
                self.gate(details.method, details.invocation_metadata)
            except RpcError as err:
                return _refused(err)
        handler = self.handlers.get(details.method)
        if handler is not None:
            return handler
        if self.router is None:
            return _unimplemented(details.method)
        handler = _routed(details.method, self.router, self.limit)
        return _on_pool(handler, self.pool) if self.pool is not None else handler


def _reflection_handlers(service_names: Sequence[str], pool: Any,
                         more: Callable[[], Iterable[str]] | None = None) -> dict[str, grpc.RpcMethodHandler]:
    """Reflection v1alpha (grpcio-reflection) and v1 (the same servicer: the messages are
    identical on the wire, so v1 requests parse as v1alpha ones). ``more()`` names services
    served through the router that come and go (modules' own APIs), listed too."""
    from grpc_reflection.v1alpha import reflection, reflection_pb2

    from viamlite.gen import add_file_of

    try:
        pool.FindFileByName(reflection_pb2.DESCRIPTOR.name)
    except KeyError:
        add_file_of(reflection_pb2)
    names = [*service_names, REFLECTION_V1, REFLECTION_V1ALPHA]

    class Servicer(reflection.ReflectionServicer):  # type: ignore[misc]
        def _list_services(self, request: Any) -> Any:
            if more is not None:
                self._service_names = tuple(sorted({*names, *more()}))
            return super()._list_services(request)

    servicer = Servicer(names, pool=pool)

    def behavior(requests: Any, ctx: grpc.ServicerContext) -> Any:
        return servicer.ServerReflectionInfo(requests, ctx)

    handler = grpc.stream_stream_rpc_method_handler(
        behavior,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    return {f"/{name}/ServerReflectionInfo": handler for name in (REFLECTION_V1, REFLECTION_V1ALPHA)}


def _on_pool(handler: grpc.RpcMethodHandler, pool: futures.ThreadPoolExecutor) -> grpc.RpcMethodHandler:
    """Run ``handler``'s behavior on ``pool`` instead of the server's default pool."""
    behavior = handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
    behavior.experimental_thread_pool = pool  # type: ignore[union-attr]
    return handler


class GrpcServer:
    """A grpcio server serving ``methods`` with reflection over ``pool``.

    Each :class:`~viamlite.rpc.Lane` has its own workers: quick resource calls run on an
    :class:`ElasticExecutor` of ``quick_workers`` threads (few threads contend less for the
    GIL); long calls and streams on a pool of up to ``long_workers`` threads, so they never
    hold up quick ones; machine control (StopAll, ResourceNames, ...) on a pool of its own,
    so it answers however busy the others are.

    ``gate``, when given, sees every call's path and metadata first and may refuse it
    (authentication). ``router`` is asked about paths no method serves (see
    :data:`viamlite.rpc.Router`); what it relays runs with the long calls. ``reflected()``
    names more services that reflection lists (ones the router relays).
    """

    def __init__(self, methods: Iterable[Method], *, pool: Any, quick_workers: int = 4,
                 long_workers: int = 64, control_workers: int = 2, gate: Gate | None = None,
                 router: Router | None = None, reflected: Callable[[], Iterable[str]] | None = None) -> None:
        self.quick_pool = ElasticExecutor(quick_workers, 32, name="viamlite-grpc")
        self._lanes = {
            Lane.LONG: futures.ThreadPoolExecutor(long_workers, thread_name_prefix="viamlite-grpc-long"),
            Lane.CONTROL: futures.ThreadPoolExecutor(control_workers, thread_name_prefix="viamlite-grpc-control"),
        }
        self.long_calls = _PerConnection(MAX_LONG_CALLS_PER_CONNECTION)
        handlers: dict[str, grpc.RpcMethodHandler] = {}
        for m in methods:
            lane = Lane.LONG if m.server_streaming or m.client_streaming else m.lane
            if m.client_streaming and m.server_streaming:
                handlers[m.path] = _bidi(m, self.long_calls)
            elif m.client_streaming:
                handlers[m.path] = _client_stream(m, self.long_calls)
            elif m.server_streaming:
                handlers[m.path] = _server_stream(m, self.long_calls)
            else:
                handlers[m.path] = _unary(m, self.long_calls if lane == Lane.LONG else None)
            if lane in self._lanes:
                _on_pool(handlers[m.path], self._lanes[lane])
        services = sorted({path.split("/")[1] for path in handlers})
        for path, handler in _reflection_handlers(services, pool, reflected).items():
            handlers[path] = _on_pool(handler, self._lanes[Lane.LONG])
        self.paths = sorted(handlers)
        self._server = grpc.server(
            self.quick_pool,  # type: ignore[arg-type]  # grpc needs only submit()
            handlers=[_Table(handlers, gate, router, self._lanes[Lane.LONG], self.long_calls)],
            options=[
                ("grpc.so_reuseport", 0),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_concurrent_streams", MAX_STREAMS_PER_CONNECTION),
            ],
        )

    def add_port(self, address: str, credentials: grpc.ServerCredentials | None = None) -> int:
        """Bind ``host:port`` (port 0 picks a free one); returns the bound port."""
        try:
            if credentials is None:
                port = self._server.add_insecure_port(address)
            else:
                port = self._server.add_secure_port(address, credentials)
        except RuntimeError as exc:
            raise BindError(f"cannot listen on {address}: the port is in use or the host is not "
                            f"an address of this machine ({exc})") from None
        if port == 0:
            raise BindError(f"cannot listen on {address}: the port is in use or the host is not an address of this machine")
        return port

    def start(self) -> None:
        self._server.start()

    def serve(self, bind: str, tls: tuple[bytes, bytes] | None = None) -> int:
        """Listen on ``bind`` (TLS when ``tls``, a (certificate chain PEM, private key PEM)
        pair, is given) and start; returns the bound port."""
        credentials = grpc.ssl_server_credentials([(tls[1], tls[0])]) if tls is not None else None
        port = self.add_port(bind, credentials)
        self.start()
        return port

    def stop(self, grace: float | None = 1.0) -> None:
        self._server.stop(grace).wait()
        for executor in (*self._lanes.values(), self.quick_pool):
            executor.shutdown(wait=False, cancel_futures=True)

    def wait(self, timeout: float | None = None) -> bool:
        return self._server.wait_for_termination(timeout)
