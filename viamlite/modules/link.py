"""The machine's link to one module's server: the module protocol's calls, calls to the
module's resources forwarded as bytes (as remote parts' are), a connection for the
in-process proxies of its resources, and its custom APIs' descriptors, read by reflection."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc

from viamlite.names import API
from viamlite.remotes import ForwardOptions
from viamlite.rpc import Code, RpcError

log = logging.getLogger("viamlite.modules")

MODULE_SERVICE = "/viam.module.v1.ModuleService"
#: The longest the machine waits for a module protocol call (Add/Reconfigure/RemoveResource).
CALL_TIMEOUT_S = 60.0
_CACHE_LIMIT = 256


def _code(err: grpc.RpcError) -> Code:
    try:
        return Code(err.code().value[0])  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return Code.UNKNOWN


class ModuleLink:
    """A grpc channel to one run of a module (replaced when the module restarts).

    ``down`` says why calls cannot reach the module (empty while it is up); calls made then
    fail UNAVAILABLE at once with that reason.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.address = f"module {name!r}"
        self.down = "it has not started yet"
        #: service full name -> API, from the module's handler map
        self.services: dict[str, API] = {}
        self._channel: grpc.Channel | None = None
        self._rpcs: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self.connection = ProxyConnection(self)

    # -- the channel ---------------------------------------------------------------
    def attach(self, target: str) -> None:
        """Use the module's server at ``target`` (``unix:/path`` or ``host:port``)."""
        channel = grpc.insecure_channel(target, options=[
            ("grpc.max_receive_message_length", 4 * 1024 * 1024),
            ("grpc.max_send_message_length", 4 * 1024 * 1024),
            # a module's socket can appear a moment before it accepts: retry soon, not after grpc's 1 s
            ("grpc.initial_reconnect_backoff_ms", 20),
            ("grpc.min_reconnect_backoff_ms", 20),
            ("grpc.max_reconnect_backoff_ms", 500),
        ])
        with self._lock:
            old, self._channel, self._rpcs = self._channel, channel, {}
            self.address = f"module {self.name!r} at {target}"
        if old is not None:
            old.close()

    def mark_down(self, why: str) -> None:
        self.down = why

    def mark_up(self) -> None:
        self.down = ""

    def close(self) -> None:
        with self._lock:
            channel, self._channel, self._rpcs = self._channel, None, {}
        self.down = self.down or "it was stopped"
        if channel is not None:
            channel.close()

    def _rpc(self, kind: str, path: str, *, checked: bool = True) -> Any:
        if checked and self.down:
            raise RpcError(Code.UNAVAILABLE, f"module {self.name!r} is not available: {self.down}")
        key = (kind, path)
        rpc = self._rpcs.get(key)
        if rpc is None:
            with self._lock:
                if self._channel is None:
                    raise RpcError(Code.UNAVAILABLE, f"module {self.name!r} is not available: "
                                                     f"{self.down or 'it is not running'}")
                if len(self._rpcs) > _CACHE_LIMIT:
                    self._rpcs.clear()
                factory = {"uu": self._channel.unary_unary, "us": self._channel.unary_stream,
                           "ss": self._channel.stream_stream}[kind]
                rpc = self._rpcs[key] = factory(path)
        return rpc

    def _error(self, err: grpc.RpcError, what: str = "") -> RpcError:
        code = _code(err)
        details = err.details() or code.name  # type: ignore[attr-defined]
        if code == Code.UNAVAILABLE:
            why = self.down or details
            return RpcError(code, f"module {self.name!r} is not available{f' ({what})' if what else ''}: {why}")
        return RpcError(code, details)

    # -- the module protocol -------------------------------------------------------------
    def call(self, method: str, request: Any, response_class: Any, *, timeout: float = CALL_TIMEOUT_S,
             checked: bool = True, wait_for_ready: bool = False) -> Any:
        """Call ``viam.module.v1.ModuleService/<method>``; raises RpcError with the module's status."""
        rpc = self._rpc("uu", f"{MODULE_SERVICE}/{method}", checked=checked)
        try:
            data = rpc(request.SerializeToString(), timeout=timeout, wait_for_ready=wait_for_ready)
        except grpc.RpcError as err:
            raise self._error(err, method) from None
        return response_class.FromString(data)

    # -- forwarding (the remote parts' link interface) -----------------------------------
    def unary(self, path: str, request: bytes, options: ForwardOptions) -> bytes:
        future = self._rpc("uu", path).future(request, timeout=options.timeout, metadata=options.metadata)
        if options.on_done is not None:
            options.on_done(future.cancel)
        try:
            return future.result()
        except grpc.RpcError as err:
            raise self._error(err) from None
        except grpc.FutureCancelledError:
            raise RpcError(Code.CANCELLED, f"the call to module {self.name!r} was cancelled") from None

    def stream(self, path: str, requests: bytes | Iterator[bytes], options: ForwardOptions) -> Iterator[bytes]:
        kind = "us" if isinstance(requests, bytes) else "ss"
        responses = self._rpc(kind, path)(requests, timeout=options.timeout, metadata=options.metadata)
        if options.on_done is not None:
            options.on_done(responses.cancel)
        try:
            yield from responses
        except grpc.RpcError as err:
            if _code(err) == Code.CANCELLED:
                return
            raise self._error(err) from None

    # -- custom APIs ---------------------------------------------------------------------
    def import_descriptors(self, services: list[str], pool: Any) -> list[str]:
        """Read the files defining ``services`` from the module's server reflection and add
        those ``pool`` lacks; returns the services now in ``pool`` (the others are logged)."""
        from google.protobuf import descriptor_pb2

        from viamlite.client.reflection import Reflector

        with self._lock:
            channel = self._channel
        if channel is None or not services:
            return []
        reflector = Reflector(channel, timeout=5.0)
        found = []
        for service in services:
            try:
                descriptor = reflector.service(service)
            except Exception as exc:
                log.warning("module %r: cannot read the API %s by reflection (%s); its methods are forwarded "
                            "but cannot be resolved by name here", self.name, service, exc)
                continue
            order: list[Any] = []
            seen: set[str] = set()

            def visit(fd: Any) -> None:
                if fd.name in seen:
                    return
                seen.add(fd.name)
                for dep in fd.dependencies:
                    visit(dep)
                order.append(fd)

            visit(descriptor.file)
            try:
                for fd in order:
                    try:
                        pool.FindFileByName(fd.name)
                        continue  # already known (a Viam API file, or this module's from an earlier run)
                    except KeyError:
                        pass
                    proto = descriptor_pb2.FileDescriptorProto()
                    fd.CopyToProto(proto)
                    pool.Add(proto)
                pool.FindServiceByName(service)
            except Exception as exc:
                log.warning("module %r: the API %s does not fit this machine's descriptors (%s); its methods are "
                            "forwarded but cannot be resolved by name here", self.name, service, exc)
                continue
            found.append(service)
        return found


