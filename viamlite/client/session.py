"""The client's side of sessions, as the Viam SDKs do it.

A session starts before the first safety-monitored call (a move), its id travels as
``viam-sid`` metadata on every call after that, and a thread sends a heartbeat five times per
heartbeat window. If this process dies, the heartbeats stop and the machine stops what the
session moved. A machine that answers StartSession UNIMPLEMENTED runs without sessions.

The keeper rides on a :class:`~viamlite.client.connection.Connection` through its hooks
(:meth:`SessionKeeper.attach`): a metadata hook adds ``viam-sid`` (starting the session before a
move), a call-error hook forgets an expired session, and a state listener forgets the session
when the connection comes back (a machine that restarted knows nothing of it) and stops the
heartbeats when the connection closes. Whoever builds the client attaches it.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import grpc

from viamlite.gen import is_safety_monitored
from viamlite.state import ConnectionState

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.client.connection import Connection

log = logging.getLogger("viamlite.client.session")

ROBOT = "/viam.robot.v1.RobotService"


class SessionKeeper:
    """Starts, heartbeats and forgets the session of one :class:`Connection`."""

    def __init__(self, connection: "Connection") -> None:
        self._connection = connection
        self._lock = threading.RLock()  # StartSession's failure goes through the error hook
        self._id = ""
        self._window = 0.0
        self._supported = True
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._lost = False

    @classmethod
    def attach(cls, connection: "Connection") -> "SessionKeeper":
        """A keeper for ``connection``, hooked into it (and set as ``connection.sessions``)."""
        keeper = cls(connection)
        connection.add_metadata_hook(keeper.metadata_for)
        connection.on_call_error(keeper._call_failed)
        connection.on_state_change(keeper._state_changed)
        connection.sessions = keeper
        return keeper

    def _state_changed(self, state: ConnectionState) -> None:
        if state is ConnectionState.CLOSED:
            self.close()
        elif state is ConnectionState.DISCONNECTED:
            self._lost = True
        elif state is ConnectionState.CONNECTED and self._lost:
            self._lost = False
            self.reset()  # a machine that restarted knows nothing of the old session

    def _call_failed(self, err: Any, where: str) -> None:
        if err.code() == grpc.StatusCode.INVALID_ARGUMENT and err.details() == "SESSION_EXPIRED":
            self.reset()  # the next move starts a new session

    @property
    def id(self) -> str:
        return self._id

    @property
    def window(self) -> float:
        return self._window

    def metadata_for(self, path: str) -> tuple[tuple[str, str], ...]:
        """``viam-sid`` for a call to ``path``, starting the session if the call moves something."""
        if not self._supported or self._closed:
            return ()
        if not self._id and is_safety_monitored(path):
            self._start()
        sid = self._id
        return (("viam-sid", sid),) if sid else ()

    def _start(self) -> None:
        from viamlite.gen import robot_pb2

        with self._lock:
            if self._id or not self._supported:
                return
            try:
                response = self._connection.call_plain(f"{ROBOT}/StartSession", robot_pb2.StartSessionRequest(),
                                                       robot_pb2.StartSessionResponse)
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                    log.info("%s does not offer sessions: running without", self._connection.address)
                    self._supported = False
                    return
                raise self._connection.failure(err, "StartSession") from None
            window = response.heartbeat_window.ToTimedelta().total_seconds()
            if window <= 0:
                log.warning("%s offered a session without a heartbeat window: running without sessions",
                            self._connection.address)
                self._supported = False
                return
            self._id, self._window = response.id, window
            log.debug("session %s started (heartbeat window %.3f s)", self._id, window)
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, name="viamlite-session-heartbeat", daemon=True)
                self._thread.start()
            self._wake.set()

    def _beat(self) -> None:
        from viamlite.gen import robot_pb2

        while not self._closed:
            sid, window = self._id, self._window
            if not sid:
                self._wake.wait()
                self._wake.clear()
                continue
            try:
                self._connection.call_plain(f"{ROBOT}/SendSessionHeartbeat", robot_pb2.SendSessionHeartbeatRequest(
                    id=sid), robot_pb2.SendSessionHeartbeatResponse, timeout=window)
            except Exception as exc:  # expired, or the machine unreachable: the next move starts anew
                log.info("session %s ended: %s", sid, exc.details() if isinstance(exc, grpc.RpcError) else exc)
                self.reset(sid)
            self._wake.wait(window / 5)
            self._wake.clear()

    def reset(self, sid: str | None = None) -> None:
        """Forget the session (``sid``: only if it is still the current one)."""
        with self._lock:
            if sid is None or sid == self._id:
                self._id = ""

    def close(self) -> None:
        self._closed = True
        self._id = ""
        self._wake.set()
