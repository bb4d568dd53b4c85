"""The fast-path server: listeners (TCP, unix sockets) and the loop that serves them.

Serves the resources of a :class:`~viamlite.machine.Machine` beside gRPC, in the same
process; it knows nothing of gRPC. One loop thread (:mod:`viamlite.fastpath.reactor`)
accepts, reads and writes for every connection and answers quick calls inline; long calls
(moves that block, DoCommand) run on a pool. Beyond ``max_connections`` a new connection
is answered with GOODBYE (RESOURCE_EXHAUSTED) and closed.

    server = FastPathServer(machine)
    host, port = server.listen_tcp("127.0.0.1:0")
    path = server.listen_unix("/run/user/1000/viamlite/8080.sock")
    ...
    server.stop()
"""
from __future__ import annotations

import logging
import os
import socket
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viamlite.address import split_host_port
from viamlite.errors import BindError
from viamlite.fastpath import schema as S
from viamlite.fastpath.auth import Authenticator, is_local_peer
from viamlite.fastpath.connection import Connection
from viamlite.fastpath.reactor import Reactor
from viamlite.fastpath.schema import MAX_SERIAL_FRAME, MAX_STREAM_FRAME

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine

log = logging.getLogger("viamlite.fastpath")
#: Connections served at once unless told otherwise (``fastpath.max_connections``).
MAX_CONNECTIONS = 1024
#: The listen backlog: a burst of connections waits in the kernel, not in a TCP retry.
BACKLOG = 4096
#: Connections accepted per readiness of a listener before other sockets get a turn.
ACCEPT_BATCH = 64


def split_address(address: str) -> tuple[str, int]:
    """``"127.0.0.1:8081"`` -> ("127.0.0.1", 8081); ``"[::1]:8081"`` works too."""
    return split_host_port(address)


class FastPathServer:
    """Serves ``machine``'s resources over the msgpack fast path.

    ``authenticator`` checks credentials of connections from off loopback (None: auth
    off). ``force_remote`` treats every peer as remote (tests exercise auth on loopback).
    """

    def __init__(self, machine: "Machine", *, authenticator: Authenticator | None = None, force_remote: bool = False,
                 max_frame: int = MAX_STREAM_FRAME, max_serial_frame: int = MAX_SERIAL_FRAME,
                 hello_timeout: float = 10.0, frame_timeout: float = 10.0, long_workers: int = 32,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self.machine = machine
        self.authenticator = authenticator
        self.force_remote = force_remote
        self.max_frame = max_frame
        self.max_serial_frame = max_serial_frame
        self.hello_timeout = hello_timeout
        self.frame_timeout = frame_timeout
        self.max_connections = max_connections
        self._long_workers = long_workers
        self._pool: ThreadPoolExecutor | None = None
        self._listeners: list[tuple[socket.socket, str]] = []
        self._unix_paths: list[Path] = []
        self._connections: set[Connection] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self.refused = 0  # connections answered with GOODBYE because the limit was reached
        self.addresses: list[str] = []
        self.reactor = Reactor()

    # -- listening --------------------------------------------------------------------
    def listen_tcp(self, address: str) -> tuple[str, int]:
        """Listen on ``HOST:PORT`` (port 0 picks a free one); returns the bound (host, port)."""
        host, port = split_address(address)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise BindError(f"the fast path cannot listen on {address}: {exc.strerror or exc}; choose another "
                            "address with --fastpath HOST:PORT (port 0 picks a free one) or turn it off with "
                            "--no-fastpath") from None
        sock.listen(BACKLOG)
        bound = sock.getsockname()[1]
        self._serve_listener(sock, f"{host}:{bound}")
        return host, bound

    def listen_unix(self, path: str | os.PathLike[str]) -> str:
        """Listen on a unix socket at ``path`` (its directory is made, mode 0700); returns the path."""
        target = Path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if target.exists() or target.is_symlink():
                if not stat.S_ISSOCK(target.lstat().st_mode):
                    raise BindError(f"the fast path cannot use {target}: a file that is not a socket is there; "
                                    "remove it or set fastpath.unix_socket elsewhere")
                if _in_use(target):
                    raise BindError(f"the fast path cannot use {target}: another server is listening there; "
                                    "set fastpath.unix_socket to another path")
                target.unlink()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(str(target))
        except BindError:
            raise
        except OSError as exc:
            raise BindError(f"the fast path cannot listen on unix:{target}: {exc.strerror or exc}; set "
                            "fastpath.unix_socket to a writable path, or \"\" to turn the unix socket off") from None
        os.chmod(target, 0o600)
        sock.listen(BACKLOG)
        self._unix_paths.append(target)
        self._serve_listener(sock, f"unix:{target}")
        return str(target)

    def _serve_listener(self, sock: socket.socket, label: str) -> None:
        sock.setblocking(False)
        self._listeners.append((sock, label))
        self.addresses.append(label)
        self.reactor.register(sock.fileno(), lambda events: self._accept(sock, label))
        self.reactor.start()
        log.info("fast path listening on %s", label)

    def _accept(self, listener: socket.socket, label: str) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                sock, peer = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of file descriptors, or the listener closed
                if not self._stopped:
                    log.warning("fast path: accepting on %s failed: %s", label, exc)
                return
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            remote = self.force_remote or not is_local_peer(sock.family, peer)
            where = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else f"{label}"
            try:
                self.serve_socket(sock, peer=where, remote=remote)
            except RuntimeError:
                return

    def serve_socket(self, sock: socket.socket, *, peer: str = "socket", remote: bool | None = None,
                     framing: str = "stream") -> Connection:
        """Serve one connected socket (``framing``: ``stream`` or ``serial``) on the server's loop."""
        if remote is None:
            remote = self.force_remote
        conn = Connection(self, sock, peer, remote=remote, framing=framing)
        with self._lock:
            if self._stopped:
                sock.close()
                raise RuntimeError("the fast-path server is stopped")
            full = len(self._connections) >= self.max_connections
            if not full:
                self._connections.add(conn)
        if full:
            self.refused += 1
            log.warning("fast path: refused a connection from %s: %d connections are open (the limit)", peer,
                        self.max_connections)
            conn.refuse(S.Err.RESOURCE_EXHAUSTED, f"the fast path serves at most {self.max_connections} connections "
                        "at once and all are in use; close some, or raise fastpath.max_connections")
            return conn
        self.reactor.start()
        conn.start()
        return conn

    # -- long calls ---------------------------------------------------------------------
    def submit(self, fn: Callable[[], Any]) -> None:
        """Run a long call on the pool shared by every connection."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self._long_workers, thread_name_prefix="fastpath-long")
        self._pool.submit(fn)

    # -- bookkeeping ----------------------------------------------------------------------
    def _forget(self, conn: Connection) -> None:
        with self._lock:
            self._connections.discard(conn)


    @property
    def connections(self) -> list[Connection]:
        with self._lock:
            return list(self._connections)

    def stop(self, timeout: float = 2.0) -> None:
        """Close the listeners and every connection (what they moved is stopped); remove unix sockets."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            conns = list(self._connections)
        for sock, _ in self._listeners:
            self.reactor.unregister(sock.fileno())
            sock.close()
        for conn in conns:
            conn.shutdown("the server is stopping")
        for conn in conns:
            conn._finish()
        for path in self._unix_paths:
            try:
                path.unlink()
            except OSError:
                pass
        self.reactor.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _in_use(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()
