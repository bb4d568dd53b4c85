"""The asyncio twin of :class:`~viamlite.fastpath.client.FastPathClient`.

    fp = await AsyncFastPathClient.connect("127.0.0.1:8081")
    servo = fp.resource(Servo.API, "servo1")       # methods are coroutines
    await servo.move(90)
    async for sample in await fp.subscribe("servo1", "get_position", rate_hz=100):
        ...
    stream = await fp.setpoints("servo1", "move", timeout=0.1)
    await stream.send(45)
    await fp.close()

The protocol (ids, packing, decoding, routing samples and events, GOODBYE, the connection
state) is :class:`~viamlite.fastpath.clientprotocol.ClientProtocol`'s, as for the sync
client; one reader task feeds it what the socket gives and hands each reply to the future
waiting for it.

A call's round trip costs as few turns of the event loop as asyncio allows: the reply
resolves the caller's own future (no ``asyncio.wait_for`` wrapper, whose extra future
costs a turn; a timer handle bounds the wait), the loop is looked up once (on Python 3.11
every ``get_running_loop()`` is a ``getpid`` system call), a write the socket took whole
skips ``drain``, and the protocol keeps one msgpack packer.
"""
from __future__ import annotations

import asyncio
from typing import Any

from viamlite.address import split_host_port
from viamlite.fastpath import schema as S
from viamlite.fastpath.clientprotocol import ClientChannel, ClientProtocol, ProtocolView, SampledChannel, hello_refused
from viamlite.fastpath.errors import ConnectionClosedError, FastPathError, error_for
from viamlite.fastpath.proxy import Event, Handle, Sample, decoder, method_spec

_BY_ID = S.BY_ID
_RESULT = S.RESULT


def _expire(future: "asyncio.Future[list]", timeout: float) -> None:
    if not future.done():
        future.set_exception(TimeoutError(f"no reply from the fast-path server within {timeout:g} s"))


class AsyncSubscription(SampledChannel):
    """``async for sample in sub``; ``missed`` counts sequence numbers that never arrived.

    At most ``maxlen`` samples wait for a slow consumer; older ones are dropped (and
    counted in ``dropped``), as the sync client's bounded queue does.
    """

    def __init__(self, client: "AsyncFastPathClient", rate_hz: float, maxlen: int = 100_000) -> None:
        super().__init__()
        self.client, self.rate_hz = client, rate_hz
        self.queue: asyncio.Queue[Sample | None] = asyncio.Queue()
        self.maxlen = maxlen
        self.dropped = 0

    def _deliver(self, sample: Sample) -> None:
        if self.queue.qsize() >= self.maxlen:
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(sample)

    def _on_close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)

    def __aiter__(self) -> "AsyncSubscription":
        return self

    async def __anext__(self) -> Sample:
        if self.closed and self.queue.empty():
            raise StopAsyncIteration
        sample = await self.queue.get()
        if sample is None:
            raise StopAsyncIteration
        return sample

    async def close(self) -> None:
        if not self.closed:
            self._on_close()
            self.client.protocol.forget(self)
            if not self.client.closed:
                await self.client._request([S.UNSUBSCRIBE, None, self.channel])


class AsyncSetpointStream(ClientChannel):
    """``await stream.send(*args)``; the server's deadman stops the resource when setpoints stop."""

    def __init__(self, client: "AsyncFastPathClient", channel: int, timeout: float) -> None:
        super().__init__()
        self.client, self.channel, self.timeout = client, channel, timeout
        self.seq = 0
        self._event = asyncio.Event()

    def _on_event(self, event: Event) -> None:
        self.events.append(event)
        self._event.set()

    async def send(self, *args: Any) -> int:
        if self.client.closed:
            raise self.client.protocol.closed_error()
        await self.client._write(self.client.protocol.setpoint(self, args))
        return self.seq

    async def wait_event(self, timeout: float) -> Event:
        """The next event on this stream (a deadman stop, a failed setpoint)."""
        count = len(self.events)
        while len(self.events) <= count:
            self._event.clear()
            await asyncio.wait_for(self._event.wait(), timeout)
        return self.events[count]

    async def close(self) -> None:
        self.client.protocol.forget(self)
        if not self.client.closed:
            await self.client._request([S.CLOSE_STREAM, None, self.channel])


