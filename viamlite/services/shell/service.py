"""The shell itself: a program on a pseudo-terminal (or on pipes), fed input, read for output.

:class:`BuiltinShell` is the resource; each caller gets a :class:`ShellSession` of its own.
"""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import termios
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

from viamlite.attributes import Attributes
from viamlite.driver import Configured, attributes_of
from viamlite.names import API
from viamlite.resource import Resource
from viamlite.services.shell import SHELL_API

log = logging.getLogger("viamlite.services.shell")

#: How long a read waits before the session checks whether its caller is still there.
POLL_S = 0.2
CHUNK = 16 * 1024


class ShellSession:
    """One running shell. ``tty=True``: on a pty (one output stream, echo, job control);
    ``tty=False``: on pipes (stdout and stderr apart, no echo), for input from a script.

    :meth:`output` yields ``("out" | "err", text)`` until the program has exited and its
    output is drained; then :attr:`exit_status` is its status (128 + N when killed by
    signal N, as shells report it).
    """

    def __init__(self, program: str, *, tty: bool = True, rows: int = 24, cols: int = 80, term: str = "xterm") -> None:
        self.tty = tty
        self.exit_status: int | None = None
        self._lock = threading.Lock()
        env = {**os.environ, "TERM": term}
        argv = [program, "-i"] if tty and os.path.basename(program) in ("sh", "bash", "dash", "zsh") else [program]
        if tty:
            # subprocess, not pty.fork(): a fork of this threaded process (grpc's threads and
            # fork handlers) may crash the child before it execs. setsid -c makes the pty the
            # shell's controlling terminal (Ctrl-C, job control), which subprocess cannot.
            self._master, slave = pty.openpty()
            self.resize(rows, cols)
            setsid = shutil.which("setsid")
            wrapper = [setsid, "-w", "-c"] if setsid else []
            try:
                self._proc = subprocess.Popen([*wrapper, *argv], stdin=slave, stdout=slave, stderr=slave, env=env,
                                              start_new_session=not wrapper)
            finally:
                os.close(slave)
            self.pid = self._proc.pid
            self._fds = {self._master: "out"}
        else:
            self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, env=env, start_new_session=True)
            self.pid = self._proc.pid
            assert self._proc.stdout is not None and self._proc.stderr is not None
            self._fds = {self._proc.stdout.fileno(): "out", self._proc.stderr.fileno(): "err"}
        for fd in self._fds:
            os.set_blocking(fd, False)

    def resize(self, rows: int, cols: int) -> None:
        if self.tty and rows > 0 and cols > 0:
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def write(self, text: str) -> None:
        """Send ``text`` to the program's input (ignored once it has exited)."""
        data = text.encode()
        try:
            if self.tty:
                while data:
                    select.select([], [self._master], [], POLL_S)
                    try:
                        data = data[os.write(self._master, data):]
                    except BlockingIOError:
                        continue
            else:
                assert self._proc.stdin is not None
                self._proc.stdin.write(data)
                self._proc.stdin.flush()
        except OSError:  # the program is gone
            pass

    def end_input(self) -> None:
        """No more input: EOF (Ctrl-D on a pty, a closed pipe otherwise)."""
        if self.tty:
            self.write("\x04")
        elif self._proc.stdin is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass

    def output(self, active: Any = lambda: True) -> Iterator[tuple[str, str]]:
        """Output as it comes; ends when the program has exited (or ``active()`` turns false)."""
        decoders = {fd: _decoder() for fd in self._fds}
        open_fds = set(self._fds)
        while open_fds and active():
            ready, _, _ = select.select(list(open_fds), [], [], POLL_S)
            for fd in ready:
                try:
                    data = os.read(fd, CHUNK)
                except BlockingIOError:
                    continue
                except OSError as exc:  # EIO: the pty's other end closed (the program exited)
                    if exc.errno not in (errno.EIO, errno.EBADF):
                        raise
                    data = b""
                if not data:
                    open_fds.discard(fd)
                    tail = decoders[fd].decode(b"", final=True)
                    if tail:
                        yield self._fds[fd], tail
                    continue
                text = decoders[fd].decode(data)
                if text:
                    yield self._fds[fd], text
        self._reap(wait=not open_fds)

    def _reap(self, wait: bool) -> None:
        if self.exit_status is not None:
            return
        if not wait:
            self.kill()
        code = self._proc.wait()
        self.exit_status = 128 - code if code < 0 else code  # killed by signal N: 128 + N, as shells say
        self.close()

    def kill(self) -> None:
        """Hang up on the program (SIGHUP to its process group, then SIGKILL)."""
        for sig in (signal.SIGHUP, signal.SIGKILL):
            if self._proc.poll() is not None:
                return
            try:
                os.killpg(self.pid, sig)
            except (ProcessLookupError, PermissionError):
                return
            try:
                self._proc.wait(0.2)
                return
            except subprocess.TimeoutExpired:
                continue

    def close(self) -> None:
        with self._lock:
            fds, self._fds = list(self._fds), {}
        if self.tty:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        else:
            for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass


def _decoder() -> Any:
    import codecs

    return codecs.getincrementaldecoder("utf-8")("replace")


class BuiltinShell(Configured, Resource):
    """``rdk:builtin:shell``: each call of Shell runs ``shell`` (default ``$SHELL``, else /bin/sh)."""

    API: ClassVar[API] = SHELL_API

    def __init__(self, name: str, attrs: Any = None) -> None:
        super().__init__(name)
        self.program = self.settings(attributes_of(attrs))["shell"]
        self._sessions: set[ShellSession] = set()
        self._sessions_lock = threading.Lock()

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        program = attrs.string("shell", default="") or os.environ.get("SHELL") or "/bin/sh"
        if shutil.which(program) is None:
            raise attrs.fail("shell", f"{program!r} is not a program on this machine",
                             'name an installed shell, such as "/bin/sh"')
        return {"shell": program}

    def open_session(self, *, tty: bool = True, rows: int = 24, cols: int = 80, term: str = "xterm") -> ShellSession:
        self._check_open()
        session = ShellSession(self.program, tty=tty, rows=rows, cols=cols, term=term)
        with self._sessions_lock:
            self._sessions.add(session)
        log.info("shell %r: started %s (pid %d, %s)", self.name, self.program, session.pid,
                 "pty" if tty else "pipes")
        return session

    def end_session(self, session: ShellSession) -> None:
        with self._sessions_lock:
            self._sessions.discard(session)
        log.info("shell %r: pid %d exited with status %s", self.name, session.pid, session.exit_status)

    def get_status(self) -> dict[str, Any]:
        with self._sessions_lock:
            return {"shell": self.program, "sessions": len(self._sessions)}

    def _on_close(self) -> None:
        with self._sessions_lock:
            sessions, self._sessions = list(self._sessions), set()
        for session in sessions:
            session.kill()
