"""The sync client's I/O: a blocking socket (or a serial port dressed as one), the reading
turn that threads hand each other, and waiting. The protocol is
:class:`~viamlite.fastpath.clientprotocol.ClientProtocol`'s; the API is
:class:`~viamlite.fastpath.client.FastPathClient`'s, built on :class:`BlockingSession`.

No background thread unless a subscription has a callback: whichever thread waits for
something reads the socket and hands other threads what it read (leader/follower), so a
call costs one write and one read.

The round trip of a lone caller is the hot path: one lock taken to lead, the request
packed by the protocol's kept packer (msgpack's ``packb`` sets up a buffer per call) and
sent, one ``recv`` on a blocking socket whose kernel receive timeout bounds it (no
``settimeout`` or ``select`` per call), the read decoded (one whole frame skips the general
frame decoder) under one lock that also hands the turn back; waiting threads are woken
only if there are any.
"""
from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from viamlite.address import split_host_port
from viamlite.fastpath import schema as S
from viamlite.fastpath.clientprotocol import ClientChannel, ClientProtocol, ProtocolView, result_of
from viamlite.fastpath.errors import ConnectionClosedError, FastPathError, error_for
from viamlite.fastpath.proxy import Event, Handle
from viamlite.state import ConnectionState

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.fastpath.streams import SetpointStream, Subscription

log = logging.getLogger("viamlite.fastpath")
#: Bytes asked of one recv. Python allocates this much for every recv and shrinks it to
#: what came; 256 KiB, above glibc's mmap threshold, cost a page fault or more per call
#: (measured: 20 us more kernel time per round trip), 64 KiB stays on the heap.
RECV_BYTES = 65536
_RESULT = S.RESULT
_pack_timeval = struct.Struct("ll").pack


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


def _run_callbacks(due: list) -> None:
    for fn, sample in due:
        try:
            fn(sample)
        except Exception:  # a callback's bug must not stop the reader
            log.exception("subscription callback failed")


