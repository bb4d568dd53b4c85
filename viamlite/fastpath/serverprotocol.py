"""The server's side of one fast-path session, without I/O: payloads in, frames out.

:meth:`ServerProtocol.handle_frames` takes the payloads a connection decoded and returns
the frames to write back (replies to a batch of pipelined requests go out together); later
messages (long calls' results, samples, EVENTs) go through the connection's ``write``.
It owns the handshake state, the resolved handles, the calls and the channels.

Safety, as with gRPC sessions: when the session ends (closed, dropped, timed out) every
resource it was the last to move with a motion method is stopped, and its long calls are
cancelled. A resource another client has moved since is that client's to stop.
"""
from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgpack

from viamlite.errors import AbortedError, CancelledError
from viamlite.fastpath import schema as S
from viamlite.fastpath.channels import Channels, Sampler, SetpointSink
from viamlite.fastpath.dispatch import packer, to_wire
from viamlite.fastpath.errors import FrameTooLarge, code_for, describe
from viamlite.fastpath.handles import HandleTable, ServedHandle
from viamlite.fastpath.handshake import Close, RequestError, accept_hello, hello_info, show
from viamlite.fastpath.motion import MotionBook
from viamlite.state import ConnectionState

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.fastpath.connection import Connection

log = logging.getLogger("viamlite.fastpath")
_ids = itertools.count(1)
_unpackb = msgpack.unpackb
CALL, RESULT, ERROR = S.CALL, S.RESULT, S.ERROR
MAX_LONG_CALLS = 64
#: How often a session opened with credentials has them checked again (revoked keys, expiry).
AUTH_RECHECK_S = 1.0
#: Request ids are unsigned 32-bit integers.
MAX_REQUEST_ID = (1 << 32) - 1


