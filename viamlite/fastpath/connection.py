"""One fast-path connection's I/O: a non-blocking socket served by the loop.

Reads are decoded into payloads and handed to the session's
:class:`~viamlite.fastpath.serverprotocol.ServerProtocol`; what it answers is written at
once. :meth:`Connection.write` may be called from any thread (long calls finish on the
pool); what the socket does not take at once is queued and written when it drains. A
client that stops reading while replies pile up past ``MAX_QUEUED_BYTES`` is closed.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import msgpack

from viamlite.fastpath import schema as S
from viamlite.fastpath.errors import FrameTooLarge
from viamlite.fastpath.framing import SerialDecoder, StreamDecoder, encode_serial, encode_stream
from viamlite.fastpath.handshake import Close
from viamlite.fastpath.reactor import WRITE
from viamlite.fastpath.serverprotocol import ServerProtocol
from viamlite.state import ConnectionState

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.fastpath.reactor import Timer
    from viamlite.fastpath.server import FastPathServer

log = logging.getLogger("viamlite.fastpath")
#: Bytes waiting for a client that does not read, beyond which its connection is closed.
MAX_QUEUED_BYTES = 16 << 20
_RECV = 65536
_buffers = threading.local()


def _buffer() -> memoryview:
    """This loop thread's receive buffer: reads go into it and only what arrived is copied
    out, so no large block is allocated and shrunk per read (which fragments the C heap)."""
    try:
        return _buffers.view
    except AttributeError:
        _buffers.view = view = memoryview(bytearray(_RECV))
        return view


class Connection:
    """A session on one socket, served by the server's loop from :meth:`start` until it ends."""

    def __init__(self, server: "FastPathServer", sock: socket.socket, peer: str, *, remote: bool,
                 framing: str = "stream") -> None:
        if framing not in ("stream", "serial"):
            raise ValueError(f"framing must be 'stream' or 'serial', not {framing!r}")
        self.server = server
        self.reactor = server.reactor
        self.sock = sock
        self.fd = sock.fileno()
        self.peer = peer
        self.serial = framing == "serial"
        self.frame: Callable[[bytes], bytes] = encode_serial if self.serial else encode_stream
        self.max_frame = server.max_serial_frame if self.serial else server.max_frame
        self.decoder = SerialDecoder(self.max_frame) if self.serial else StreamDecoder(self.max_frame)
        self._out: deque[bytes] = deque()
        self._queued = 0
        self._wlock = threading.Lock()
        self._closed = False
        self._timer: "Timer | None" = None
        self._last_rx = time.monotonic()
        self.close_reason = ""
        self.protocol = ServerProtocol(self, remote=remote, serial=self.serial)
        self.id = self.protocol.id

    # -- what tests and the server look at ------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        return ConnectionState.CLOSED if self._closed else self.protocol.state

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def _channels(self) -> dict:
        return self.protocol.channels.items

    @property
    def stopped_at(self) -> float | None:
        return self.protocol.stopped_at

    @property
    def key_id(self) -> str:
        return self.protocol.key_id

    # -- starting -------------------------------------------------------------------------
    def start(self) -> None:
        self.sock.setblocking(False)
        self.reactor.register(self.fd, self._on_ready)
        self._timer = self.reactor.call_later(self.server.hello_timeout, self._check_timeouts)

    def refuse(self, code: int, reason: str) -> None:
        """Answer a connection that will not be served with GOODBYE, and close it."""
        try:
            self.sock.setblocking(False)
            self.sock.send(self.frame(msgpack.packb([S.GOODBYE, code, reason])))
        except OSError:
            pass
        self._closed = True
        self.close_reason = reason
        self.sock.close()

    def hello_accepted(self) -> None:
        """HELLO is done: its deadline is off (a pending timer would also keep the loop on
        its microsecond wait)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- reading --------------------------------------------------------------------------
    def _on_ready(self, events: int) -> None:
        if events & WRITE:
            self._flush()
        if events & ~WRITE:
            if self.close_reason:  # the session has ended: what still arrives is dropped, unread
                self._discard()
            else:
                self._on_readable()

    def _discard(self) -> None:
        try:
            gone = not self.sock.recv_into(_buffer())
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            gone = True
        if gone and not self._closed:  # the peer is gone: the rest of the GOODBYE cannot reach it
            self._finish()

    def _on_readable(self) -> None:
        view = _buffer()
        try:
            size = self.sock.recv_into(view)
            data = view[:size].tobytes()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self.close(f"connection error: {exc}")
            return
        if not data:
            pending = self.decoder.pending
            self.close(f"the client closed the connection mid-frame ({pending} bytes pending)" if pending
                       else "the client closed the connection")
            return
        now = self._last_rx = time.monotonic()
        try:
            if not self.serial and len(data) > 4 and not self.decoder.pending and (
                    int.from_bytes(data[:4], "big") == len(data) - 4 <= self.max_frame):
                frames = [data[4:]]  # the usual read: one whole frame
            else:
                frames = self.decoder.feed(data)
            if frames:
                out = self.protocol.handle_frames(frames, now)
                if out:
                    self.write(b"".join(out) if len(out) > 1 else out[0])
            if self.decoder.pending and self._timer is None and not self.serial and not self.close_reason:
                self._timer = self.reactor.call_later(self.server.frame_timeout, self._check_timeouts)
        except FrameTooLarge as exc:
            self.goodbye(exc.code, f"{exc}; the connection cannot continue past it")
        except Close as exc:
            pending = getattr(exc, "pending", None)
            if pending:
                self.write(b"".join(pending))
            self.goodbye(exc.code, exc.reason)
        except Exception as exc:  # a bug here must not take the server down
            log.exception("fast-path connection %d failed", self.id)
            self.goodbye(S.Err.INTERNAL, f"server error: {exc}")

    def _check_timeouts(self) -> None:
        """The HELLO deadline, then (for streams) a frame left incomplete for ``frame_timeout``."""
        self._timer = None
        if self._closed:
            return
        now = time.monotonic()
        if self.protocol.state is ConnectionState.HANDSHAKE:
            self.goodbye(S.Err.DEADLINE_EXCEEDED, f"no HELLO within {self.server.hello_timeout:g} s")
            return
        if self.decoder.pending and not self.serial:
            due = self._last_rx + self.server.frame_timeout
            if due <= now:
                self.goodbye(S.Err.DEADLINE_EXCEEDED, f"a frame stayed incomplete for {self.server.frame_timeout:g} s "
                             f"({self.decoder.pending} bytes received)")
            else:
                self._timer = self.reactor.call_at(due, self._check_timeouts)

    # -- writing --------------------------------------------------------------------------
    def write(self, data: bytes) -> bool:
        """Write ``data`` (whole frames), from any thread; False once the connection is closed."""
        with self._wlock:
            if self._closed or self.close_reason:  # nothing follows the GOODBYE
                return False
            if not self._out:
                try:
                    sent = self.sock.send(data)
                except (BlockingIOError, InterruptedError):
                    sent = 0
                except OSError:
                    self.reactor.call_soon(lambda: self.close("the client went away"))
                    return False
                if sent == len(data):
                    return True
                data = data[sent:]
                self.reactor.want_write(self.fd, True)
            self._out.append(data)
            self._queued += len(data)
            too_much = self._queued > MAX_QUEUED_BYTES
        if too_much:
            self.reactor.call_soon(lambda: self.close(f"the client stopped reading ({self._queued} bytes waiting)"))
        return True

    def backlog(self) -> int:
        """Bytes waiting to be written."""
        return self._queued

    def _flush(self) -> None:
        with self._wlock:
            out = self._out
            while out:
                chunk = out[0]
                try:
                    sent = self.sock.send(chunk)
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    out.clear()
                    self._queued = 0
                    break
                self._queued -= sent
                if sent < len(chunk):
                    out[0] = chunk[sent:]
                    return
                out.popleft()
            self.reactor.want_write(self.fd, False)
        if self.close_reason and not self._closed:
            self._finish()

    # -- ending -------------------------------------------------------------------------
    def goodbye(self, code: int, reason: str) -> None:
        """Send GOODBYE, then close once it is written."""
        if self._closed:
            return
        self.write(self.frame(msgpack.packb([S.GOODBYE, code, reason])))
        self.close(reason)

    def close(self, reason: str = "closed by the server") -> None:
        """End the session: its channels and long calls end, what it moved is stopped, the socket closes."""
        with self._wlock:
            if self._closed or self.close_reason:
                return
            self.close_reason = reason
            pending = bool(self._out)
        self.protocol.end(reason)
        if self._timer is not None:
            self._timer.cancel()
        if not pending:
            self._finish()
        else:  # written when the socket drains, or given up after a second
            self.reactor.call_later(1.0, self._finish)

    def _finish(self) -> None:
        with self._wlock:
            if self._closed:
                return
            self._closed = True
            self._out.clear()
            self._queued = 0
        self.reactor.unregister(self.fd)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        log.info("fast-path session %d from %s ended: %s", self.id, self.peer, self.close_reason)
        self.protocol.detach()
        self.server._forget(self)

    def shutdown(self, reason: str) -> None:
        """Say GOODBYE (the server is stopping) and close."""
        self.goodbye(S.Err.UNAVAILABLE, reason)


__all__ = ["Connection", "MAX_QUEUED_BYTES"]