class AsyncFastPathClient(ProtocolView):
    """A fast-path session on asyncio streams; the protocol is a
    :class:`~viamlite.fastpath.clientprotocol.ClientProtocol`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, timeout: float = 10.0) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self.protocol = proto = ClientProtocol()
        proto.connection_made()
        self._encode = proto.send  # one event loop thread packs
        self._waiting: dict[int, asyncio.Future[list]] = {}
        self._handles: dict[tuple[str, str], Handle] = {}
        self.events: list[Event] = proto.events
        self._loop = asyncio.get_running_loop()
        self._transport = writer.transport
        if isinstance(getattr(self._transport, "max_size", None), int):
            # asyncio's socket transport asks 256 KiB of every recv: above glibc's mmap
            # threshold, that is an mmap, mremap and munmap per read (measured: 3 system calls
            # and ~20 us a round trip); 64 KiB comes from the heap
            self._transport.max_size = 65536  # type: ignore[attr-defined]
        self._task = self._loop.create_task(self._read())

    @classmethod
    async def connect(cls, address: str, *, token: str | None = None, key_id: str | None = None,
                      key: str | None = None, timeout: float = 10.0, session_timeout: float | None = None,
                      client_name: str = "viamlite async client") -> "AsyncFastPathClient":
        try:
            if address.startswith("unix:") or address.startswith("/"):
                path = address[5:] if address.startswith("unix:") else address
                reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(path), timeout)
            else:
                host, port = split_host_port(address)
                reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ConnectionClosedError(f"cannot connect to the fast path at {address}: {exc}") from None
        client = cls(reader, writer, timeout=timeout)
        try:
            client.info = await client._request(client.protocol.hello_request(
                token, key_id, key, session_timeout, client_name))
        except ConnectionClosedError as exc:
            await client.close()
            raise hello_refused(exc) from None
        except BaseException:  # no HELLO reply in time, or cancelled: leave no reader task behind
            await client.close()
            raise
        return client

    # -- requests ---------------------------------------------------------------------
    async def resolve(self, name: str, api: str | None = None) -> Handle:
        key = (api or "", name)
        if key not in self._handles:
            number, full_api, methods = await self._request([S.RESOLVE, None, name, api])
            self._handles[key] = Handle(number, full_api, name, tuple(methods))
        return self._handles[key]

    async def call(self, handle: Handle | str, method: int | str, *args: Any) -> Any:
        if type(handle) is not Handle and isinstance(handle, str):
            handle = await self.resolve(handle)
        spec = _BY_ID.get(method) if type(method) is int else None
        if spec is None:
            spec = method_spec(handle.subtype, method)
        # a tuple goes on the wire as an array, as a list does
        return await self._request([S.CALL, None, handle.number, spec.id, args])

    async def ping(self) -> float:
        loop = self._loop
        t0 = loop.time()
        await self._request([S.PING, None])
        return loop.time() - t0

    async def subscribe(self, handle: Handle | str, method: int | str, *args: Any, rate_hz: float) -> AsyncSubscription:
        if isinstance(handle, str):
            handle = await self.resolve(handle)
        spec = method_spec(handle.subtype, method)
        sub = AsyncSubscription(self, rate_hz)
        await self._open_channel([S.SUBSCRIBE, None, handle.number, spec.id, list(args), rate_hz], sub)
        return sub

    async def setpoints(self, handle: Handle | str, method: int | str, *, timeout: float = 0.1) -> AsyncSetpointStream:
        if isinstance(handle, str):
            handle = await self.resolve(handle)
        spec = method_spec(handle.subtype, method)
        stream = AsyncSetpointStream(self, 0, timeout)
        await self._open_channel([S.OPEN_STREAM, None, handle.number, spec.id, round(timeout * 1000)], stream)
        return stream

    def resource(self, api: Any, name: str) -> "AsyncResource":
        """Resource ``name``: an object whose table methods are coroutines (``await servo.move(90)``)."""
        return AsyncResource(self, api, name)

    # -- plumbing -------------------------------------------------------------------------
    async def _write(self, data: bytes) -> None:
        if self.protocol.closed:
            raise self.protocol.closed_error()
        self.writer.write(data)
        if self._transport.get_write_buffer_size():  # the socket did not take it all: wait for room
            await self.writer.drain()

    async def _send(self, payload: bytes) -> None:
        """Frame and send one packed message."""
        await self._write(self.protocol.frame(payload))

    async def _request(self, message: list, channel: ClientChannel | None = None) -> Any:
        if self.protocol.closed:
            raise self.protocol.closed_error()
        data = self._encode(message, channel)
        rid = message[1]
        future: asyncio.Future[list] = self._loop.create_future()
        waiting = self._waiting
        waiting[rid] = future
        timer = self._loop.call_later(self.timeout, _expire, future, self.timeout)
        try:
            await self._write(data)
            reply = await future
        finally:
            timer.cancel()
            waiting.pop(rid, None)
        if reply[0] == _RESULT:
            return reply[2]
        raise error_for(reply[2], reply[3])

    async def _open_channel(self, message: list, channel: ClientChannel) -> None:
        """SUBSCRIBE or OPEN_STREAM for ``channel``, registered before the request leaves."""
        try:
            await self._request(message, channel)
        finally:
            if message[1] is not None:
                self.protocol.abandon(message[1])

    async def _read(self) -> None:
        read, receive, waiting, proto = self.reader.read, self.protocol.receive, self._waiting, self.protocol
        reason = "the server closed the connection"
        try:
            while not proto.closed:
                for reply in receive(await read(65536)):
                    future = waiting.get(reply[1])
                    if future is not None and not future.done():
                        future.set_result(reply)
        except (OSError, asyncio.IncompleteReadError) as exc:
            reason = f"connection error: {exc}"
        except asyncio.CancelledError:
            reason = "closed by the client"
        self._mark_closed(reason)

    def _mark_closed(self, reason: str) -> None:
        """The protocol is (now) closed: fail every request still waiting."""
        self.protocol.connection_lost(reason)
        error = self.protocol.closed_error()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)

    async def close(self) -> None:
        """Say goodbye and close (the server stops what this session moved)."""
        proto = self.protocol
        if not proto.closed:
            try:
                self.writer.write(proto.goodbye())
                await self.writer.drain()
            except OSError:
                pass
        proto.close("closed by the client")
        self._mark_closed("closed by the client")
        self._task.cancel()
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except OSError:
            pass

    async def __aenter__(self) -> "AsyncFastPathClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncResource:
    """A resource whose fast-path methods are coroutines, named as in its component interface."""

    def __init__(self, client: AsyncFastPathClient, api: Any, name: str) -> None:
        self._client, self._api, self.name = client, str(api), name
        self._subtype = self._api.rpartition(":")[2]

    def __getattr__(self, method: str) -> Any:
        try:
            spec = S.by_name(self._subtype, method)
        except KeyError as exc:
            raise AttributeError(str(exc)) from None
        decode = decoder(spec.result)

        async def call(*args: Any) -> Any:
            handle = await self._client.resolve(self.name, self._api)
            value = await self._client._request([S.CALL, None, handle.number, spec.id, list(args)])
            return decode(value) if decode is not None else value

        call.__name__ = method
        return call

    def __repr__(self) -> str:
        return f"<async {self._subtype} {self.name!r} over the fast path>"


__all__ = ["AsyncFastPathClient", "AsyncSubscription", "AsyncSetpointStream", "AsyncResource", "FastPathError"]
