"""The client's side of a fast-path session, without I/O: messages in, bytes out; bytes in,
replies out.

:class:`ClientProtocol` is what every client shares (the sync
:class:`~viamlite.fastpath.client.FastPathClient`, the asyncio
:class:`~viamlite.fastpath.aclient.AsyncFastPathClient`, and the serial client that
:func:`~viamlite.fastpath.serialport.open_serial` builds): request ids, HELLO options,
packing and framing, decoding what the server sent, routing SAMPLE and EVENT messages to
their subscriptions and setpoint streams, GOODBYE, and the connection's
:class:`~viamlite.state.ConnectionState`. It has no socket, thread, lock, clock or event
loop: the clients read and write, wait, and hand replies to whoever waits for them.

    proto = ClientProtocol()
    proto.connection_made()                      # CONNECTING -> HANDSHAKE
    data = proto.send(proto.hello_request())     # bytes to write; the id is filled in
    replies = proto.receive(read_bytes)          # RESULT/ERROR messages, in order
    value = result_of(replies[0])                # or raises the error for its code

Samples and events never come back from :meth:`ClientProtocol.receive`: they go to the
channel objects the clients registered (:class:`ClientChannel`). A subscription with a
callback has its samples queued in ``callbacks``, for the client to call outside its locks.
"""
from __future__ import annotations

import itertools
import struct
from collections.abc import Callable
from typing import Any

import msgpack

from viamlite.fastpath import schema as S
from viamlite.fastpath.dispatch import to_wire
from viamlite.fastpath.errors import AuthError, ConnectionClosedError, ProtocolError, error_for
from viamlite.fastpath.framing import SerialDecoder, StreamDecoder, encode_serial, encode_stream
from viamlite.fastpath.proxy import Event, Sample
from viamlite.state import ConnectionState

#: Request ids are 1 to 2^32-1 (docs/fastpath.md §2); after the last, they start again at 1.
MAX_REQUEST_ID = (1 << 32) - 1

_unpackb = msgpack.unpackb
_unpack_len = struct.Struct(">I").unpack_from
RESULT, ERROR, SAMPLE, EVENT, GOODBYE, HELLO = S.RESULT, S.ERROR, S.SAMPLE, S.EVENT, S.GOODBYE, S.HELLO
_CONNECTED, _DISCONNECTED, _CLOSED = ConnectionState.CONNECTED, ConnectionState.DISCONNECTED, ConnectionState.CLOSED
#: A HELLO refused with one of these codes is an :class:`AuthError`.
AUTH_CODES = (S.Err.UNAUTHENTICATED, S.Err.PERMISSION_DENIED)


def hello_options(token: str | None, key_id: str | None, key: str | None, session_timeout: float | None,
                  client_name: str) -> dict[str, Any]:
    """The HELLO's options map (§2.1): the client's name, credentials, a session timeout."""
    options: dict[str, Any] = {"client": client_name}
    if token:
        options["token"] = token
    if key_id:
        options["key_id"], options["key"] = key_id, key or ""
    if session_timeout:
        options["session_timeout_ms"] = int(session_timeout * 1000)
    return options


def result_of(reply: list) -> Any:
    """A reply's value, or raise the error its code stands for."""
    if reply[0] == RESULT:
        return reply[2]
    raise error_for(reply[2], reply[3])


def hello_refused(exc: ConnectionClosedError) -> Exception:
    """What a client raises when the server ends the connection instead of answering HELLO."""
    if exc.code in AUTH_CODES:
        return AuthError(str(exc), exc.code)
    return exc