class BlockingSession(ProtocolView):
    """A fast-path session's blocking I/O; thread-safe. See the module docstring."""

    def __init__(self, sock: socket.socket, *, framing: str = "stream", timeout: float = 10.0,
                 max_frame: int | None = None) -> None:
        self.sock = sock
        self.timeout = timeout
        self.protocol = proto = ClientProtocol(serial=framing == "serial", max_frame=max_frame)
        proto.connection_made()
        self.serial = proto.serial
        self._encode = proto.send
        self._receive = proto.receive
        self._send_lock = threading.Lock()  # also guards the protocol's packer and ids
        # a plain lock under the condition: the hot path takes the lock alone, cheaper than
        # the condition's own (reentrant, entered through Python) context manager; it guards
        # the protocol's receiving side and the replies
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._waiters = 0  # threads waiting on the condition; nobody to wake: no notify
        self._reading = False
        self._replies: dict[int, list] = {}
        self._abandoned: set[int] = set()  # ids whose caller gave up: their late replies are dropped
        self._handles: dict[tuple[str, str], Handle] = {}
        self._specs: dict[tuple[str, str], S.MethodSpec] = {}  # (api, method name) -> spec
        self._sock_timeout: float | None = -1.0
        self._rcvtimeo = -1.0
        self._background: threading.Thread | None = None
        self.events: list[Event] = proto.events  # session events (channel 0), such as a session timeout

    # -- sending --------------------------------------------------------------------------
    def _sent(self, encode: Callable[[], bytes]) -> None:
        """Send what ``encode()`` gives, under the send lock (which also guards the packer)."""
        proto = self.protocol
        if proto.closed:
            raise proto.closed_error()
        try:
            with self._send_lock:
                self.sock.sendall(encode())
        except OSError as exc:
            self._lost(f"sending failed: {exc}")
            raise proto.closed_error() from None

    def _send(self, data: bytes) -> None:
        """Send bytes as they are (frames made elsewhere)."""
        self._sent(lambda: data)

    def _send_message(self, message: list, channel: ClientChannel | None = None) -> int:
        """Pack, frame and send ``message``; returns its request id."""
        proto = self.protocol
        if proto.closed:
            raise proto.closed_error()
        try:
            with self._send_lock:
                self.sock.sendall(self._encode(message, channel))
        except OSError as exc:
            self._lost(f"sending failed: {exc}")
            raise proto.closed_error() from None
        return message[1]

    def _send_many(self, messages: list[list]) -> None:
        self._sent(lambda: self.protocol.send_many(messages))

    def _send_setpoint(self, stream: "SetpointStream", args: tuple) -> int:
        self._sent(lambda: self.protocol.setpoint(stream, args))
        return stream.seq

    def _lost(self, reason: str) -> None:
        with self._cond:
            self.protocol.connection_lost(reason)
            self._cond.notify_all()

    # -- requests and replies -------------------------------------------------------------
    def _request(self, message: list, timeout: float | None = None, channel: ClientChannel | None = None) -> Any:
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
                proto = self.protocol
                try:
                    if proto.closed:
                        raise proto.closed_error()
                    try:  # _send_message, inline: one Python call less per round trip
                        with self._send_lock:
                            self.sock.sendall(self._encode(message, channel))
                    except OSError as exc:
                        self._lost(f"sending failed: {exc}")
                        raise proto.closed_error() from None
                    reply = self._read_reply(message[1], timeout)  # hands the reading turn back
                except BaseException as exc:
                    with lock:
                        if isinstance(exc, TimeoutError):
                            self._abandoned.add(message[1])
                        self._reading = False
                        if self._waiters:
                            self._cond.notify_all()
                    raise
                if reply[0] == _RESULT:
                    return reply[2]
                raise error_for(reply[2], reply[3])
        rid = self._send_message(message, channel)
        replies = self._replies
        if rid not in replies:
            try:
                self._pump(lambda: rid in replies, timeout)
            except TimeoutError:
                with self._lock:
                    if replies.pop(rid, None) is None:
                        self._abandoned.add(rid)
                raise
        with self._lock:
            reply = replies.pop(rid)
        return result_of(reply)

    def _keep(self, msg: list) -> None:
        """Hold a reply for its caller (under the lock); a reply nobody waits for any more is dropped."""
        rid = msg[1]
        if rid in self._abandoned:
            self._abandoned.discard(rid)
        else:
            self._replies[rid] = msg

    def _open_channel(self, message: list, channel: ClientChannel) -> None:
        """SUBSCRIBE or OPEN_STREAM for ``channel``, registered before the request leaves."""
        try:
            self._request(message, None, channel)
        finally:
            if message[1] is not None:
                with self._lock:
                    self.protocol.abandon(message[1])

    def _read_reply(self, rid: int, timeout: float) -> list:
        """Read until the reply ``rid`` arrives (the caller holds the reading turn, and on
        return no longer does; on an exception it still does)."""
        deadline = 0.0
        remaining = timeout
        sock, lock, replies, proto, receive = self.sock, self._lock, self._replies, self.protocol, self._receive
        while True:
            if proto.closed:
                raise proto.closed_error()
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
            except (socket.timeout, BlockingIOError):
                continue
            except OSError as exc:
                self._lost(f"connection error: {exc}")
                continue
            with lock:
                got = receive(data)
                if len(got) == 1 and got[0][1] == rid and not proto.callbacks:
                    self._reading = False  # the reply alone: hand the reading turn back
                    if self._waiters:
                        self._cond.notify_all()
                    return got[0]
                for msg in got:
                    self._keep(msg)
                reply = replies.pop(rid, None)
                if reply is not None:
                    self._reading = False
                if self._waiters or proto.closed:
                    self._cond.notify_all()  # another thread's reply or samples may be among them
                due = proto.take_callbacks() if proto.callbacks else None
            if due:
                _run_callbacks(due)
            if reply is not None:
                return reply

    def _pump(self, done: Callable[[], bool], timeout: float, poll: bool = False) -> None:
        """Read until ``done()``; one thread reads at a time, the others wait for what it reads."""
        deadline = time.monotonic() + timeout
        cond, proto = self._cond, self.protocol
        while True:
            with cond:
                while True:
                    if done() and not poll:
                        return
                    if proto.closed:
                        raise proto.closed_error()
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
            data: bytes | None = None
            failure = ""
            remaining = max(0.0, deadline - time.monotonic())
            try:
                self._recv_timeout(0.0 if poll else (1.0 if remaining >= 1.0 else max(0.001, round(remaining, 3))))
                data = self.sock.recv(RECV_BYTES)
            except (socket.timeout, BlockingIOError):
                pass
            except OSError as exc:
                failure = f"connection error: {exc}"
            with cond:
                self._reading = False
                if data is not None:
                    for msg in proto.receive(data):
                        self._keep(msg)
                if failure:
                    proto.connection_lost(failure)
                cond.notify_all()
                due = proto.take_callbacks() if proto.callbacks else None
            if due:
                _run_callbacks(due)
            if poll and not data:
                return
            if not poll and time.monotonic() >= deadline:
                with cond:
                    if done():
                        return
                raise TimeoutError(f"no reply from the fast-path server within {timeout:g} s")

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
                                 _pack_timeval(whole, int((seconds - whole) * 1e6)))
            self._rcvtimeo = seconds

    # -- channels -------------------------------------------------------------------------
    def _unsubscribe(self, sub: "Subscription") -> None:
        with self._cond:
            self.protocol.forget(sub)
        if not self.protocol.closed:
            self._request([S.UNSUBSCRIBE, None, sub.channel])

    def _close_stream(self, stream: "SetpointStream") -> None:
        self._request([S.CLOSE_STREAM, None, stream.channel])
        with self._cond:
            self.protocol.forget(stream)

    def _ensure_background(self) -> None:
        if self._background is None:
            proto = self.protocol

            def run() -> None:
                try:
                    self._pump(lambda: proto.closed, 1e9)
                except (FastPathError, TimeoutError, OSError):
                    pass

            self._background = threading.Thread(target=run, name="fastpath-client-reader", daemon=True)
            self._background.start()

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        """Say goodbye and close (the server stops what this session moved)."""
        proto = self.protocol
        if proto.state is ConnectionState.CLOSED:
            return
        if not proto.closed:
            try:
                with self._send_lock:
                    self.sock.sendall(proto.goodbye())
            except OSError:
                pass
        with self._cond:
            proto.close("closed by the client")
            self._cond.notify_all()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()



__all__ = ["BlockingSession", "open_socket", "RECV_BYTES"]
