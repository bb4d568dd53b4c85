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

No background thread unless a subscription has a callback: whichever thread waits for
something reads the socket and hands other threads what it read (leader/follower), so a
call costs one write and one read.

The round trip of a lone caller is the hot path: one lock taken to lead, the request
packed by a packer the client keeps (msgpack's ``packb`` sets up a 128 KiB buffer per
call) and sent, one ``recv`` on a blocking socket whose kernel receive timeout bounds it
(no ``settimeout`` or ``select`` per call), a reply that is the whole read decoded
without the general frame decoder, and one lock taken to hand the turn back; waiting
threads are woken only if there are any.
"""
from __future__ import annotations

import collections
import itertools
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import msgpack

from viamlite.address import split_host_port
from viamlite.fastpath import schema as S
from viamlite.fastpath.dispatch import to_wire
from viamlite.fastpath.errors import (
    AuthError,
    ConnectionClosedError,
    FastPathError,
    ProtocolError,
    error_for,
)
from viamlite.fastpath.framing import (
    SerialDecoder,
    StreamDecoder,
    encode_serial,
    encode_stream,
)
from viamlite.fastpath.proxy import Event, Handle, Sample, method_spec, proxy_class

_unpackb = msgpack.unpackb
_unpack_len = struct.Struct(">I").unpack_from
_BY_ID = S.BY_ID
#: Bytes asked of one recv. Python allocates this much for every recv and shrinks it to
#: what came; 256 KiB, above glibc's mmap threshold, cost a page fault or more per call
#: (measured: 20 us more kernel time per round trip), 64 KiB stays on the heap.
RECV_BYTES = 65536
_RESULT, _ERROR = S.RESULT, S.ERROR


def open_socket(address: str, timeout: float) -> socket.socket:
    """Connect to ``HOST:PORT``, ``unix:PATH`` or an absolute path (a unix socket)."""
    if address.startswith("unix:") or address.startswith("/"):
        path = address[5:] if address.startswith("unix:") else address
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: Any = path
    else:
        host, port = split_host_port(address)
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        target = (host, port)
    sock.settimeout(timeout)
    try:
        sock.connect(target)
    except OSError as exc:
        sock.close()
        raise ConnectionClosedError(f"cannot connect to the fast path at {address}: {exc}; is `viamlite serve` "
                                    "running, and is this its fast-path address (its banner line says)?") from None
    return sock


def hello_options(token: str | None, key_id: str | None, key: str | None, session_timeout: float | None,
                  client_name: str) -> dict[str, Any]:
    options: dict[str, Any] = {"client": client_name}
    if token:
        options["token"] = token
    if key_id:
        options["key_id"], options["key"] = key_id, key or ""
    if session_timeout:
        options["session_timeout_ms"] = int(session_timeout * 1000)
    return options


class Subscription:
    """Samples of one subscription: iterate it (blocks for the next) or give a callback.

    ``missed`` counts sequence numbers that never arrived; ``events`` holds failed samples.
    """

    def __init__(self, client: "FastPathClient", channel: int, rate_hz: float,
                 callback: Callable[[Sample], None] | None, maxlen: int) -> None:
        self.client, self.channel, self.rate_hz, self.callback = client, channel, rate_hz, callback
        self.queue: collections.deque[Sample] = collections.deque(maxlen=maxlen)
        self.events: list[Event] = []
        self.received = 0
        self.missed = 0
        self.last_seq = -1
        self.closed = False

    def _push(self, sample: Sample) -> None:
        if self.last_seq >= 0 and sample.seq > self.last_seq + 1:
            self.missed += sample.seq - self.last_seq - 1
        self.last_seq = sample.seq
        self.received += 1
        if self.callback is None:
            self.queue.append(sample)

    def __iter__(self) -> Iterator[Sample]:
        return self

    def __next__(self) -> Sample:
        return self.next(timeout=None)

    def next(self, timeout: float | None = None) -> Sample:
        """The next sample; StopIteration once closed, TimeoutError after ``timeout`` s."""
        if timeout is None:
            timeout = max(self.client.timeout, 20.0 / self.rate_hz)
        queue = self.queue
        if not queue:
            self.client._pump(lambda: bool(queue) or self.closed, timeout)
        if queue:
            return queue.popleft()
        raise StopIteration

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.client._unsubscribe(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SetpointStream:
    """Send setpoints with :meth:`send`; the server's deadman stops the resource when they stop."""

    def __init__(self, client: "FastPathClient", channel: int, spec: S.MethodSpec, timeout: float) -> None:
        self.client, self.channel, self.spec, self.timeout = client, channel, spec, timeout
        self.seq = 0
        self.events: list[Event] = []
        self.closed = False

    def send(self, *args: Any) -> int:
        """Send one setpoint (no reply); returns its sequence number."""
        if self.closed:
            raise ConnectionClosedError(f"setpoint stream {self.channel} is closed")
        self.seq += 1
        self.client._send_message([S.SETPOINT, self.channel, self.seq, args])
        return self.seq

    def poll(self) -> list[Event]:
        """Read what has arrived without waiting; returns this stream's events so far."""
        self.client._pump(lambda: True, 0.0, poll=True)
        return list(self.events)

    def wait_event(self, timeout: float) -> Event:
        """Block until the server reports an event on this stream (a deadman stop, a failed setpoint)."""
        count = len(self.events)
        self.client._pump(lambda: len(self.events) > count, timeout)
        return self.events[count]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.client._request([S.CLOSE_STREAM, None, self.channel])

    def __enter__(self) -> "SetpointStream":
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.client.closed:
            self.close()


