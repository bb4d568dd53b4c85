"""A client's link to one machine: dial, per-call metadata, health checks, reconnect.

:class:`Connection` owns the channel and the one place where calls are made, and offers
hooks to what rides on it: state listeners (:meth:`Connection.on_state_change`), per-call
metadata (:meth:`Connection.add_metadata_hook`) and call failures
(:meth:`Connection.on_call_error`). The session keeper
(:class:`~viamlite.client.session.SessionKeeper`) attaches through them; the connection
knows nothing of sessions.

A :class:`~viamlite.reconnect.Reconnector` keeps it healthy in the background: it checks the
machine every ``check_interval`` seconds, the connection goes
:attr:`~viamlite.state.ConnectionState.DISCONNECTED` when a check (or a call) fails, and the
keeper dials again, with backoff, until the machine answers. While the connection is down,
calls raise :class:`~viamlite.errors.ConnectError` at once, naming the cause.
"""
from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc

from viamlite.client.status import from_rpc_error
from viamlite.errors import AuthError, ConnectError, ViamliteError
from viamlite.reconnect import Backoff, Reconnector
from viamlite.state import ConnectionState
from viamlite.transport.dial import Dialed, dial

log = logging.getLogger("viamlite.client")

HEALTH_METHOD = "/viam.robot.v1.RobotService/ResourceNames"
#: Redial waits after the connection is lost: at once, then 0.25 s growing 1.5 times up to 2 s.
BACKOFF_FIRST_S, BACKOFF_MAX_S, BACKOFF_FACTOR = 0.25, 2.0, 1.5


