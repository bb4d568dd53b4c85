"""One fast-path connection: a session with its handshake, handles, calls, channels, safety.

A connection runs on its own thread with a blocking socket: it reads frames, answers
quick calls at once (replies to a batch of pipelined requests go out in one write), and
hands long calls (moves that block, DoCommand) to the server's pool. Subscriptions are
sampled on their own threads against absolute deadlines; a watchdog thread enforces
setpoint-stream deadmen and the optional session timeout.

Safety, as with gRPC sessions: when the connection ends (closed, dropped, timed out) every
resource it moved with a motion method is stopped and its long calls are cancelled.
"""
from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgpack

from viamlite.errors import NotSupportedError
from viamlite.fastpath import schema as S
from viamlite.fastpath.dispatch import bind, offered, to_wire
from viamlite.fastpath.errors import FrameTooLarge, code_for, describe
from viamlite.fastpath.framing import (
    SerialDecoder,
    StreamDecoder,
    encode_serial,
    encode_stream,
)
from viamlite.names import API

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.fastpath.server import FastPathServer

log = logging.getLogger("viamlite.fastpath")
_ids = itertools.count(1)
_unpackb = msgpack.unpackb
CALL, RESULT, ERROR = S.CALL, S.RESULT, S.ERROR
MAX_HANDLES = 1024
MAX_CHANNELS = 64
MAX_LONG_CALLS = 64
CATCH_UP_S = 0.05
#: How often a session opened with credentials has them checked again (revoked keys, expiry).
AUTH_RECHECK_S = 1.0


class Close(Exception):
    """End the connection: send GOODBYE with ``code`` and ``reason`` (when possible), then close."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class RequestError(Exception):
    """Answer the request with an ERROR reply."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Handle:
    """A resolved resource: looked up by name on every call, so a rebuilt resource is picked up."""

    __slots__ = ("number", "api", "subtype", "name", "resource", "bound")

    def __init__(self, number: int, api: API, name: str, resource: Any) -> None:
        self.number = number
        self.api = api
        self.subtype = api.subtype
        self.name = name
        self.resource = resource
        self.bound: dict[Any, tuple[Callable[[Any], Any], S.MethodSpec, bool]] = {}


class Subscription:
    """A method sampled at a rate on its own thread; sample ``seq`` k is due at start + k/rate.

    A sampler that was held up (the process not scheduled) takes the samples it owes at
    once, each stamped with when it was really taken; one more than ``CATCH_UP_S`` (or ten
    periods) late is skipped, and the gap in ``seq`` tells the client it was missed.
    """

    def __init__(self, conn: "Connection", channel: int, handle: Handle, spec: S.MethodSpec, args: list,
                 rate_hz: float) -> None:
        self.conn, self.channel, self.handle, self.spec, self.args = conn, channel, handle, spec, args
        self.period = 1.0 / rate_hz
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"fastpath-sub-{channel}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        conn, period, channel = self.conn, self.period, self.channel
        packer = msgpack.Packer(default=to_wire)
        frame = conn.frame
        wait = self.stopped.wait
        clock = time.perf_counter
        backlog = max(CATCH_UP_S, 10 * period)
        t0 = clock()
        k = 0
        while not self.stopped.is_set():
            due = t0 + k * period
            now = clock()
            if due > now:
                if wait(due - now):
                    return
            elif now - due >= backlog:  # fell far behind: skip the samples that are too late
                k = int((now - t0) / period)
            try:
                fn = conn.bound(self.handle, self.spec.id)
                value = fn(self.args)
                data = frame(packer.pack([S.SAMPLE, channel, k, time.time_ns(), value]))
            except Exception as exc:
                data = frame(packer.pack([S.EVENT, channel, k, code_for(exc),
                                          describe(exc, f"{self.handle.subtype} {self.handle.name!r} {self.spec.name}")]))
            if not conn.send(data):
                return
            k += 1


