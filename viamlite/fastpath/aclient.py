"""The asyncio twin of :class:`~viamlite.fastpath.client.FastPathClient`.

    fp = await AsyncFastPathClient.connect("127.0.0.1:8081")
    servo = fp.resource(Servo.API, "servo1")       # methods are coroutines
    await servo.move(90)
    async for sample in await fp.subscribe("servo1", "get_position", rate_hz=100):
        ...
    stream = await fp.setpoints("servo1", "move", timeout=0.1)
    await stream.send(45)
    await fp.close()

One reader task hands replies to the futures waiting for them and samples to their
subscriptions' queues.

A call's round trip costs as few turns of the event loop as asyncio allows: the reply
resolves the caller's own future (no ``asyncio.wait_for`` wrapper, whose extra future
costs a turn; a timer handle bounds the wait), the loop is looked up once (on Python 3.11
every ``get_running_loop()`` is a ``getpid`` system call), a write the socket took whole
skips ``drain``, and the client keeps one msgpack packer.
"""
from __future__ import annotations

import asyncio
import itertools
import struct
from typing import Any

import msgpack

from viamlite.address import split_host_port
from viamlite.fastpath import schema as S
from viamlite.fastpath.client import hello_options
from viamlite.fastpath.dispatch import to_wire
from viamlite.fastpath.errors import (
    AuthError,
    ConnectionClosedError,
    FastPathError,
    ProtocolError,
    error_for,
)
from viamlite.fastpath.framing import StreamDecoder, encode_stream
from viamlite.fastpath.proxy import Event, Handle, Sample, decoder, method_spec

_unpackb = msgpack.unpackb
_unpack_len = struct.Struct(">I").unpack_from
_BY_ID = S.BY_ID
_RESULT = S.RESULT


def _expire(future: "asyncio.Future[list]", timeout: float) -> None:
    if not future.done():
        future.set_exception(TimeoutError(f"no reply from the fast-path server within {timeout:g} s"))


class AsyncSubscription:
    """``async for sample in sub``; ``missed`` counts sequence numbers that never arrived.

    At most ``maxlen`` samples wait for a slow consumer; older ones are dropped (and
    counted in ``dropped``), as the sync client's bounded queue does.
    """

    def __init__(self, client: "AsyncFastPathClient", rate_hz: float, maxlen: int = 100_000) -> None:
        self.client, self.rate_hz = client, rate_hz
        self.channel = 0
        self.queue: asyncio.Queue[Sample | None] = asyncio.Queue()
        self.maxlen = maxlen
        self.dropped = 0
        self.events: list[Event] = []
        self.received = self.missed = 0
        self.last_seq = -1
        self.closed = False

    def _push(self, sample: Sample) -> None:
        if self.last_seq >= 0 and sample.seq > self.last_seq + 1:
            self.missed += sample.seq - self.last_seq - 1
        self.last_seq = sample.seq
        self.received += 1
        if self.queue.qsize() >= self.maxlen:
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(sample)

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
            self.closed = True
            self.queue.put_nowait(None)
            self.client._channels.pop(self.channel, None)
            if not self.client.closed:
                await self.client._request([S.UNSUBSCRIBE, None, self.channel])


class AsyncSetpointStream:
    """``await stream.send(*args)``; the server's deadman stops the resource when setpoints stop."""

    def __init__(self, client: "AsyncFastPathClient", channel: int, timeout: float) -> None:
        self.client, self.channel, self.timeout = client, channel, timeout
        self.seq = 0
        self.events: list[Event] = []
        self._event = asyncio.Event()

    async def send(self, *args: Any) -> int:
        self.seq += 1
        await self.client._send(self.client._pack([S.SETPOINT, self.channel, self.seq, args]))
        return self.seq

    async def wait_event(self, timeout: float) -> Event:
        """The next event on this stream (a deadman stop, a failed setpoint)."""
        count = len(self.events)
        while len(self.events) <= count:
            self._event.clear()
            await asyncio.wait_for(self._event.wait(), timeout)
        return self.events[count]

    async def close(self) -> None:
        self.client._channels.pop(self.channel, None)
        if not self.client.closed:
            await self.client._request([S.CLOSE_STREAM, None, self.channel])