class ClientChannel:
    """A channel the server sends on: what :class:`ClientProtocol` routes its messages to.

    ``channel`` is the number the server gave (0 until the SUBSCRIBE or OPEN_STREAM result
    comes); ``events`` holds its EVENTs (failed samples or setpoints, deadman stops).
    """

    channel = 0
    closed = False
    #: called with each sample, by the client, outside its locks (None: samples are queued)
    callback: Callable[[Sample], None] | None = None

    def __init__(self) -> None:
        self.events: list[Event] = []

    def _on_sample(self, sample: Sample) -> None:
        """A SAMPLE on this channel (setpoint streams get none)."""

    def _on_event(self, event: Event) -> None:
        self.events.append(event)

    def _on_close(self) -> None:
        """The connection ended (or this channel was closed)."""
        self.closed = True


class SampledChannel(ClientChannel):
    """A subscription's channel: counts what arrived and what never did, then ``_deliver``s.

    ``received`` counts samples; ``missed`` counts sequence numbers that never arrived.
    """

    def __init__(self) -> None:
        super().__init__()
        self.received = 0
        self.missed = 0
        self.last_seq = -1

    def _on_sample(self, sample: Sample) -> None:
        seq = sample.seq
        if self.last_seq >= 0 and seq > self.last_seq + 1:
            self.missed += seq - self.last_seq - 1
        self.last_seq = seq
        self.received += 1
        self._deliver(sample)

    def _deliver(self, sample: Sample) -> None:
        raise NotImplementedError


class ProtocolView:
    """What a client shows of its protocol's state (``self.protocol``)."""

    protocol: "ClientProtocol"

    @property
    def info(self) -> dict[str, Any]:
        """The server's HELLO reply (version, server, session, caps, ...)."""
        return self.protocol.info

    @info.setter
    def info(self, value: dict[str, Any]) -> None:
        self.protocol.info = value

    @property
    def state(self) -> ConnectionState:
        return self.protocol.state

    @property
    def closed(self) -> bool:
        return self.protocol.closed

    @property
    def close_reason(self) -> str:
        return self.protocol.close_reason