class ServerProtocol(MotionBook):
    """One session's protocol state; ``conn`` writes and schedules for it."""

    def __init__(self, conn: "Connection", *, remote: bool, serial: bool) -> None:
        self.conn = conn
        self.server = conn.server
        self.machine = conn.server.machine
        self.id = next(_ids)
        self.owner = f"fastpath-{self.id}"
        self.remote = remote
        self.write = conn.write
        self.backlog = conn.backlog
        self.max_frame = conn.max_frame
        self.frame = self._frame_within(conn.frame, conn.max_frame)
        self.state = ConnectionState.HANDSHAKE
        self.key_id = ""
        self.client_name = ""
        self._token = ""  # checked again every AUTH_RECHECK_S: a revoked key or expired token ends the session
        self._auth_checked = 0.0
        self.handles = HandleTable(self.machine)
        self._handle, self._lookup, self.bound = self.handles.get, self.handles.lookup, self.handles.bound
        self.channels = Channels(self, conn.server.reactor)
        self._moved: dict[Any, Any] = {}
        self._movers = self.machine.movers
        self._ops: set[Any] = set()
        self.stopped_at: float | None = None  # monotonic time the session's resources were stopped

    # -- frames in, frames out --------------------------------------------------------------
    def handle_frames(self, frames: list[bytes], now: float) -> list[bytes]:
        try:
            return self._handle_frames(frames, now)
        finally:
            if self.channels.session_timeout:
                self.channels.rearm_session()

    def _handle_frames(self, frames: list[bytes], now: float) -> list[bytes]:
        if self._token and now - self._auth_checked >= AUTH_RECHECK_S:
            self._recheck_credentials()
        self.channels.received(now)
        out: list[bytes] = []
        pack = packer().pack
        frame = self.frame
        handles, moved, movers, owner = self.handles.numbered, self._moved, self._movers, self.owner
        ready = self.state is ConnectionState.CONNECTED
        closed = ConnectionState.CLOSED
        for payload in frames:
            if self.state is closed:  # ended meanwhile (the server stopping, on another thread)
                return []
            try:
                msg = _unpackb(payload)
            except Exception as exc:
                if not ready:
                    raise Close(S.Err.FAILED_PRECONDITION, "the first message must be HELLO, got a frame that is not "
                                f"msgpack ({type(exc).__name__})") from None
                out.append(frame(pack([ERROR, 0, S.Err.INVALID_ARGUMENT,
                                       f"a frame is not a msgpack message ({type(exc).__name__}: {exc}); "
                                       "send each message as one msgpack array"])))
                continue
            if ready and type(msg) is list and len(msg) == 5 and msg[0] == CALL:
                _, rid, number, method, args = msg  # the hot path: a quick CALL on a resolved handle
                handle = handles[number] if type(number) is int and 0 < number < len(handles) else None
                entry = handle.bound.get(method) if handle is not None and not handle.resource._closed else None
                if entry is not None and not entry[2] and type(args) is list and type(rid) is int and (
                        0 < rid <= MAX_REQUEST_ID):
                    spec = entry[1]
                    if spec.motion:
                        moved[handle.key] = handle.resource
                        before = movers.moved(handle.key, owner)
                    try:
                        value = entry[0](args)
                    except Exception as exc:
                        if spec.motion:  # a move refused takes nothing over
                            movers.undo(handle.key, owner, before)
                        out.append(frame(pack([ERROR, rid, code_for(exc),
                                               describe(exc, f"{handle.subtype} {handle.name!r} {spec.name}")])))
                        continue
                    if spec.motion:
                        self._moved_now(handle)
                    try:
                        out.append(frame(pack([RESULT, rid, value])))
                    except Exception as exc:
                        out.append(self._encode_failure(rid, exc))
                    continue
            try:
                reply = self._dispatch(msg)
            except RequestError as exc:
                out.append(frame(pack([ERROR, _request_id(msg), exc.code, exc.message])))
                continue
            except Close as exc:  # the replies to what came before go out first
                exc.pending = out
                raise
            if reply is not None:
                out.append(self._pack(reply))
                if type(reply) is _Opened:  # the RESULT goes out before the channel's first message
                    self.conn.write(b"".join(out))
                    out = []
                    reply.start()
            ready = self.state is ConnectionState.CONNECTED
        return out

    def _pack(self, message: list) -> bytes:
        try:
            return self.frame(msgpack.packb(message, default=to_wire))
        except Exception as exc:  # a result msgpack cannot carry
            return self._encode_failure(message[1], exc)

    def _encode_failure(self, rid: Any, exc: Exception) -> bytes:
        if isinstance(exc, FrameTooLarge):
            return self.frame(msgpack.packb([S.ERROR, rid, exc.code, str(exc)]))
        return self.frame(msgpack.packb([S.ERROR, rid, S.Err.INTERNAL, f"the result could not be encoded: {exc}"]))

    @staticmethod
    def _frame_within(frame: Callable[[bytes], bytes], limit: int) -> Callable[[bytes], bytes]:
        """``frame``, refusing a payload over the frame limit both ends keep (HELLO's
        ``max_frame``), which the client could not read: a large camera image, say."""
        def framed(payload: bytes) -> bytes:
            if len(payload) > limit:
                raise FrameTooLarge(f"the reply is {len(payload)} bytes, over the frame limit of {limit}; ask for "
                                    "less (a smaller image), or raise fastpath.max_frame_bytes")
            return frame(payload)

        return framed

    def _recheck_credentials(self) -> None:
        """The connection's token again: removing a key in the config, or the token's expiry,
        ends sessions opened with it, as it does gRPC calls."""
        self._auth_checked = time.monotonic()
        try:
            self.server.authenticator.verify(self._token)
        except Exception as exc:
            self._token = ""
            raise Close(S.Err.UNAUTHENTICATED, f"credentials no longer valid: {exc}") from None

    # -- requests -----------------------------------------------------------------------
    def _dispatch(self, msg: Any) -> list | None:
        ready = self.state is ConnectionState.CONNECTED
        if type(msg) is not list or not msg or type(msg[0]) is not int:
            if not ready:
                raise Close(S.Err.FAILED_PRECONDITION, f"the first message must be HELLO, got {show(msg)}")
            raise RequestError(S.Err.INVALID_ARGUMENT, f"a message must be an array starting with a message type, "
                               f"got {show(msg)}")
        kind = msg[0]
        want = S.REQUEST_LENGTHS.get(kind)
        if kind == S.GOODBYE and len(msg) == want:
            raise Close(S.Err.OK, f"the client said goodbye: {show(msg[2])}")
        if not ready and kind != S.HELLO:
            raise Close(S.Err.FAILED_PRECONDITION,
                        f"the first message must be HELLO, got {S.MESSAGE_NAMES.get(kind, f'message type {kind}')}")
        if want is None:
            raise RequestError(S.Err.UNIMPLEMENTED, f"unknown message type {kind}; "
                               f"client messages are {sorted(S.REQUEST_LENGTHS)}")
        if len(msg) != want:
            if not ready:
                raise Close(S.Err.INVALID_ARGUMENT, f"HELLO has {want} elements, got {len(msg)}")
            raise RequestError(S.Err.INVALID_ARGUMENT, f"{S.MESSAGE_NAMES[kind]} has {want} elements, got {len(msg)}")
        if kind != S.SETPOINT:
            rid = msg[1]
            if type(rid) is not int or not 0 < rid <= MAX_REQUEST_ID:
                problem = (f"request id must be an integer from 1 to {MAX_REQUEST_ID}, got {show(rid)}")
                if not ready:
                    raise Close(S.Err.INVALID_ARGUMENT, f"HELLO's {problem}")
                raise RequestError(S.Err.INVALID_ARGUMENT, problem)
        if not ready:
            return self._on_hello(msg)
        if kind == S.CALL:
            reply = self._call(msg)
            return None if reply is None else [S.RESULT, msg[1], reply[0]]
        if kind == S.SETPOINT:
            self._on_setpoint(msg)
            return None
        if kind == S.PING:
            return [S.RESULT, msg[1], time.time_ns()]
        if kind == S.RESOLVE:
            return [S.RESULT, msg[1], self.handles.resolve(msg[2], msg[3])]
        if kind == S.SUBSCRIBE:
            return self._on_subscribe(msg)
        if kind == S.OPEN_STREAM:
            return self._on_open_stream(msg)
        if kind in (S.UNSUBSCRIBE, S.CLOSE_STREAM):
            self.channels.remove(msg[2], Sampler if kind == S.UNSUBSCRIBE else SetpointSink)
            return [S.RESULT, msg[1], None]
        raise RequestError(S.Err.FAILED_PRECONDITION, "HELLO was already accepted on this connection")

    def _on_hello(self, msg: list) -> list:
        options = msg[3] if isinstance(msg[3], dict) else {}
        accepted = accept_hello(msg, authenticator=self.server.authenticator, remote=self.remote)
        self.key_id, self.client_name = accepted.key_id, accepted.client_name
        self._token, self._auth_checked = accepted.token, time.monotonic()
        self.state = ConnectionState.CONNECTED
        self.conn.hello_accepted()
        if accepted.session_timeout:
            self.channels.start_session_timer(accepted.session_timeout)
        log.info("fast-path session %d from %s%s", self.id, self.conn.peer,
                 f" ({self.client_name})" if self.client_name else "")
        info = hello_info(accepted, self.id, self.max_frame, with_token=bool(options.get("key_id")))
        return [S.RESULT, msg[1], info]

    def _call(self, msg: list) -> tuple[Any] | None:
        _, rid, number, method, args = msg
        handle = self._handle(number)
        fn, spec = self._lookup(handle, method)
        if type(args) is not list:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"CALL arguments must be an array, got {show(args)}")
        before = self._moves(handle) if spec.motion else None
        if spec.long:
            self._start_long(rid, handle, spec, fn, args, before)
            return None
        try:
            value = fn(args)
        except Exception as exc:
            if spec.motion:  # a move refused takes nothing over
                self._movers.undo(handle.key, self.owner, before)
            raise RequestError(code_for(exc), describe(exc, f"{handle.subtype} {handle.name!r} {spec.name}")) from None
        if spec.motion:
            self._moved_now(handle)
        return (value,)

    def _start_long(self, rid: int, handle: ServedHandle, spec: S.MethodSpec, fn: Callable[[Any], Any],
                    args: list, before: str | None) -> None:
        if len(self._ops) >= MAX_LONG_CALLS:
            raise RequestError(S.Err.RESOURCE_EXHAUSTED, f"at most {MAX_LONG_CALLS} long calls may run at once "
                               "on one connection; wait for some to finish")
        op = self.machine.operations.run(f"fastpath:{handle.subtype}.{spec.name}", args, session_id=self.owner)
        self._ops.add(op)

        def run() -> None:
            try:
                if self.state is ConnectionState.CLOSED:  # ended while the call waited for a worker
                    op.cancel()
                    if spec.motion:
                        self._movers.undo(handle.key, self.owner, before)
                    return
                with op:
                    value = fn(args)
                message = [S.RESULT, rid, value]
            except Exception as exc:
                if spec.motion and not isinstance(exc, (AbortedError, CancelledError)):
                    self._movers.undo(handle.key, self.owner, before)  # refused: it takes nothing over
                message = [S.ERROR, rid, code_for(exc), describe(exc, f"{handle.subtype} {handle.name!r} {spec.name}")]
            finally:
                self._ops.discard(op)
            if spec.motion and self.state is ConnectionState.CLOSED:
                self._moved_after_end(handle)  # a move that returned at once and runs on (go_for 0 revolutions)
            self.write(self._pack(message))

        self.server.submit(run)

    def _on_subscribe(self, msg: list) -> "_Opened":
        _, rid, number, method, args, rate = msg
        handle = self._handle(number)
        fn, spec = self._lookup(handle, method)
        if type(args) is not list:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"SUBSCRIBE arguments must be an array, got {show(args)}")
        if spec.motion or spec.long or spec.result == "none":
            raise RequestError(S.Err.INVALID_ARGUMENT, f"{spec.name} cannot be subscribed to: subscribe to a read "
                               "such as get_position or get_readings")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= S.MAX_RATE_HZ:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"rate_hz must be above 0 and at most {S.MAX_RATE_HZ:g}, "
                               f"got {show(rate)}")
        self.channels.check_free()
        try:  # one trial call: a subscription that opens has arguments its read accepted
            fn(args)
        except Exception as exc:
            raise RequestError(code_for(exc), describe(exc, f"{handle.subtype} {handle.name!r} {spec.name}")) from None
        channel = self.channels.new_channel()
        sampler = Sampler(self, channel, handle, spec, args, float(rate))
        self.channels.items[channel] = sampler
        return _Opened([S.RESULT, rid, channel], lambda: sampler.start(self.server.reactor))

    def _on_open_stream(self, msg: list) -> "_Opened":
        _, rid, number, method, timeout_ms = msg
        handle = self._handle(number)
        _, spec = self._lookup(handle, method)
        if spec.long or not spec.motion or not spec.args:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"{spec.name} cannot take setpoints: stream a setpoint method "
                               "(servo move, motor set_power or set_rpm, base set_power or set_velocity)")
        if not callable(getattr(handle.resource, "stop", None)):
            raise RequestError(S.Err.FAILED_PRECONDITION, f"{handle.subtype} {handle.name!r} cannot be stopped, so its "
                               "deadman could not act; setpoint streams need an actuator")
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, (int, float)) or not (
                S.MIN_TIMEOUT_MS <= timeout_ms <= S.MAX_TIMEOUT_MS):
            raise RequestError(S.Err.INVALID_ARGUMENT, f"timeout_ms must be {S.MIN_TIMEOUT_MS} to {S.MAX_TIMEOUT_MS}, "
                               f"got {show(timeout_ms)}")
        channel = self.channels.new_channel()
        sink = SetpointSink(channel, handle, spec, timeout_ms / 1000.0)
        self.channels.open_stream(sink)
        return _Opened([S.RESULT, rid, channel], lambda: self.channels.arm_stream(sink))

    def _on_setpoint(self, msg: list) -> None:
        _, channel, seq, args = msg
        if type(channel) is not int or type(seq) is not int or not 0 <= seq <= MAX_REQUEST_ID or type(args) is not list:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"SETPOINT is [7, channel (integer), seq (integer 0 to "
                               f"{MAX_REQUEST_ID}), [args]], got {show(msg)}")
        stream = self.channels.items.get(channel)
        if type(stream) is not SetpointSink:
            self.event(channel, seq, S.Err.NOT_FOUND,
                       f"no setpoint stream {show(channel)} on this connection; OPEN_STREAM first")
            return
        if seq <= stream.last_seq:
            stream.stale += 1  # late or duplicate: a newer setpoint already applied
            return
        stream.last_seq = seq
        handle, spec = stream.handle, stream.spec
        before, ok = None, False
        try:
            fn, _ = self._lookup(handle, spec.id)
            if spec.motion:
                before = self._moves(handle)
            fn(args)
            ok = True
        except RequestError as exc:
            self.event(channel, seq, exc.code, exc.message)
        except Exception as exc:
            if spec.motion:
                self._movers.undo(handle.key, self.owner, before)
            self.event(channel, seq, code_for(exc), describe(exc, f"{handle.subtype} {handle.name!r} {spec.name}"))
        if ok and spec.motion:
            self._moved_now(handle)
        self.channels.applied(stream)

    def event(self, channel: int, seq: Any, code: int, message: str) -> None:
        self.write(self._pack([S.EVENT, channel, seq if type(seq) is int else 0, code, message]))

    # -- ending -------------------------------------------------------------------------
    def detach(self) -> None:
        """Let go of the connection once it is closed: a late long call's result is dropped,
        and the closed session is freed at once, not when the garbage collector gets to it."""
        self.write = _dropped
        self.backlog = _empty
        self.conn = None  # type: ignore[assignment]
        self.channels.proto = None  # type: ignore[assignment]

    def end(self, reason: str) -> None:
        """The session is over: channels closed, long calls cancelled, what it moved stopped."""
        self.state = ConnectionState.CLOSED
        self.channels.close()
        for op in list(self._ops):
            op.cancel()
        self.stop_moved(f"connection ended: {reason}")


def _dropped(data: bytes) -> bool:
    return False


def _empty() -> int:
    return 0


def _request_id(msg: Any) -> int:
    """The id an ERROR about ``msg`` carries: its own when its type has one and it is valid, else 0."""
    if type(msg) is list and len(msg) > 1 and type(msg[0]) is int and msg[0] not in (S.SETPOINT, S.GOODBYE):
        rid = msg[1]
        if type(rid) is int and 0 < rid <= MAX_REQUEST_ID:
            return rid
    return 0


class _Opened(list):
    """A SUBSCRIBE's RESULT, and what starts the channel once that RESULT is written."""

    def __init__(self, reply: list, start: Callable[[], None]) -> None:
        super().__init__(reply)
        self.start = start


__all__ = ["ServerProtocol", "ServedHandle", "RequestError", "Close", "show", "MAX_REQUEST_ID"]