class ProxyConnection:
    """What the client's resource proxies call through (``unary``/``stream`` with messages),
    over a module's link: the in-process view of a module's resource."""

    def __init__(self, link: ModuleLink) -> None:
        self._link = link

    @property
    def address(self) -> str:
        return self._link.address

    def _failure(self, err: RpcError, where: str) -> Exception:
        from viamlite.client.status import error_for

        return error_for(Code(err.code).name if isinstance(err.code, Code) else "UNKNOWN", err.message, where)

    def unary(self, path: str, request: Any, response_class: type, *, timeout: float | None = None,
              where: str = "") -> Any:
        try:
            rpc = self._link._rpc("uu", path)
            data = rpc(request.SerializeToString(), timeout=timeout)
        except RpcError as err:
            raise self._failure(err, where or path) from None
        except grpc.RpcError as err:
            raise self._failure(self._link._error(err), where or path) from None
        return response_class.FromString(data)  # type: ignore[attr-defined]

    def stream(self, path: str, request: Any, response_class: type, *, where: str = "") -> Iterator[Any]:
        try:
            call = self._link._rpc("us", path)(request.SerializeToString())
        except RpcError as err:
            raise self._failure(err, where or path) from None
        try:
            for data in call:
                yield response_class.FromString(data)  # type: ignore[attr-defined]
        except grpc.RpcError as err:
            if _code(err) == Code.CANCELLED:
                return
            raise self._failure(self._link._error(err), where or path) from None
        finally:
            call.cancel()


def wait_for_socket(path: str, deadline: float, alive: Any) -> bool:
    """Wait until ``path`` exists (the module listens) while ``alive()``; False when not."""
    import os

    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        if not alive():
            return False
        time.sleep(0.01)
    return False


__all__ = ["ModuleLink", "ProxyConnection", "wait_for_socket"]
