"""Sessions: a client's heartbeat, and what to stop when it stops beating.

A client starts a session and then sends a heartbeat at least once per heartbeat window
(any call carrying the session's id counts as one). Every resource the session moved with
a safety-monitored call is remembered; when a window passes without a heartbeat the
session expires, and ``on_expire`` cancels its operations and stops those of the
resources it was the last to move (a :class:`MotionLedger` says who that was).
Transport-neutral (the gRPC adapters use it; a fast-path connection is a session of its
own, with the same stop-what-it-moved rule).
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from viamlite.errors import ViamliteError

log = logging.getLogger("viamlite.machine.sessions")

#: How many expired session ids are remembered, so late heartbeats are told they expired.
_REMEMBER_EXPIRED = 1024


class SessionExpiredError(ViamliteError, LookupError):
    """The session is unknown or has expired; start a new one."""


@dataclass
class Session:
    """One client's session. ``moved`` holds what it moved (keys chosen by the caller)."""

    id: str
    window: float
    peer: str = ""
    started: float = field(default_factory=time.time)
    deadline: float = 0.0
    moved: dict[Any, None] = field(default_factory=dict)
    expired_at: float | None = None


class MotionLedger:
    """Who last moved each resource, across every transport.

    A safety stop on behalf of one caller (a session that expired, a fast-path connection
    that ended) stops only what that caller was the *last* to move: another client that
    has driven the resource since owns its motion, as viam-server does it. Keys are
    ``(API, name)``; owners are strings (a gRPC session id, ``fastpath-<n>``, ``""`` for a
    call outside any session). One dict store per motion call, safe from any thread.
    """

    __slots__ = ("_last", "_lock")

    def __init__(self) -> None:
        self._last: dict[Any, str] = {}
        self._lock = threading.Lock()

    def moved(self, key: Any, owner: str) -> str | None:
        """``owner`` has just moved ``key``; returns who had moved it last before."""
        with self._lock:
            before = self._last.get(key)
            self._last[key] = owner
            return before

    def claim(self, key: Any, owner: str) -> bool:
        """After ``owner``'s move of ``key`` returned: it is ``owner``'s again unless another
        caller moved it meanwhile (a stop for ``owner`` that ran during the call released it)."""
        with self._lock:
            current = self._last.get(key)
            if current is None or current == owner:
                self._last[key] = owner
                return True
            return False

    def undo(self, key: Any, owner: str, before: str | None) -> None:
        """``owner``'s move of ``key`` failed: whoever moved it before owns its motion again
        (a call that moved nothing takes nothing over)."""
        with self._lock:
            if self._last.get(key) == owner:
                if before is None:
                    del self._last[key]
                else:
                    self._last[key] = before

    def last(self, key: Any) -> str | None:
        """Who moved ``key`` last (None: nobody yet)."""
        return self._last.get(key)

    def release(self, owner: str, keys: Any) -> list[Any]:
        """The ``keys`` that ``owner`` was the last to move (to be stopped for it); they are
        forgotten, so a stop is never repeated for a motion that another caller took over."""
        last = self._last
        mine = []
        with self._lock:
            for key in keys:
                if last.get(key) == owner:
                    mine.append(key)
                    del last[key]
        return mine


class SessionManager:
    """Sessions with a heartbeat ``window()`` (seconds, read when a session starts).

    ``on_expire(session)`` runs on the manager's own thread, once per expired session.
    With ``movers``, :meth:`track` records the session there as the last to move the key,
    under the same lock that expires sessions: a motion call either lands in the ledger
    before its session expires (and is stopped for it) or is refused.
    """

    def __init__(self, window: Callable[[], float], on_expire: Callable[[Session], None],
                 clock: Callable[[], float] = time.monotonic, movers: MotionLedger | None = None) -> None:
        self._movers = movers
        self._window = window
        self._on_expire = on_expire
        self._clock = clock
        self._lock = threading.Condition()
        self._live: dict[str, Session] = {}
        self._expired: OrderedDict[str, float] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- what clients do ---------------------------------------------------------
    def start(self, resume: str = "", peer: str = "") -> Session:
        """A new session, or the live session ``resume`` (same id, a fresh deadline)."""
        with self._lock:
            if resume and resume in self._live:
                session = self._live[resume]
                session.deadline = self._clock() + session.window
                return session
            session = Session(uuid.uuid4().hex, float(self._window()), peer)
            session.deadline = self._clock() + session.window
            self._live[session.id] = session
            self._ensure_thread()
            self._lock.notify()
        log.debug("session %s started (window %.3f s, peer %s)", session.id, session.window, peer or "?")
        return session

    def heartbeat(self, session_id: str) -> Session:
        """Push the session's deadline a window ahead; raises :class:`SessionExpiredError`."""
        with self._lock:
            return self._beat(session_id)

    def _beat(self, session_id: str) -> Session:
        """The live session, its deadline pushed a window ahead; locked."""
        session = self._live.get(session_id)
        if session is None:
            state = "expired" if session_id in self._expired else "unknown"
            raise SessionExpiredError(f"session {session_id!r} is {state}: start a new session")
        session.deadline = self._clock() + session.window
        return session

    def track(self, session_id: str, key: Any) -> None:
        """Heartbeat, and remember ``key`` as something the session moved (and, with a
        ledger, that the session is now the last to move it)."""
        with self._lock:
            self._beat(session_id).moved[key] = None
            if self._movers is not None:
                self._movers.moved(key, session_id)

    def sessions(self) -> list[Session]:
        with self._lock:
            return list(self._live.values())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join(timeout=2)

    # -- expiry --------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="viamlite-sessions", daemon=True)
            self._thread.start()

    def _watch(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                now = self._clock()
                due = [s for s in self._live.values() if s.deadline <= now]
                for session in due:
                    del self._live[session.id]
                    session.expired_at = now
                    self._expired[session.id] = now
                    while len(self._expired) > _REMEMBER_EXPIRED:
                        self._expired.popitem(last=False)
                if not due:
                    nearest = min((s.deadline for s in self._live.values()), default=None)
                    self._lock.wait(None if nearest is None else max(nearest - now, 0.0005))
                    continue
            for session in due:
                try:
                    self._on_expire(session)
                except Exception:  # one failing stop must not end the watch
                    log.exception("stopping what session %s moved failed", session.id)