class ClientProtocol:
    """One client session's protocol state; see the module docstring.

    ``serial``: COBS+CRC frames (§1.2) instead of length-prefixed ones. ``max_frame``: the
    largest payload accepted. Not thread-safe: the sync client calls :meth:`send` under its
    send lock and :meth:`receive` from one reading thread at a time.
    """

    def __init__(self, *, serial: bool = False, max_frame: int | None = None) -> None:
        self.serial = serial
        self.frame: Callable[[bytes], bytes] = encode_serial if serial else encode_stream
        self.max_frame = max_frame or (S.MAX_SERIAL_FRAME if serial else S.MAX_STREAM_FRAME)
        self.decoder: StreamDecoder | SerialDecoder = (
            SerialDecoder(self.max_frame) if serial else StreamDecoder(self.max_frame))
        self.pack = msgpack.Packer(default=to_wire).pack  # msgpack.packb sets up a new buffer per call
        self._ids = itertools.count(1)
        self.state = ConnectionState.CONNECTING
        self.closed = False  # DISCONNECTED or CLOSED: nothing more is sent or received
        self.close_reason = ""
        self.close_code: int = S.Err.UNAVAILABLE
        self.info: dict[str, Any] = {}  # the last HELLO reply's value
        self.events: list[Event] = []  # session events (channel 0), such as a session timeout
        self.channels: dict[int, ClientChannel] = {}
        self.pending: dict[int, ClientChannel] = {}  # request id -> channel waiting for its number
        self.callbacks: list[tuple[Callable[[Sample], None], Sample]] = []
        self.bad_messages = 0  # messages dropped as malformed (serial lines; a stream closes instead)
        self._hello = 0  # the id of the HELLO in flight
        # on a stream, open, and no partial frame buffered: a read may be exactly one frame
        self._whole_reads = not serial

    # -- lifetime ---------------------------------------------------------------------------
    def connection_made(self) -> None:
        """The transport is open: the handshake comes next."""
        if not self.closed:
            self.state = ConnectionState.HANDSHAKE

    def connection_lost(self, reason: str, code: int = S.Err.UNAVAILABLE) -> None:
        """The transport failed or the server ended the session (the first reason is kept)."""
        if not self.closed:
            self.closed = True
            self._whole_reads = False
            self.state = _DISCONNECTED
            self.close_reason, self.close_code = reason, code
            self._close_channels()

    def close(self, reason: str = "closed by the client") -> None:
        """Closed for good by the client (after :meth:`goodbye`'s bytes, if any, were sent)."""
        self.connection_lost(reason)
        self.state = _CLOSED

    def goodbye(self, reason: str = "client closed") -> bytes:
        """The GOODBYE frame a client sends before it closes."""
        return self.frame(msgpack.packb([GOODBYE, S.Err.OK, reason]))

    def closed_error(self) -> ConnectionClosedError:
        return ConnectionClosedError(f"the fast-path connection is closed: {self.close_reason}", self.close_code)

    def _close_channels(self) -> None:
        for channel in (*self.channels.values(), *self.pending.values()):
            channel._on_close()

    # -- out --------------------------------------------------------------------------------
    def next_id(self) -> int:
        """The next request id: 1, 2, ... 2^32-1, then 1 again."""
        rid = next(self._ids)
        return rid if rid <= MAX_REQUEST_ID else self._wrap()

    def _wrap(self) -> int:
        self._ids = itertools.count(2)
        return 1

    def send(self, message: list, channel: ClientChannel | None = None) -> bytes:
        """The frame for ``message``; a request id of None is filled in (read it back from
        ``message[1]``). ``channel``: the subscription or setpoint stream a SUBSCRIBE or
        OPEN_STREAM opens, registered before the request leaves, so no early sample is lost."""
        if message[1] is None:
            rid = next(self._ids)
            message[1] = rid if rid <= MAX_REQUEST_ID else self._wrap()
        if message[0] == HELLO:
            self._hello = message[1]
        if channel is not None:
            self.pending[message[1]] = channel
        return self.frame(self.pack(message))

    def send_many(self, messages: list[list]) -> bytes:
        """The frames of plain requests (no HELLO, no channel), ids filled in: a pipeline's window."""
        ids, pack, frame = self._ids, self.pack, self.frame
        out = []
        for message in messages:
            if message[1] is None:
                rid = next(ids)
                if rid > MAX_REQUEST_ID:
                    rid = self._wrap()
                    ids = self._ids
                message[1] = rid
            out.append(frame(pack(message)))
        return b"".join(out)

    def setpoint(self, stream: ClientChannel, args: Any) -> bytes:
        """The next SETPOINT of ``stream`` (``stream.seq`` counts them)."""
        seq = stream.seq = stream.seq + 1  # type: ignore[attr-defined]
        return self.frame(self.pack([S.SETPOINT, stream.channel, seq, args]))

    @staticmethod
    def hello_request(token: str | None = None, key_id: str | None = None, key: str | None = None,
                      session_timeout: float | None = None, client_name: str = "viamlite client",
                      **options: Any) -> list:
        """A HELLO (id to be filled in by :meth:`send`); extra ``options`` go into its map."""
        body = hello_options(token, key_id, key, session_timeout, client_name)
        body.update(options)
        return [HELLO, None, S.VERSION, body]

    def abandon(self, rid: int) -> None:
        """No reply to request ``rid`` is awaited any more (its channel, if any, is dropped)."""
        self.pending.pop(rid, None)

    def forget(self, channel: ClientChannel) -> None:
        """``channel`` was closed by the client: its messages are no longer routed."""
        if self.channels.get(channel.channel) is channel:
            del self.channels[channel.channel]

    def take_callbacks(self) -> list[tuple[Callable[[Sample], None], Sample]]:
        """The subscription callbacks due, to call outside any lock."""
        due, self.callbacks = self.callbacks, []
        return due

    # -- in ---------------------------------------------------------------------------------
    def receive(self, data: bytes) -> list[list]:
        """Bytes read (b"": the end of the stream) -> the replies (RESULT and ERROR messages)
        they complete, in order. Samples and events go to their channels; a GOODBYE, a bad
        frame on a stream or the end of the stream leave the protocol DISCONNECTED."""
        size = len(data) - 4
        if size > 0 and self._whole_reads and _unpack_len(data)[0] == size <= self.max_frame:
            # the common read: exactly one whole frame, decoded without the frame decoder
            try:
                msg = _unpackb(data[4:])
            except Exception as exc:  # noqa: BLE001 - msgpack raises several kinds
                self._bad(f"a frame that is not msgpack ({exc})")
                return []
            if type(msg) is list and len(msg) > 2 and msg[0] == RESULT and not self.pending \
                    and msg[1] != self._hello:
                return [msg]
            replies: list[list] = []
            self._route(msg, replies)
            return replies
        if self.closed:
            return []
        if not data:
            self.connection_lost("the server closed the connection")
            return []
        try:
            payloads = self.decoder.feed(data)
        except ProtocolError as exc:
            self.connection_lost(f"bad frame from the server: {exc}")
            return []
        if not self.serial:
            self._whole_reads = not self.decoder.pending
        replies = []
        for payload in payloads:
            try:
                msg = _unpackb(payload)
            except Exception as exc:  # noqa: BLE001
                self._bad(f"a frame that is not msgpack ({exc})")
            else:
                self._route(msg, replies)
            if self.closed:
                self._whole_reads = False
                break
        return replies

    def _route(self, msg: Any, replies: list[list]) -> None:
        if type(msg) is not list or not msg:
            self._bad(f"a message that is not an array: {msg!r:.80}")
            return
        kind = msg[0]
        size = len(msg)
        if kind == RESULT or kind == ERROR:
            if size < 3 or (kind == ERROR and (size < 4 or type(msg[2]) is not int or type(msg[3]) is not str)):
                self._bad(f"a malformed reply: {msg!r:.80}")
                return
            rid = msg[1]
            if self.pending:
                channel = self.pending.pop(rid, None)
                if channel is not None and kind == RESULT:
                    channel.channel = msg[2]
                    self.channels[msg[2]] = channel
            if rid == self._hello:
                self._hello = 0
                if kind == RESULT and isinstance(msg[2], dict):
                    self.info = msg[2]
                    if not self.closed:
                        self.state = _CONNECTED
            replies.append(msg)
        elif kind == SAMPLE:
            if size < 5:
                self._bad(f"a malformed SAMPLE: {msg!r:.80}")
                return
            channel = self.channels.get(msg[1])
            if channel is not None:
                sample = Sample(msg[2], msg[3], msg[4])
                channel._on_sample(sample)
                if channel.callback is not None:
                    self.callbacks.append((channel.callback, sample))
        elif kind == EVENT:
            if size < 5:
                self._bad(f"a malformed EVENT: {msg!r:.80}")
                return
            event = Event(msg[1], msg[2], msg[3], msg[4])
            channel = self.channels.get(msg[1])
            if channel is None:
                self.events.append(event)
            else:
                channel._on_event(event)
        elif kind == GOODBYE:
            code = msg[1] if size > 1 and type(msg[1]) is int else S.Err.UNKNOWN
            self.connection_lost(f"the server closed the connection: {msg[2] if size > 2 else ''}", code)
        # other message types are a later version's: ignored

    def _bad(self, what: str) -> None:
        """A message the client cannot read: dropped on a serial line (counted), where noise
        is expected; on a stream the server is broken, and the connection ends."""
        if self.serial:
            self.bad_messages += 1
        else:
            self.connection_lost(f"bad message from the server: {what}")


__all__ = ["ClientProtocol", "ProtocolView", "ClientChannel", "SampledChannel", "hello_options", "hello_refused", "result_of",
           "MAX_REQUEST_ID", "AUTH_CODES"]