class FastPathClient:
    """A fast-path session. Thread-safe; :meth:`connect` opens one."""

    def __init__(self, sock: socket.socket, *, framing: str = "stream", timeout: float = 10.0,
                 max_frame: int | None = None) -> None:
        self.sock = sock
        self.timeout = timeout
        self.serial = framing == "serial"
        self._frame = encode_serial if self.serial else encode_stream
        self._decoder: StreamDecoder | SerialDecoder = (
            SerialDecoder(max_frame or S.MAX_SERIAL_FRAME) if self.serial else StreamDecoder(max_frame or S.MAX_STREAM_FRAME))
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()  # also guards the packer
        self._pack = msgpack.Packer(default=to_wire).pack
        # a plain lock under the condition: the hot path takes the lock alone, cheaper than
        # the condition's own (reentrant, entered through Python) context manager
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._waiters = 0  # threads waiting on the condition; nobody to wake: no notify
        self._reading = False
        self._replies: dict[int, list] = {}
        self._channels: dict[int, Subscription | SetpointStream] = {}
        self._handles: dict[tuple[str, str], Handle] = {}
        self._specs: dict[tuple[str, str], S.MethodSpec] = {}  # (api, method name) -> spec
        self._pending_subs: dict[int, Subscription] = {}
        self._sock_timeout: float | None = -1.0
        self._rcvtimeo = -1.0
        self._background: threading.Thread | None = None
        self._closed = False
        self.close_reason = ""
        self.events: list[Event] = []  # session events (channel 0), such as a session timeout
        self.info: dict[str, Any] = {}

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
            self.info = self._request([S.HELLO, None, S.VERSION,
                                       hello_options(token, key_id, key, session_timeout, client_name)])
        except ConnectionClosedError as exc:
            if exc.code in (S.Err.UNAUTHENTICATED, S.Err.PERMISSION_DENIED):
                raise AuthError(str(exc), exc.code) from None
            raise
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
        with self._cond:
            first = next(self._ids)
            self._ids = itertools.count(first + count)
        pack = msgpack.Packer(default=to_wire).pack
        frame, number, mid = self._frame, handle.number, spec.id
        replies = self._replies
        limit = timeout or self.timeout
        previous_last = None
        for start in range(0, count, window):
            stop = min(count, start + window)
            self._send(b"".join([frame(pack([S.CALL, first + i, number, mid, list(calls[i])]))
                                 for i in range(start, stop)]))
            if previous_last is not None and previous_last not in replies:  # keep one window ahead
                self._pump(lambda last=previous_last: last in replies, limit)
            previous_last = first + stop - 1
        wanted = range(first, first + count)
        if count:
            self._pump(lambda: previous_last in replies and all(i in replies for i in wanted), limit)
        with self._cond:
            msgs = [replies.pop(i) for i in wanted]
        return [self._result(m) for m in msgs]

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
        with self._cond:  # registered before the reply, so no early sample is lost
            rid = next(self._ids)
            self._pending_subs[rid] = sub
        try:
            self._request([S.SUBSCRIBE, rid, handle.number, spec.id, list(args), rate_hz])
        finally:
            with self._cond:
                self._pending_subs.pop(rid, None)
        if callback is not None:
            self._ensure_background()
        return sub

    def setpoints(self, handle: Handle | str, method: int | str, *, timeout: float = 0.1) -> SetpointStream:
        """Open a setpoint stream; no setpoint for ``timeout`` s makes the server stop the resource."""
        if isinstance(handle, str):
            handle = self.resolve(handle)
        spec = method_spec(handle.subtype, method)
        channel = self._request([S.OPEN_STREAM, None, handle.number, spec.id, round(timeout * 1000)])
        stream = SetpointStream(self, channel, spec, timeout)
        with self._cond:
            self._channels[channel] = stream
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

    # -- plumbing -------------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        if self._closed:
            raise ConnectionClosedError(f"the fast-path connection is closed: {self.close_reason}")
        try:
            with self._send_lock:
                self.sock.sendall(data)
        except OSError as exc:
            self._mark_closed(f"sending failed: {exc}")
            raise ConnectionClosedError(f"the fast-path connection is closed: {self.close_reason}") from None

    def _send_message(self, message: list) -> None:
        """Pack, frame and send ``message`` (the packer is the client's, used under the send lock)."""
        if self._closed:
            raise ConnectionClosedError(f"the fast-path connection is closed: {self.close_reason}")
        try:
            with self._send_lock:
                self.sock.sendall(self._frame(self._pack(message)))
        except OSError as exc:
            self._mark_closed(f"sending failed: {exc}")
            raise ConnectionClosedError(f"the fast-path connection is closed: {self.close_reason}") from None

    def _request(self, message: list, timeout: float | None = None) -> Any:
        rid = message[1]
        if rid is None:
            rid = message[1] = next(self._ids)
        if timeout is None:
            timeout = self.timeout
        if self._background is None and not self._reading:
            # The common case, a loop on one thread: nobody else reads, so this thread sends
            # and reads its own reply, with no hand-over between threads.
            lock = self._lock
            with lock:
                mine = not self._reading
                if mine:
                    self._reading = True
            if mine:
                try:
                    self._send_message(message)
                    reply = self._read_reply(rid, timeout)  # hands the reading turn back
                except BaseException:
                    with lock:
                        self._reading = False
                        if self._waiters:
                            self._cond.notify_all()
                    raise
                if reply[0] == _RESULT:
                    return reply[2]
                raise error_for(reply[2], reply[3])
        self._send_message(message)
        replies = self._replies
        if rid not in replies:
            self._pump(lambda: rid in replies, timeout)
        with self._lock:
            reply = replies.pop(rid)
        return self._result(reply)

    def _read_reply(self, rid: int, timeout: float) -> list:
        """Read until the reply ``rid`` arrives (the caller holds the reading turn, and on
        return no longer does; on an exception it still does)."""
        deadline = 0.0
        remaining = timeout
        sock, decoder, lock, replies = self.sock, self._decoder, self._lock, self._replies
        single = not self.serial  # a stream read that is exactly one frame skips the decoder
        limit = decoder.max_frame
        while True:
            if self._closed:
                raise ConnectionClosedError(f"the fast-path connection is closed: {self.close_reason}",
                                            self._close_code)
            if deadline:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no reply from the fast-path server within {timeout:g} s")
            else:
                deadline = time.monotonic() + timeout
            wait = 1.0 if remaining >= 1.0 else max(0.001, round(remaining, 3))
            if wait != self._rcvtimeo or self._sock_timeout is not None:
                self._recv_timeout(wait)
            try:
                data = sock.recv(RECV_BYTES)
                if not data:
                    frames = None
                elif single and len(data) > 4 and _unpack_len(data)[0] == len(data) - 4 <= limit \
                        and not decoder.pending:
                    frames = [data[4:]]
                else:
                    frames = decoder.feed(data)
            except (socket.timeout, BlockingIOError):
                continue
            except ProtocolError as exc:
                self._mark_closed(f"bad frame from the server: {exc}")
                continue
            except OSError as exc:
                self._mark_closed(f"connection error: {exc}")
                continue
            if frames is None:
                self._mark_closed("the server closed the connection")
                continue
            if len(frames) == 1 and not self._pending_subs:
                msg = _unpackb(frames[0])
                if type(msg) is list and len(msg) > 2 and msg[1] == rid and (msg[0] == _RESULT or msg[0] == _ERROR):
                    with lock:  # the reply alone: hand the reading turn back
                        self._reading = False
                        if self._waiters:
                            self._cond.notify_all()
                    return msg
                frames = None
                callbacks: list = []
                with lock:
                    self._dispatch_message(msg, callbacks)
                    reply = replies.pop(rid, None)
                    if reply is not None:
                        self._reading = False
                    if self._waiters:
                        self._cond.notify_all()  # another thread's reply or samples may be among them
            else:
                callbacks = []
                with lock:
                    for payload in frames:
                        self._dispatch(payload, callbacks)
                    reply = replies.pop(rid, None)
                    if reply is not None:
                        self._reading = False
                    if self._waiters:
                        self._cond.notify_all()
            for fn, sample in callbacks:
                try:
                    fn(sample)
                except Exception:  # a callback's bug must not stop the reader
                    import logging

                    logging.getLogger("viamlite.fastpath").exception("subscription callback failed")
            if reply is not None:
                return reply

    @staticmethod
    def _result(reply: list) -> Any:
        if reply[0] == S.RESULT:
            return reply[2]
        raise error_for(reply[2], reply[3])

    def _pump(self, done: Callable[[], bool], timeout: float, poll: bool = False) -> None:
        """Read until ``done()``; one thread reads at a time, the others wait for what it reads."""
        deadline = time.monotonic() + timeout
        cond = self._cond
        while True:
            with cond:
                while True:
                    if done() and not poll:
                        return
                    if self._closed:
                        raise ConnectionClosedError(f"the fast-path connection is closed: {self.close_reason}",
                                                    self._close_code)
                    if not self._reading:
                        self._reading = True
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        if poll:
                            return
                        raise TimeoutError(f"no reply from the fast-path server within {timeout:g} s")
                    self._waiters += 1
                    try:
                        cond.wait(remaining)
                    finally:
                        self._waiters -= 1
            frames: list[bytes] = []
            failure = ""
            remaining = max(0.0, deadline - time.monotonic())
            try:
                self._recv_timeout(0.0 if poll else (1.0 if remaining >= 1.0 else max(0.001, round(remaining, 3))))
                data = self.sock.recv(RECV_BYTES)
                if data:
                    frames = self._decoder.feed(data)
                else:
                    failure = "the server closed the connection"
            except (socket.timeout, BlockingIOError):
                pass
            except ProtocolError as exc:
                failure = f"bad frame from the server: {exc}"
            except OSError as exc:
                failure = f"connection error: {exc}"
            callbacks = []
            with cond:
                self._reading = False
                for payload in frames:
                    self._dispatch(payload, callbacks)
                if failure and not self._closed:
                    self._mark_closed(failure)
                cond.notify_all()
            for fn, sample in callbacks:
                try:
                    fn(sample)
                except Exception:  # a callback's bug must not stop the reader
                    import logging

                    logging.getLogger("viamlite.fastpath").exception("subscription callback failed")
            if poll and not frames:
                return
            if not poll and time.monotonic() >= deadline:
                with cond:
                    if done():
                        return
                raise TimeoutError(f"no reply from the fast-path server within {timeout:g} s")

    _close_code: int = S.Err.UNAVAILABLE

    def _recv_timeout(self, seconds: float) -> None:
        """Bound the next recv. A blocking socket with a kernel receive timeout (SO_RCVTIMEO)
        costs one system call per read; Python's own socket timeout costs three."""
        if seconds == 0.0:
            if self._sock_timeout != 0.0:
                self.sock.settimeout(0.0)
                self._sock_timeout = 0.0
            return
        if self._sock_timeout is not None:
            self.sock.settimeout(None)
            self._sock_timeout = None
        if seconds != self._rcvtimeo:
            whole = int(seconds)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                 struct.pack("ll", whole, int((seconds - whole) * 1e6)))
            self._rcvtimeo = seconds

    def _dispatch(self, payload: bytes, callbacks: list) -> None:
        self._dispatch_message(_unpackb(payload), callbacks)

    def _dispatch_message(self, msg: Any, callbacks: list) -> None:
        kind = msg[0]
        if kind == S.RESULT or kind == S.ERROR:
            if self._pending_subs:
                sub = self._pending_subs.pop(msg[1], None)
                if sub is not None and kind == S.RESULT:
                    sub.channel = msg[2]
                    self._channels[msg[2]] = sub
            self._replies[msg[1]] = msg
        elif kind == S.SAMPLE:
            sub = self._channels.get(msg[1])
            if type(sub) is Subscription:
                sample = Sample(msg[2], msg[3], msg[4])
                sub._push(sample)
                if sub.callback is not None:
                    callbacks.append((sub.callback, sample))
        elif kind == S.EVENT:
            event = Event(msg[1], msg[2], msg[3], msg[4])
            channel = self._channels.get(msg[1])
            (channel.events if channel is not None else self.events).append(event)
        elif kind == S.GOODBYE:
            self._close_code = msg[1]
            self._mark_closed(f"the server closed the connection: {msg[2]}")

    def _mark_closed(self, reason: str) -> None:
        if not self._closed:
            self._closed = True
            self.close_reason = reason
            for channel in self._channels.values():
                channel.closed = True

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._cond:
            self._channels.pop(sub.channel, None)
        if not self._closed:
            self._request([S.UNSUBSCRIBE, None, sub.channel])

    def _ensure_background(self) -> None:
        if self._background is None:
            def run() -> None:
                try:
                    self._pump(lambda: self._closed, 1e9)
                except (FastPathError, TimeoutError, OSError):
                    pass

            self._background = threading.Thread(target=run, name="fastpath-client-reader", daemon=True)
            self._background.start()

    # -- lifetime -------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Say goodbye and close (the server stops what this session moved)."""
        if self._closed:
            return
        try:
            with self._send_lock:
                self.sock.sendall(self._frame(msgpack.packb([S.GOODBYE, S.Err.OK, "client closed"])))
        except OSError:
            pass
        with self._cond:
            self._mark_closed("closed by the client")
            self._cond.notify_all()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> "FastPathClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