class CancelScope:
    """Calls started under this scope (see :data:`cancel_scope`) are cancelled together,
    so an asyncio task cancelled while a worker thread waits on the wire ends the call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: list[Any] = []
        self.cancelled = False

    def add(self, future: Any) -> None:
        with self._lock:
            self._futures.append(future)
            cancelled = self.cancelled
        if cancelled:
            future.cancel()

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            futures = list(self._futures)
        for future in futures:
            future.cancel()


cancel_scope: contextvars.ContextVar[CancelScope | None] = contextvars.ContextVar("viamlite_cancel_scope",
                                                                                default=None)


#: The older name of the client's states (they were string constants; the enum's values are the same words).
State = ConnectionState


class Connection:
    """A healthy-or-not link to the machine at ``address``; thread-safe."""

    def __init__(self, address: str, *, api_key_id: str | None = None, api_key: str | None = None,
                 timeout: float = 10.0, insecure: bool | None = None, check_interval: float = 1.0,
                 check_timeout: float = 2.0) -> None:
        self.address = address
        self.timeout = timeout
        self.check_interval = check_interval
        self.check_timeout = check_timeout
        self._dial_args = {"api_key_id": api_key_id, "api_key": api_key, "insecure": insecure}
        self._lock = threading.Lock()
        self._dialed: Dialed | None = None
        self._callables: dict[str, Any] = {}
        self.state = ConnectionState.CONNECTING
        self.last_error = ""
        self._listeners: list[Callable[[ConnectionState], None]] = []
        self._metadata_hooks: list[Callable[[str], Sequence[tuple[str, str]]]] = []
        self._error_hooks: list[Callable[[Any, str], None]] = []
        self._reconnector = Reconnector(state=lambda: self.state, check=self.check, reconnect=self.redial,
                                        check_interval=lambda: self.check_interval,
                                        backoff=Backoff(BACKOFF_FIRST_S, BACKOFF_MAX_S, BACKOFF_FACTOR),
                                        name="viamlite-client-health")
        #: The session keeper attached by whoever built the client (None: calls carry no session).
        self.sessions: Any = None

    # -- lifecycle ---------------------------------------------------------------
    def open(self) -> "Connection":
        """Dial and check the machine answers, within ``timeout`` seconds in all; raises
        ConnectError/AuthError if not."""
        started = time.monotonic()
        dialed = dial(self.address, timeout=self.timeout, **self._dial_args)
        try:
            left = self.timeout - (time.monotonic() - started)
            if left <= 0:
                raise ConnectError(f"{self.address} did not answer within the {self.timeout:g} s timeout")
            self._check(dialed, left)
        except BaseException:
            dialed.close()
            raise
        self._install(dialed)
        self._reconnector.start()
        return self

    def close(self) -> None:
        with self._lock:
            if self.state is ConnectionState.CLOSED:
                return
            self.state = ConnectionState.CLOSED
            dialed, self._dialed = self._dialed, None
            self._callables = {}
        self._notify(ConnectionState.CLOSED)
        self._reconnector.stop()
        if dialed is not None:
            dialed.close()

    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED

    @property
    def tls(self) -> bool:
        return bool(self._dialed and self._dialed.tls)

    def on_state_change(self, listener: Callable[[ConnectionState], None]) -> None:
        """Call ``listener(state)`` whenever the connection's state changes (CLOSED included)."""
        self._listeners.append(listener)

    def add_metadata_hook(self, hook: Callable[[str], Sequence[tuple[str, str]]]) -> None:
        """Add per-call metadata to every call: ``hook(path)`` gives the pairs a call to
        ``path`` carries (a session id, for instance)."""
        self._metadata_hooks.append(hook)

    def on_call_error(self, hook: Callable[[Any, str], None]) -> None:
        """Call ``hook(rpc_error, where)`` when a call fails with a gRPC error (before it is
        raised as a typed error)."""
        self._error_hooks.append(hook)

    def _install(self, dialed: Dialed) -> None:
        with self._lock:
            if self.state is ConnectionState.CLOSED:
                dialed.close()
                return
            old, self._dialed = self._dialed, dialed
            self._callables = {}
            self.last_error = ""
        if old is not None and old is not dialed:
            old.close()
        self._set_state(ConnectionState.CONNECTED)

    def mark_down(self, reason: str) -> None:
        """Record that the machine stopped answering; the reconnector takes over."""
        with self._lock:
            if self.state is ConnectionState.CLOSED:
                return
            self.last_error = reason
        if self.state is not ConnectionState.DISCONNECTED:
            log.warning("lost the connection to %s: %s; reconnecting in the background", self.address, reason)
            self._set_state(ConnectionState.DISCONNECTED)
        self._reconnector.wake()

    def _set_state(self, state: ConnectionState) -> None:
        with self._lock:
            if self.state is ConnectionState.CLOSED or self.state is state:
                return
            self.state = state
        self._notify(state)

    def _notify(self, state: ConnectionState) -> None:
        for listener in list(self._listeners):
            try:
                listener(state)
            except Exception:  # a listener's failure must not break the connection
                log.exception("connection listener failed")

    # -- health ------------------------------------------------------------------
    def _check(self, dialed: Dialed, timeout: float) -> None:
        from viamlite.gen import robot_pb2

        call = dialed.channel.unary_unary(HEALTH_METHOD,
                                          request_serializer=robot_pb2.ResourceNamesRequest.SerializeToString,
                                          response_deserializer=robot_pb2.ResourceNamesResponse.FromString)
        try:
            call(robot_pb2.ResourceNamesRequest(), timeout=timeout)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                return  # it answers, it just has no robot service
            exc = from_rpc_error(err)
            if isinstance(exc, AuthError):
                if dialed.credentials is not None:
                    dialed.credentials.invalidate()
                raise exc from None
            raise ConnectError(f"{self.address} does not answer: {err.code().name}: {err.details()}") from None

    def check(self) -> bool:
        """Check the machine now; True when it answered."""
        dialed = self._dialed
        if dialed is None:
            return False
        try:
            self._check(dialed, self.check_timeout)
        except ViamliteError as exc:
            self.mark_down(str(exc))
            return False
        if self.state is ConnectionState.DISCONNECTED:
            self._set_state(ConnectionState.CONNECTED)
        return True

    def redial(self) -> bool:
        """Dial again (the machine may have restarted with a new certificate); True on success."""
        try:
            dialed = dial(self.address, timeout=self.check_timeout, **self._dial_args)
        except ViamliteError as exc:
            self.last_error = str(exc)
            return False
        try:
            self._check(dialed, self.check_timeout)
        except ViamliteError as exc:
            dialed.close()
            self.last_error = str(exc)
            return False
        self._install(dialed)
        log.info("reconnected to %s", self.address)
        return True

    # -- calls -------------------------------------------------------------------
    def _callable(self, path: str, response_class: type, streaming: bool = False) -> Any:
        with self._lock:
            if self.state is ConnectionState.CLOSED:
                raise ConnectError(f"the client of {self.address} is closed; connect again")
            if self.state is not ConnectionState.CONNECTED or self._dialed is None:
                raise ConnectError(f"not connected to {self.address} ({self.last_error or 'connecting'}); "
                                   f"reconnecting in the background, try again shortly")
            key = ("s" if streaming else "u") + path
            fn = self._callables.get(key)
            if fn is None:
                make = self._dialed.channel.unary_stream if streaming else self._dialed.channel.unary_unary
                fn = make(path, request_serializer=_serialize, response_deserializer=response_class.FromString)
                self._callables[key] = fn
            return fn

    def metadata(self, path: str = "") -> tuple[tuple[str, str], ...]:
        """The metadata a call to ``path`` carries: the hooks' pairs, in the order they were added."""
        out: list[tuple[str, str]] = []
        for hook in self._metadata_hooks:
            out.extend(hook(path))
        return tuple(out)

    def call_plain(self, path: str, request: Any, response_class: type, *, timeout: float | None = None) -> Any:
        """A unary call with no added metadata; grpc errors are raised as they are."""
        return self._callable(path, response_class)(request, timeout=timeout or self.timeout)

    def future(self, path: str, request: Any, response_class: type, timeout: float | None = None) -> Any:
        """Start a unary call; returns grpc's future (``result()``, ``cancel()``)."""
        return self._callable(path, response_class).future(request, timeout=timeout, metadata=self.metadata(path))

    def unary(self, path: str, request: Any, response_class: type, *, timeout: float | None = None,
              where: str = "") -> Any:
        """Make a unary call and return its response; failures raise typed errors.

        Interrupted (Ctrl-C), the call is cancelled on the wire, so the machine's operation
        ends too, and KeyboardInterrupt propagates.
        """
        fut = self.future(path, request, response_class, timeout)
        scope = cancel_scope.get()
        if scope is not None:
            scope.add(fut)
        try:
            return fut.result()
        except KeyboardInterrupt:
            fut.cancel()
            raise
        except grpc.RpcError as err:
            raise self.failure(err, where or path) from None
        except grpc.FutureCancelledError:
            from viamlite.errors import CancelledError

            raise CancelledError(f"{where or path}: the call was cancelled") from None

    def stream(self, path: str, request: Any, response_class: type, *, where: str = "") -> Any:
        """Iterate a server-streaming call's responses; closing the iterator cancels it."""
        call = self._callable(path, response_class, streaming=True)(request, metadata=self.metadata(path))
        try:
            for item in call:
                yield item
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.CANCELLED:
                return
            raise self.failure(err, where or path) from None
        finally:
            call.cancel()

    def failure(self, err: Any, where: str) -> ViamliteError:
        """The typed error for gRPC error ``err`` of a call (``where``); tells the error hooks,
        and marks the connection down when the machine could not be reached."""
        for hook in list(self._error_hooks):
            try:
                hook(err, where)
            except Exception:  # a hook's failure must not hide the call's error
                log.exception("call error hook failed")
        exc = from_rpc_error(err, where)
        if isinstance(exc, ConnectError):
            self.mark_down(err.details() or err.code().name)
            exc = ConnectError(f"{where}: lost the connection to {self.address} ({err.details()}); "
                               f"reconnecting in the background, try again shortly")
            exc.code = "UNAVAILABLE"  # type: ignore[attr-defined]
        elif err.code() == grpc.StatusCode.UNAUTHENTICATED and self._dialed and self._dialed.credentials:
            self._dialed.credentials.invalidate()
        return exc


def _serialize(message: Any) -> bytes:
    return message.SerializeToString()

