"""The synchronous fast-path client, for control loops, scripts and the REPL.

    with FastPathClient.connect("127.0.0.1:8081") as fp:      # or "unix:/path/to.sock"
        servo = Servo.from_robot(fp, "servo1")                  # the Servo interface
        servo.move(90)
        h = fp.resolve("servo1")
        fp.call(h, "move", 45)
        for sample in fp.subscribe(h, "get_position", rate_hz=1000):
            ...
        with fp.setpoints(h, "move", timeout=0.1) as stream:
            stream.send(30)

Three layers: this module is the API; :mod:`viamlite.fastpath.syncio`'s
:class:`~viamlite.fastpath.syncio.BlockingSession` does the socket I/O and the waiting
(leader/follower: no background thread unless a subscription has a callback); the protocol
(ids, packing, decoding, routing samples and events, GOODBYE, the connection state) is
:class:`~viamlite.fastpath.clientprotocol.ClientProtocol`'s, shared with the asyncio and
serial clients.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from viamlite.fastpath import schema as S
from viamlite.fastpath.clientprotocol import hello_options, hello_refused, result_of
from viamlite.fastpath.errors import ConnectionClosedError, FastPathError
from viamlite.fastpath.proxy import Event, Handle, Sample, method_spec, proxy_class
from viamlite.fastpath.streams import SetpointStream, Subscription
from viamlite.fastpath.syncio import RECV_BYTES, BlockingSession, open_socket

_BY_ID = S.BY_ID


class FastPathClient(BlockingSession):
    """A fast-path session. Thread-safe; :meth:`connect` opens one."""

    @classmethod
    def connect(cls, address: str, *, token: str | None = None, key_id: str | None = None, key: str | None = None,
                timeout: float = 10.0, session_timeout: float | None = None,
                client_name: str = "viamlite client") -> "FastPathClient":
        """Connect and shake hands. ``token`` or ``key_id`` + ``key`` are needed off loopback."""
        client = cls(open_socket(address, timeout), timeout=timeout)
        client.hello(token=token, key_id=key_id, key=key, session_timeout=session_timeout, client_name=client_name)
        return client

    def hello(self, *, token: str | None = None, key_id: str | None = None, key: str | None = None,
              session_timeout: float | None = None, client_name: str = "viamlite client") -> dict[str, Any]:
        """The handshake; returns the server's info (version, server, session, caps, ...)."""
        try:
            self.info = self._request(self.protocol.hello_request(token, key_id, key, session_timeout, client_name))
        except ConnectionClosedError as exc:
            raise hello_refused(exc) from None
        return self.info

    # -- requests ---------------------------------------------------------------------
    def resolve(self, name: str, api: str | None = None) -> Handle:
        """The handle of resource ``name`` (``api``: ``"servo"`` or ``"rdk:component:servo"``)."""
        key = (api or "", name)
        handle = self._handles.get(key)
        if handle is None:
            number, full_api, methods = self._request([S.RESOLVE, None, name, api])
            handle = self._handles[key] = Handle(number, full_api, name, tuple(methods))
        return handle

    def call(self, handle: Handle | str, method: int | str, *args: Any, timeout: float | None = None) -> Any:
        """Call ``method`` (id or name) on the resource; returns the result or raises its error."""
        if type(handle) is not Handle:
            if isinstance(handle, str):
                handle = self.resolve(handle)
        if type(method) is int:
            spec = _BY_ID.get(method)
        else:
            spec = self._specs.get((handle.api, method))
        if spec is None:
            spec = method_spec(handle.subtype, method)
            if type(method) is str:
                self._specs[(handle.api, method)] = spec
        # a tuple goes on the wire as an array, as a list does
        return self._request([S.CALL, None, handle.number, spec.id, args], timeout)

    def pipeline(self, handle: Handle, method: int | str, calls: Sequence[Sequence[Any]],
                 timeout: float | None = None, window: int = 256) -> list[Any]:
        """Run many calls with up to two windows of ``window`` calls in flight; results in order
        (an error raises once all replies are in)."""
        spec = method_spec(handle.subtype, method)
        count = len(calls)
        number, mid = handle.number, spec.id
        replies = self._replies
        limit = timeout or self.timeout
        wanted: list[int] = []
        previous_last = None
        for start in range(0, count, window):
            messages = [[S.CALL, None, number, mid, list(calls[i])] for i in range(start, min(count, start + window))]
            self._send_many(messages)
            wanted += [m[1] for m in messages]
            if previous_last is not None and previous_last not in replies:  # keep one window ahead
                self._pump(lambda last=previous_last: last in replies, limit)
            previous_last = wanted[-1]
        if count:
            self._pump(lambda: previous_last in replies and all(i in replies for i in wanted), limit)
        with self._cond:
            msgs = [replies.pop(i) for i in wanted]
        return [result_of(m) for m in msgs]

    def ping(self) -> float:
        """One PING round trip, in seconds."""
        t0 = time.perf_counter()
        self._request([S.PING, None])
        return time.perf_counter() - t0

    def subscribe(self, handle: Handle | str, method: int | str, *args: Any, rate_hz: float,
                  callback: Callable[[Sample], None] | None = None, maxlen: int = 100_000) -> Subscription:
        """Sample ``method`` at ``rate_hz``: iterate the result, or have ``callback`` called per sample
        (on a background thread)."""
        if isinstance(handle, str):
            handle = self.resolve(handle)
        spec = method_spec(handle.subtype, method)
        sub = Subscription(self, 0, rate_hz, callback, maxlen)
        self._open_channel([S.SUBSCRIBE, None, handle.number, spec.id, list(args), rate_hz], sub)
        if callback is not None:
            self._ensure_background()
        return sub

    def setpoints(self, handle: Handle | str, method: int | str, *, timeout: float = 0.1) -> SetpointStream:
        """Open a setpoint stream; no setpoint for ``timeout`` s makes the server stop the resource."""
        if isinstance(handle, str):
            handle = self.resolve(handle)
        spec = method_spec(handle.subtype, method)
        stream = SetpointStream(self, 0, spec, timeout)
        self._open_channel([S.OPEN_STREAM, None, handle.number, spec.id, round(timeout * 1000)], stream)
        return stream

    # -- resources -----------------------------------------------------------------------
    def resource(self, api: Any, name: str) -> Any:
        """The resource ``name`` as its component interface (``Servo.from_robot(client, name)``)."""
        from viamlite.components import interface_for

        interface = interface_for(api)
        if interface is None:
            raise FastPathError(f"the fast path has no client interface for API {api}")
        handle = self.resolve(name, str(api))

        def call(spec: S.MethodSpec, args: list) -> Any:
            return self._request([S.CALL, None, handle.number, spec.id, args])

        return proxy_class(interface)(name, handle, call)

    def __enter__(self) -> "FastPathClient":
        return self


__all__ = ["FastPathClient", "Subscription", "SetpointStream", "Handle", "Sample", "Event", "open_socket",
           "hello_options", "RECV_BYTES"]
