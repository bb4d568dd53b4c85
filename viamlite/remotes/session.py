"""The session a link holds on its remote, as viam-server's remote links hold one.

A remote that offers sessions stops what a session moved when the session's heartbeats stop.
A link holds one session on its remote for the calls it forwards: it starts the session when
it connects (resuming the one it had, after a reconnect), sends its id (``viam-sid``) on every
call it forwards, and heartbeats it from a thread of its own at a fifth of the remote's
heartbeat window. So when this machine dies, the remote stops what this machine moved there,
one heartbeat window later. A remote that answers StartSession UNIMPLEMENTED (a viam-sdk
server) has no sessions: the link goes on without, as the SDKs do. When the remote says the
session is gone (an expired or unknown id), the link starts a new one. The Viam API has no call
that ends a session: closing the link stops the heartbeats, and the remote lets the session
expire one window later.

Transport-neutral: the link gives the two calls (start, heartbeat) as functions.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from viamlite.errors import NotSupportedError, RemoteError
from viamlite.gen import is_safety_monitored

log = logging.getLogger("viamlite.remotes.session")

#: Call metadata carrying a session id.
SESSION_KEY = "viam-sid"
#: The status details of a call refused because its session expired (with INVALID_ARGUMENT).
SESSION_EXPIRED = "SESSION_EXPIRED"
#: Heartbeats per heartbeat window, as the Viam SDKs send them.
BEATS_PER_WINDOW = 5
#: How often a session that failed to start is tried again while the link is up.
RETRY_S = 1.0


class SessionsUnsupported(NotSupportedError):
    """Raised by a link's start function: the remote offers no sessions (StartSession UNIMPLEMENTED)."""


class SessionGone(RemoteError):
    """Raised by a link's heartbeat function: the remote no longer knows the session."""


#: ``start(resume)`` -> (session id, heartbeat window in seconds); raises :class:`SessionsUnsupported`.
StartFn = Callable[[str], "tuple[str, float]"]
#: ``beat(session_id)``; raises :class:`SessionGone` when the remote no longer knows it.
BeatFn = Callable[[str], None]


class RemoteSession:
    """One link's session on its remote: start, heartbeat, restart, forget.

    The link calls :meth:`open` when it has connected, :meth:`pause` when it lost the
    connection, :meth:`metadata_for` for each forwarded call, :meth:`gone` when the remote
    refused a call's session, and :meth:`close` when it closes. ``supported`` is None until
    the remote has answered StartSession, then whether it offers sessions.
    """

    def __init__(self, name: str, start: StartFn, beat: BeatFn) -> None:
        self.name = name
        self._start_fn, self._beat_fn = start, beat
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._id = ""
        self._last_id = ""  # kept across a lost connection, to resume
        self.window = 0.0
        self.supported: bool | None = None
        self._up = False
        self._closed = False
        self._thread: threading.Thread | None = None
        #: How many sessions were started on the remote (a resumed one counts too).
        self.starts = 0

    @property
    def id(self) -> str:
        return self._id

    # -- what the link calls ------------------------------------------------------
    def open(self) -> None:
        """The link is connected: start (or resume) the session, and heartbeat it.

        A remote without sessions is remembered as such; any other failure is logged and
        retried by the heartbeat thread, so the link comes up either way."""
        if self._closed:
            return
        self._up = True
        self.supported = None  # a remote that restarted may be another program now
        try:
            self._ensure(resume=self._last_id)
        except Exception as exc:
            log.warning("remote %r: could not start a session (%s); retrying every %g s", self.name, exc, RETRY_S)
        self._ensure_thread()
        self._wake.set()

    def pause(self) -> None:
        """The connection is lost: stop heartbeating; the id is kept to resume after a reconnect."""
        self._up = False
        with self._lock:
            self._id = ""

    def metadata_for(self, path: str) -> tuple[tuple[str, str], ...]:
        """``viam-sid`` for a forwarded call to ``path``; a safety-monitored call with no session
        held (one being restarted) starts it first."""
        sid = self._id
        if not sid and self._up and self.supported is not False and is_safety_monitored(path):
            try:
                sid = self._ensure(resume=self._last_id)
            except Exception as exc:  # the call goes on; the remote's own answer tells the caller
                log.warning("remote %r: could not start a session for %s (%s)", self.name, path, exc)
        return ((SESSION_KEY, sid),) if sid else ()

    def gone(self, sid: str) -> None:
        """The remote refused session ``sid`` (expired or unknown): forget it; the next call or
        heartbeat starts a new one."""
        with self._lock:
            if sid and sid == self._id:
                log.info("remote %r: session %s is gone there; starting a new one", self.name, sid)
                self._id = self._last_id = ""
        self._wake.set()

    def renew(self, sid: str) -> str:
        """After the remote refused ``sid``: a new session's id ("" when none can be had)."""
        self.gone(sid)
        try:
            return self._ensure(resume="")
        except Exception as exc:
            log.warning("remote %r: could not start a new session (%s)", self.name, exc)
            return ""

    def close(self) -> None:
        """Stop heartbeating and forget the session (the remote expires it one window later); idempotent."""
        self._closed, self._up = True, False
        with self._lock:
            self._id = self._last_id = ""
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    # -- inside ---------------------------------------------------------------------
    def _ensure(self, resume: str) -> str:
        """The current session's id, starting one if none is held; "" without sessions."""
        with self._lock:
            if self._id or self.supported is False or not self._up or self._closed:
                return self._id
            try:
                sid, window = self._start_fn(resume)
            except SessionsUnsupported:
                if self.supported is not False:
                    log.info("remote %r offers no sessions: forwarding without one", self.name)
                self.supported = False
                return ""
            if window <= 0:
                log.warning("remote %r offered a session without a heartbeat window: forwarding without one",
                            self.name)
                self.supported = False
                return ""
            self.supported = True
            self._id = self._last_id = sid
            self.window = window
            self.starts += 1
            log.debug("remote %r: session %s (heartbeat window %.3f s)", self.name, sid, window)
        self._wake.set()
        return sid

    def _ensure_thread(self) -> None:
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(target=self._run, name=f"viamlite-remote-session-{self.name}", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.clear()  # a wake-up during the work below is kept for the wait
            wait: float | None = None
            if self._up and self.supported is not False:
                sid = self._id
                if not sid:
                    try:
                        sid = self._ensure(resume=self._last_id)
                    except Exception as exc:
                        log.info("remote %r: session not started (%s); retrying", self.name, exc)
                if sid:
                    try:
                        self._beat_fn(sid)
                    except SessionGone:
                        self.gone(sid)
                        continue
                    except Exception as exc:  # unreachable: the link notices and reconnects
                        log.debug("remote %r: heartbeat of session %s failed: %s", self.name, sid, exc)
                    wait = self.window / BEATS_PER_WINDOW
                else:
                    wait = RETRY_S
            self._wake.wait(wait)


__all__ = ["BEATS_PER_WINDOW", "SESSION_EXPIRED", "SESSION_KEY", "RemoteSession", "SessionGone",
           "SessionsUnsupported"]