class SetpointStream:
    """Fire-and-forget commands with sequence numbers, guarded by a deadman."""

    __slots__ = ("channel", "handle", "spec", "timeout", "deadline", "last_seq", "tripped", "stale")

    def __init__(self, channel: int, handle: Handle, spec: S.MethodSpec, timeout: float) -> None:
        self.channel, self.handle, self.spec, self.timeout = channel, handle, spec, timeout
        self.deadline = time.monotonic() + timeout
        self.last_seq = -1
        self.tripped = False
        self.stale = 0

    def stop(self) -> None:
        pass


class Connection:
    """A session on one socket; :meth:`run` serves it until it ends."""

    def __init__(self, server: "FastPathServer", sock: socket.socket, peer: str, *, remote: bool,
                 framing: str = "stream") -> None:
        self.server = server
        self.machine = server.machine
        self.sock = sock
        self.peer = peer
        self.remote = remote
        self.id = next(_ids)
        self.serial = framing == "serial"
        if framing not in ("stream", "serial"):
            raise ValueError(f"framing must be 'stream' or 'serial', not {framing!r}")
        self.frame: Callable[[bytes], bytes] = encode_serial if self.serial else encode_stream
        self.max_frame = server.max_serial_frame if self.serial else server.max_frame
        self.decoder = SerialDecoder(self.max_frame) if self.serial else StreamDecoder(self.max_frame)
        self.key_id = ""
        self._token = ""  # checked again every AUTH_RECHECK_S: a revoked key or expired token ends the session
        self._auth_checked = 0.0
        self.client_name = ""
        self._hello = False
        self._handles: list[Handle | None] = [None]
        self._by_name: dict[tuple[str, str], Handle] = {}
        self._channels: dict[int, Subscription | SetpointStream] = {}
        self._next_channel = 1
        self._moved: dict[str, Any] = {}
        self._ops: set[Any] = set()
        self._send_lock = threading.Lock()
        self._state = threading.Condition()
        self._closed = False
        self._watchdog: threading.Thread | None = None
        self._session_timeout = 0.0
        self._last_rx = time.monotonic()
        self._session_expired = False
        self.close_reason = ""
        self.stopped_at: float | None = None  # monotonic time the session's resources were stopped
        self._packer = msgpack.Packer(default=to_wire)

    # -- sending ------------------------------------------------------------------------
    def send(self, data: bytes) -> bool:
        """Write ``data`` (whole frames); False once the connection is closed."""
        if self._closed:
            return False
        try:
            with self._send_lock:
                self.sock.sendall(data)
            return True
        except OSError:
            return False

    def _pack(self, message: list) -> bytes:
        try:
            return self.frame(msgpack.packb(message, default=to_wire))
        except Exception as exc:  # a result msgpack cannot carry
            return self.frame(msgpack.packb([S.ERROR, message[1], S.Err.INTERNAL,
                                             f"the result could not be encoded: {exc}"]))

    # -- the loop -----------------------------------------------------------------------
    def run(self) -> None:
        sock = self.sock
        server = self.server
        timeout_state: float | None = server.hello_timeout
        sock.settimeout(timeout_state)
        code, reason = S.Err.OK, "the client closed the connection"
        try:
            while True:
                want = server.hello_timeout if not self._hello else (
                    server.frame_timeout if self.decoder.pending and not self.serial else None)
                if want != timeout_state:
                    sock.settimeout(want)
                    timeout_state = want
                try:
                    data = sock.recv(262144)
                except socket.timeout:
                    if not self._hello:
                        raise Close(S.Err.DEADLINE_EXCEEDED, f"no HELLO within {server.hello_timeout:g} s")
                    raise Close(S.Err.DEADLINE_EXCEEDED, f"a frame stayed incomplete for {server.frame_timeout:g} s "
                                f"({self.decoder.pending} bytes received)")
                if not data:
                    if self.decoder.pending:
                        reason = f"the client closed the connection mid-frame ({self.decoder.pending} bytes pending)"
                    break
                self._last_rx = time.monotonic()
                if self._session_expired:
                    self._session_expired = False
                try:
                    frames = self.decoder.feed(data)
                except FrameTooLarge as exc:
                    raise Close(exc.code, f"{exc}; the connection cannot continue past it") from None
                if frames:
                    if self._token and self._last_rx - self._auth_checked >= AUTH_RECHECK_S:
                        self._recheck_credentials()
                    out = self._handle_frames(frames)
                    if out and not self.send(b"".join(out) if len(out) > 1 else out[0]):
                        reason = "the client went away"
                        break
        except Close as exc:
            code, reason = exc.code, exc.reason
            if not self._closed:
                self.send(self.frame(msgpack.packb([S.GOODBYE, code, reason])))
        except OSError as exc:
            reason = f"connection error: {exc}"
        except Exception as exc:  # a bug here must not take the server down
            log.exception("fast-path connection %d failed", self.id)
            code, reason = S.Err.INTERNAL, f"server error: {exc}"
            self.send(self.frame(msgpack.packb([S.GOODBYE, code, reason])))
        finally:
            self.close(reason)

    def _handle_frames(self, frames: list[bytes]) -> list[bytes]:
        out: list[bytes] = []
        pack = self._packer.pack
        frame = self.frame
        handles, moved, hello = self._handles, self._moved, self._hello
        for payload in frames:
            try:
                msg = _unpackb(payload)
            except Exception as exc:
                out.append(frame(pack([S.ERROR, 0, S.Err.INVALID_ARGUMENT,
                                       f"a frame is not a msgpack message ({type(exc).__name__}: {exc}); "
                                       "send each message as one msgpack array"])))
                continue
            if type(msg) is list and len(msg) == 5 and msg[0] == CALL and hello:
                _, rid, number, method, args = msg  # the hot path: a quick CALL on a resolved handle
                handle = handles[number] if type(number) is int and 0 < number < len(handles) else None
                entry = handle.bound.get(method) if handle is not None and not handle.resource._closed else None
                if entry is not None and not entry[2] and type(args) is list:
                    spec = entry[1]
                    if spec.motion:
                        moved[handle.name] = handle.resource
                    try:
                        value = entry[0](args)
                    except Exception as exc:
                        out.append(frame(pack([ERROR, rid, code_for(exc),
                                               describe(exc, f"{handle.subtype} {handle.name!r} {spec.name}")])))
                        continue
                    try:
                        out.append(frame(pack([RESULT, rid, value])))
                    except Exception as exc:
                        out.append(self._encode_failure(rid, exc))
                    continue
            try:
                reply = self._dispatch(msg)
            except RequestError as exc:
                rid = msg[1] if type(msg) is list and len(msg) > 1 and type(msg[1]) is int else 0
                out.append(frame(pack([S.ERROR, rid, exc.code, exc.message])))
                continue
            if reply is not None:
                out.append(self._pack(reply))
        return out

    def _recheck_credentials(self) -> None:
        """The connection's token again: removing a key in the config, or the token's expiry,
        ends sessions opened with it, as it does gRPC calls."""
        self._auth_checked = time.monotonic()
        auth = self.server.authenticator
        try:
            auth.verify(self._token)
        except Exception as exc:
            self._token = ""
            raise Close(S.Err.UNAUTHENTICATED, f"credentials no longer valid: {exc}") from None

    def _encode_failure(self, rid: Any, exc: Exception) -> bytes:
        # the result could not be packed (a driver returned something msgpack cannot carry)
        return self.frame(self._packer.pack([S.ERROR, rid, S.Err.INTERNAL, f"the result could not be encoded: {exc}"]))

    # -- requests -----------------------------------------------------------------------
    def _dispatch(self, msg: Any) -> list | None:
        if type(msg) is not list or not msg or type(msg[0]) is not int:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"a message must be an array starting with a message type, "
                               f"got {_show(msg)}")
        kind = msg[0]
        want = S.REQUEST_LENGTHS.get(kind)
        if want is None:
            raise RequestError(S.Err.UNIMPLEMENTED, f"unknown message type {kind}; "
                               f"client messages are {sorted(S.REQUEST_LENGTHS)}")
        if len(msg) != want:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"{S.MESSAGE_NAMES[kind]} has {want} elements, got {len(msg)}")
        if kind == S.GOODBYE:
            raise Close(S.Err.OK, f"the client said goodbye: {_show(msg[2])}")
        if kind != S.SETPOINT and type(msg[1]) is not int:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"request id must be an integer, got {_show(msg[1])}")
        if not self._hello:
            if kind != S.HELLO:
                raise Close(S.Err.FAILED_PRECONDITION, f"the first message must be HELLO, got {S.MESSAGE_NAMES[kind]}")
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
            return [S.RESULT, msg[1], self._on_resolve(msg)]
        if kind == S.SUBSCRIBE:
            return [S.RESULT, msg[1], self._on_subscribe(msg)]
        if kind == S.OPEN_STREAM:
            return [S.RESULT, msg[1], self._on_open_stream(msg)]
        if kind in (S.UNSUBSCRIBE, S.CLOSE_STREAM):
            self._on_close_channel(msg, Subscription if kind == S.UNSUBSCRIBE else SetpointStream)
            return [S.RESULT, msg[1], None]
        raise RequestError(S.Err.INVALID_ARGUMENT, "HELLO was already accepted on this connection")

    def _on_hello(self, msg: list) -> list:
        _, rid, version, options = msg
        if type(version) is not int or version < 1:
            raise Close(S.Err.FAILED_PRECONDITION, f"protocol version {_show(version)} is not supported; "
                        f"this server speaks version {S.VERSION}")
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise Close(S.Err.INVALID_ARGUMENT, f"HELLO options must be a map, got {_show(options)}")
        token = ""
        auth = self.server.authenticator
        creds = options.get("token") or options.get("key_id")
        if auth is not None and (self.remote or creds):
            try:
                if options.get("token"):
                    token = str(options["token"])
                    self.key_id = auth.verify(token)
                elif options.get("key_id") and options.get("key"):
                    token = auth.authenticate(str(options["key_id"]), str(options["key"]))
                    self.key_id = auth.verify(token)
                elif options.get("key_id"):
                    raise Close(S.Err.UNAUTHENTICATED, "HELLO carries 'key_id' without 'key': send both, or a 'token'")
                else:
                    raise Close(S.Err.UNAUTHENTICATED, "this connection is not from loopback: HELLO must carry an "
                                "API-key access token ('token') or an API key ('key_id' and 'key')")
            except Close:
                raise
            except Exception as exc:
                from viamlite.errors import PermissionDeniedError

                code = S.Err.PERMISSION_DENIED if isinstance(exc, PermissionDeniedError) else S.Err.UNAUTHENTICATED
                raise Close(code, f"credentials refused: {exc}") from None
        timeout_ms = options.get("session_timeout_ms", 0) or 0
        if not isinstance(timeout_ms, (int, float)) or isinstance(timeout_ms, bool) or not (
                timeout_ms == 0 or S.MIN_TIMEOUT_MS <= timeout_ms <= S.MAX_TIMEOUT_MS):
            raise Close(S.Err.INVALID_ARGUMENT, f"session_timeout_ms must be 0 (off) or {S.MIN_TIMEOUT_MS} to "
                        f"{S.MAX_TIMEOUT_MS}, got {_show(timeout_ms)}")
        self.client_name = str(options.get("client", ""))[:100]
        self._token, self._auth_checked = token, time.monotonic()
        self._hello = True
        if timeout_ms:
            self._session_timeout = timeout_ms / 1000.0
            self._start_watchdog()
        from viamlite import __version__

        info = {"version": min(version, S.VERSION), "server": f"viamlite {__version__}", "session": self.id,
                "max_frame": self.max_frame, "caps": ["call", "subscribe", "setpoints", "ping"],
                "time_ns": time.time_ns()}
        if token and options.get("key_id"):
            info["token"] = token
        log.info("fast-path session %d from %s%s", self.id, self.peer, f" ({self.client_name})" if self.client_name else "")
        return [S.RESULT, rid, info]

    def _on_resolve(self, msg: list) -> list:
        _, rid, name, api = msg
        if not isinstance(name, str) or not name:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"RESOLVE needs a resource name, got {_show(name)}")
        if api is not None and not isinstance(api, str):
            raise RequestError(S.Err.INVALID_ARGUMENT, f"RESOLVE's API must be a string or nil, got {_show(api)}")
        try:
            if api:
                parsed = API.parse(api) if ":" in api else API.component(api)
                resource = self.machine.resource(parsed, name)
            else:
                resource = self.machine.resource_by_name(name)
                parsed = resource.API
        except Exception as exc:
            raise RequestError(code_for(exc), str(exc)) from None
        key = (str(parsed), name)
        handle = self._by_name.get(key)
        if handle is None:
            if len(self._handles) > MAX_HANDLES:
                raise RequestError(S.Err.RESOURCE_EXHAUSTED, f"a connection may resolve at most {MAX_HANDLES} resources")
            handle = Handle(len(self._handles), parsed, name, resource)
            self._handles.append(handle)
            self._by_name[key] = handle
        return [handle.number, str(parsed), offered(resource, parsed.subtype)]

    def _handle(self, number: Any) -> Handle:
        try:
            handle = self._handles[number] if type(number) is int and number > 0 else None
        except IndexError:
            handle = None
        if handle is None:
            raise RequestError(S.Err.NOT_FOUND, f"unknown handle {_show(number)}; RESOLVE the resource's name first "
                               f"(this connection has handles 1 to {len(self._handles) - 1})")
        return handle

    def bound(self, handle: Handle, method: Any) -> Callable[[Any], Any]:
        """The call for ``method`` on the resource ``handle`` names now."""
        return self._lookup(handle, method)[0]

    def _bind(self, handle: Handle, method: Any) -> tuple[Callable[[Any], Any], S.MethodSpec, bool]:
        spec = S.BY_ID.get(method) if type(method) is int else None
        if spec is None:
            raise RequestError(S.Err.UNIMPLEMENTED, f"unknown method id {_show(method)}; see the method table in "
                               "docs/fastpath.md (RESOLVE lists the ids a resource offers)")
        try:
            fn = bind(handle.resource, handle.subtype, spec)
        except NotSupportedError as exc:
            raise RequestError(S.Err.UNIMPLEMENTED, str(exc)) from None
        handle.bound[method] = entry = (fn, spec, spec.long)
        return entry

    def _lookup(self, handle: Handle, method: Any) -> tuple[Callable[[Any], Any], S.MethodSpec]:
        if handle.resource._closed:  # removed or rebuilt by a reconfigure: look it up again
            try:
                resource = self.machine.resource(handle.api, handle.name)
            except Exception as exc:
                raise RequestError(code_for(exc), str(exc)) from None
            handle.resource = resource
            handle.bound.clear()
        entry = handle.bound.get(method)
        if entry is None:
            entry = self._bind(handle, method)
        return entry[0], entry[1]

    def _call(self, msg: list) -> tuple[Any] | None:
        _, rid, number, method, args = msg
        handle = self._handle(number)
        fn, spec = self._lookup(handle, method)
        if type(args) is not list:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"CALL arguments must be an array, got {_show(args)}")
        if spec.motion:
            self._moved[handle.name] = handle.resource
        if spec.long:
            self._start_long(rid, handle, spec, fn, args)
            return None
        try:
            return (fn(args),)
        except Exception as exc:
            raise RequestError(code_for(exc), describe(exc, f"{handle.subtype} {handle.name!r} {spec.name}")) from None

    def _start_long(self, rid: int, handle: Handle, spec: S.MethodSpec, fn: Callable[[Any], Any], args: list) -> None:
        if len(self._ops) >= MAX_LONG_CALLS:
            raise RequestError(S.Err.RESOURCE_EXHAUSTED, f"at most {MAX_LONG_CALLS} long calls may run at once "
                               "on one connection; wait for some to finish")
        operations = self.machine.operations
        op = operations.run(f"fastpath:{handle.subtype}.{spec.name}", args, session_id=f"fastpath-{self.id}")
        self._ops.add(op)

        def run() -> None:
            try:
                with op:
                    if self._closed:
                        op.cancel()
                    value = fn(args)
                message = [S.RESULT, rid, value]
            except Exception as exc:
                message = [S.ERROR, rid, code_for(exc), describe(exc, f"{handle.subtype} {handle.name!r} {spec.name}")]
            finally:
                self._ops.discard(op)
            self.send(self._pack(message))

        self.server.submit(run)

    def _new_channel(self) -> int:
        if len(self._channels) >= MAX_CHANNELS:
            raise RequestError(S.Err.RESOURCE_EXHAUSTED, f"a connection may hold at most {MAX_CHANNELS} subscriptions "
                               "and setpoint streams; close some")
        channel = self._next_channel
        self._next_channel += 1
        return channel

    def _on_subscribe(self, msg: list) -> int:
        _, rid, number, method, args, rate = msg
        handle = self._handle(number)
        _, spec = self._lookup(handle, method)
        if type(args) is not list:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"SUBSCRIBE arguments must be an array, got {_show(args)}")
        if spec.motion or spec.long:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"{spec.name} cannot be subscribed to: subscribe to a read "
                               "such as get_position or get_readings")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= S.MAX_RATE_HZ:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"rate_hz must be above 0 and at most {S.MAX_RATE_HZ:g}, "
                               f"got {_show(rate)}")
        channel = self._new_channel()
        sub = Subscription(self, channel, handle, spec, args, float(rate))
        self._channels[channel] = sub
        sub.start()
        return channel

    def _on_open_stream(self, msg: list) -> int:
        _, rid, number, method, timeout_ms = msg
        handle = self._handle(number)
        _, spec = self._lookup(handle, method)
        if spec.long or not spec.args:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"{spec.name} cannot take setpoints: use a quick method with "
                               "arguments, such as servo move or motor set_power")
        if not callable(getattr(handle.resource, "stop", None)):
            raise RequestError(S.Err.FAILED_PRECONDITION, f"{handle.subtype} {handle.name!r} cannot be stopped, so its "
                               "deadman could not act; setpoint streams need an actuator")
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, (int, float)) or not (
                S.MIN_TIMEOUT_MS <= timeout_ms <= S.MAX_TIMEOUT_MS):
            raise RequestError(S.Err.INVALID_ARGUMENT, f"timeout_ms must be {S.MIN_TIMEOUT_MS} to {S.MAX_TIMEOUT_MS}, "
                               f"got {_show(timeout_ms)}")
        channel = self._new_channel()
        stream = SetpointStream(channel, handle, spec, timeout_ms / 1000.0)
        self._channels[channel] = stream
        self._start_watchdog()
        return channel

    def _on_setpoint(self, msg: list) -> None:
        _, channel, seq, args = msg
        stream = self._channels.get(channel) if type(channel) is int else None
        if type(stream) is not SetpointStream:
            self._event(channel if type(channel) is int else 0, seq, S.Err.NOT_FOUND,
                        f"no setpoint stream {_show(channel)} on this connection; OPEN_STREAM first")
            return
        if type(seq) is not int or type(args) is not list:
            self._event(channel, 0, S.Err.INVALID_ARGUMENT, "SETPOINT is [7, stream, seq (integer), [args]]")
            return
        if seq <= stream.last_seq:
            stream.stale += 1  # late or duplicate: a newer setpoint already applied
            return
        stream.last_seq = seq
        handle, spec = stream.handle, stream.spec
        try:
            fn, _ = self._lookup(handle, spec.id)
            if spec.motion:
                self._moved[handle.name] = handle.resource
            fn(args)
        except RequestError as exc:
            self._event(channel, seq, exc.code, exc.message)
        except Exception as exc:
            self._event(channel, seq, code_for(exc), describe(exc, f"{handle.subtype} {handle.name!r} {spec.name}"))
        stream.deadline = time.monotonic() + stream.timeout
        stream.tripped = False

    def _on_close_channel(self, msg: list, kind: type) -> None:
        channel = msg[2]
        item = self._channels.get(channel) if type(channel) is int else None
        if type(item) is not kind:
            what = "subscription" if kind is Subscription else "setpoint stream"
            raise RequestError(S.Err.NOT_FOUND, f"no {what} {_show(channel)} on this connection")
        del self._channels[channel]
        item.stop()

    def _event(self, channel: int, seq: Any, code: int, message: str) -> None:
        self.send(self._pack([S.EVENT, channel, seq if type(seq) is int else 0, code, message]))

    # -- deadman and session watchdog -----------------------------------------------------
    def _start_watchdog(self) -> None:
        with self._state:
            if self._watchdog is None:
                self._watchdog = threading.Thread(target=self._watch, name=f"fastpath-deadman-{self.id}", daemon=True)
                self._watchdog.start()
            self._state.notify_all()

    def _watch(self) -> None:
        with self._state:
            while not self._closed:
                now = time.monotonic()
                due: float | None = None
                for item in list(self._channels.values()):
                    if type(item) is SetpointStream and not item.tripped:
                        if item.deadline <= now:
                            self._trip(item)
                        elif due is None or item.deadline < due:
                            due = item.deadline
                if self._session_timeout and not self._session_expired:
                    expires = self._last_rx + self._session_timeout
                    if expires <= now:
                        self._expire_session()
                    elif due is None or expires < due:
                        due = expires
                self._state.wait(None if due is None else max(0.0, due - time.monotonic()))

    def _trip(self, stream: SetpointStream) -> None:
        stream.tripped = True
        handle = stream.handle
        late = (time.monotonic() - stream.deadline + stream.timeout) * 1000
        try:
            handle.resource.stop()
            message = (f"deadman: no setpoint for {late:.0f} ms (timeout {stream.timeout * 1000:g} ms); "
                       f"stopped {handle.subtype} {handle.name!r}")
            log.warning("fast-path session %d: %s", self.id, message)
            self._event(stream.channel, stream.last_seq, S.Err.DEADLINE_EXCEEDED, message)
        except Exception as exc:
            log.error("fast-path deadman could not stop %s: %s", handle.name, exc)
            self._event(stream.channel, stream.last_seq, code_for(exc), describe(exc, f"deadman stop of {handle.name!r}"))

    def _expire_session(self) -> None:
        self._session_expired = True
        names = self._stop_moved("session timeout")
        self._event(0, 0, S.Err.DEADLINE_EXCEEDED, f"session: nothing received for {self._session_timeout * 1000:g} ms; "
                    f"stopped {', '.join(names) or 'nothing (no resource was moved)'}")

    # -- ending -------------------------------------------------------------------------
    def _stop_moved(self, why: str) -> list[str]:
        names = []
        # Taken out one by one, so a resource moved meanwhile (on the connection's thread)
        # stays listed for the next stop rather than being forgotten.
        for name in list(self._moved):
            resource = self._moved.pop(name, None)
            if resource is None:
                continue
            try:
                resource.stop()
                names.append(name)
            except Exception as exc:
                log.warning("fast-path session %d: stopping %s (%s) failed: %s", self.id, name, why, exc)
        if names:
            self.stopped_at = time.monotonic()
            log.info("fast-path session %d: stopped %s (%s)", self.id, ", ".join(names), why)
        return names

    def close(self, reason: str = "closed by the server") -> None:
        """End the session: stop subscriptions, cancel long calls, stop what it moved, close."""
        with self._state:
            if self._closed:
                return
            self._closed = True
            self.close_reason = reason
            self._state.notify_all()
        for item in list(self._channels.values()):
            item.stop()
        self._channels.clear()
        for op in list(self._ops):
            op.cancel()
        self._stop_moved(f"connection ended: {reason}")
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        log.info("fast-path session %d from %s ended: %s", self.id, self.peer, reason)
        self.server._forget(self)

    def shutdown(self, reason: str) -> None:
        """Ask the connection's thread to end (used by the server when it stops)."""
        if not self._closed:
            self.send(self.frame(msgpack.packb([S.GOODBYE, S.Err.UNAVAILABLE, reason])))
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    @property
    def closed(self) -> bool:
        return self._closed


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


__all__ = ["Connection", "Handle", "Subscription", "SetpointStream"]