class AsyncFastPathClient:
    """A fast-path session on asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, timeout: float = 10.0) -> None:
        self.reader, self.writer, self.timeout = reader, writer, timeout
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[list]] = {}
        self._pending_subs: dict[int, AsyncSubscription] = {}
        self._channels: dict[int, Any] = {}
        self._handles: dict[tuple[str, str], Handle] = {}
        self._closed = False
        self._close_code = S.Err.UNAVAILABLE
        self.close_reason = ""
        self.events: list[Event] = []
        self.info: dict[str, Any] = {}
        self._pack = msgpack.Packer(default=to_wire).pack  # one event loop thread packs
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
            client.info = await client._request([S.HELLO, None, S.VERSION, hello_options(
                token, key_id, key, session_timeout, client_name)])
        except ConnectionClosedError as exc:
            await client.close()
            if exc.code in (S.Err.UNAUTHENTICATED, S.Err.PERMISSION_DENIED):
                raise AuthError(str(exc), exc.code) from None
            raise
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
        rid = next(self._ids)
        self._pending_subs[rid] = sub
        try:
            await self._request([S.SUBSCRIBE, rid, handle.number, spec.id, list(args), rate_hz])
        finally:
            self._pending_subs.pop(rid, None)
        return sub

    async def setpoints(self, handle: Handle | str, method: int | str, *, timeout: float = 0.1) -> AsyncSetpointStream:
        if isinstance(handle, str):
            handle = await self.resolve(handle)
        spec = method_spec(handle.subtype, method)
        channel = await self._request([S.OPEN_STREAM, None, handle.number, spec.id, round(timeout * 1000)])
        stream = self._channels[channel] = AsyncSetpointStream(self, channel, timeout)
        return stream

    def resource(self, api: Any, name: str) -> "AsyncResource":
        """Resource ``name``: an object whose table methods are coroutines (``await servo.move(90)``)."""
        return AsyncResource(self, api, name)

    # -- plumbing -------------------------------------------------------------------------
    async def _send(self, payload: bytes) -> None:
        if self._closed:
            raise ConnectionClosedError(f"the fast-path connection is closed: {self.close_reason}", self._close_code)
        self.writer.write(encode_stream(payload))
        if self._transport.get_write_buffer_size():  # the socket did not take it all: wait for room
            await self.writer.drain()

    async def _request(self, message: list) -> Any:
        rid = message[1]
        if rid is None:
            rid = message[1] = next(self._ids)
        future: asyncio.Future[list] = self._loop.create_future()
        waiting = self._waiting
        waiting[rid] = future
        timer = self._loop.call_later(self.timeout, _expire, future, self.timeout)
        try:
            await self._send(self._pack(message))
            reply = await future
        finally:
            timer.cancel()
            waiting.pop(rid, None)
        if reply[0] == _RESULT:
            return reply[2]
        raise error_for(reply[2], reply[3])

    async def _read(self) -> None:
        decoder_ = StreamDecoder()
        limit = decoder_.max_frame
        read, dispatch = self.reader.read, self._dispatch
        reason = "the server closed the connection"
        try:
            while True:
                data = await read(65536)
                if not data:
                    break
                if len(data) > 4 and _unpack_len(data)[0] == len(data) - 4 <= limit and not decoder_.pending:
                    if dispatch(_unpackb(data[4:])):  # the read is one whole frame
                        return
                    continue
                for payload in decoder_.feed(data):
                    if dispatch(_unpackb(payload)):
                        return
        except ProtocolError as exc:
            reason = f"bad frame from the server: {exc}"
        except (OSError, asyncio.IncompleteReadError) as exc:
            reason = f"connection error: {exc}"
        except asyncio.CancelledError:
            reason = "closed by the client"
        self._mark_closed(reason)

    def _dispatch(self, msg: list) -> bool:
        kind = msg[0]
        if kind == S.RESULT or kind == S.ERROR:
            sub = self._pending_subs.pop(msg[1], None)
            if sub is not None and kind == S.RESULT:
                sub.channel = msg[2]
                self._channels[msg[2]] = sub
            future = self._waiting.get(msg[1])
            if future is not None and not future.done():
                future.set_result(msg)
        elif kind == S.SAMPLE:
            sub = self._channels.get(msg[1])
            if isinstance(sub, AsyncSubscription):
                sub._push(Sample(msg[2], msg[3], msg[4]))
        elif kind == S.EVENT:
            event = Event(msg[1], msg[2], msg[3], msg[4])
            channel = self._channels.get(msg[1])
            if channel is None:
                self.events.append(event)
            else:
                channel.events.append(event)
                if isinstance(channel, AsyncSetpointStream):
                    channel._event.set()
        elif kind == S.GOODBYE:
            self._close_code = msg[1]
            self._mark_closed(f"the server closed the connection: {msg[2]}")
            return True
        return False

    def _mark_closed(self, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        self.close_reason = reason
        error = ConnectionClosedError(f"the fast-path connection is closed: {reason}", self._close_code)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        for channel in self._channels.values():
            if isinstance(channel, AsyncSubscription):
                channel.closed = True
                channel.queue.put_nowait(None)

    @property
    def closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        """Say goodbye and close (the server stops what this session moved)."""
        if not self._closed:
            try:
                self.writer.write(encode_stream(msgpack.packb([S.GOODBYE, S.Err.OK, "client closed"])))
                await self.writer.drain()
            except OSError:
                pass
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
