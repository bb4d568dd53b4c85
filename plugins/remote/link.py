"""A remote link over gRPC: dial, keep the resource list, forward calls as bytes, reconnect.

One :class:`~viamlite.reconnect.Reconnector` per link: while disconnected it dials every
``reconnect_interval`` (at once after a loss, then at that pace); while connected it
re-reads the remote's resource list every ``connection_check_interval``, and at once when
the channel reports the connection lost or a forwarded call fails UNAVAILABLE. Forwarded
calls never wait for the network when the link is down: they fail UNAVAILABLE at once,
naming the remote and its address.

The link holds a session on its remote (:class:`~viamlite.remotes.session.RemoteSession`):
started (or resumed) on every connect, heartbeated from its own thread, its id sent as
``viam-sid`` on every forwarded call, and restarted when the remote says it is gone; so the
remote stops what this machine moved there when this machine dies.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import grpc

from viamlite.config import RemoteConfig
from viamlite.names import API
from viamlite.reconnect import Backoff, Reconnector
from viamlite.remotes import (
    CHAINS_KEY,
    MACHINE_KEY,
    VIA_KEY,
    ForwardOptions,
    RemoteFrame,
    RemoteLink,
    RemoteResource,
)
from viamlite.remotes.session import SESSION_EXPIRED, SESSION_KEY, RemoteSession, SessionGone, SessionsUnsupported
from viamlite.rpc import Code, RpcError
from viamlite.state import ConnectionState

log = logging.getLogger("viamlite.remote")

ROBOT = "/viam.robot.v1.RobotService"
#: Longest wait for one of the link's own calls (listing, frames, StopAll).
CALL_TIMEOUT_S = 5.0
DIAL_TIMEOUT_S = 3.0
_LOST = {grpc.ChannelConnectivity.IDLE, grpc.ChannelConnectivity.TRANSIENT_FAILURE, grpc.ChannelConnectivity.SHUTDOWN}
_MAX_CACHED_PATHS = 256


def _session_expired(err: grpc.RpcError) -> bool:
    """The remote refused the call's session (as viam-server and viamlite do: INVALID_ARGUMENT)."""
    return _code(err) == Code.INVALID_ARGUMENT and (err.details() or "") == SESSION_EXPIRED  # type: ignore[attr-defined]


def _code(err: grpc.RpcError) -> Code:
    try:
        return Code(err.code().value[0])
    except (AttributeError, ValueError):
        return Code.UNKNOWN


class GrpcRemoteLink(RemoteLink):
    """A :class:`~viamlite.remotes.RemoteLink` speaking the Viam gRPC protocol."""

    def __init__(self, config: RemoteConfig, machine_id: str) -> None:
        super().__init__(config)
        self.machine_id = machine_id
        self._dialed: Any = None
        self._rpcs: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._keeper = Reconnector(state=lambda: self.state, check=self._check_now, reconnect=self._reconnect,
                                   check_interval=lambda: self.config.connection_check_interval,
                                   backoff=Backoff(config.reconnect_interval, factor=1.0),
                                   name=f"viamlite-remote-{self.name}")
        self._on_change: Callable[[], None] = lambda: None
        #: The session this link holds on its remote for the calls it forwards.
        self.session = RemoteSession(self.name, self._start_session, self._beat_session)

    # -- lifecycle -------------------------------------------------------------
    def start(self, on_change: Callable[[], None]) -> None:
        self._on_change = on_change
        self._keeper.start()

    def close(self) -> None:
        self._keeper.stop(timeout=CALL_TIMEOUT_S + DIAL_TIMEOUT_S)
        self.session.close()
        self._drop_channel()
        self.state = ConnectionState.CLOSED

    def _reconnect(self) -> None:
        try:
            self._connect()
        except Exception as exc:
            self._disconnected(exc)

    def _check_now(self) -> None:
        try:
            if self._sync(full=False):
                log.info("remote %r: resource list changed (%d resources)", self.name, len(self.resources))
                self._on_change()
        except Exception as exc:
            self._disconnected(exc)

    def _connect(self) -> None:
        from viamlite.transport.dial import dial

        cfg = self.config
        key_id, key = (cfg.auth_entity, cfg.auth_payload) if cfg.auth_payload else (None, None)
        dialed = dial(cfg.address, api_key_id=key_id, api_key=key, insecure=True if cfg.insecure else None,
                      timeout=DIAL_TIMEOUT_S)
        with self._lock:
            self._dialed, self._rpcs = dialed, {}
        try:
            self._sync(full=True)
        except BaseException:
            self._drop_channel()
            raise
        if self._keeper.stopping:
            self._drop_channel()
            return
        self.session.open()  # before CONNECTED: the first forwarded call carries its id
        dialed.channel.subscribe(self._connectivity, try_to_connect=False)
        self.state, self.error = ConnectionState.CONNECTED, ""
        log.info("remote %r connected at %s (%s): %d resources", self.name, cfg.address,
                 "TLS" if dialed.tls else "plaintext", len(self.resources))
        self._on_change()

    def _connectivity(self, state: grpc.ChannelConnectivity) -> None:
        if state in _LOST and self.state is ConnectionState.CONNECTED:
            self._keeper.wake()  # check now rather than at the next interval

    def _drop_channel(self) -> None:
        with self._lock:
            dialed, self._dialed, self._rpcs = self._dialed, None, {}
        if dialed is not None:
            try:
                dialed.channel.unsubscribe(self._connectivity)
            except (ValueError, KeyError):
                pass
            dialed.close()

    def _disconnected(self, exc: BaseException) -> None:
        self.session.pause()
        self._drop_channel()
        if isinstance(exc, grpc.RpcError):
            message = f"{exc.code().name}: {exc.details()}"  # type: ignore[attr-defined]
        else:
            message = str(exc) or type(exc).__name__
        was = self.state
        if self._keeper.stopping:
            self.error = message
            return
        self.state, self.error = ConnectionState.DISCONNECTED, message
        if was is not ConnectionState.DISCONNECTED:
            log.warning("remote %r at %s is not reachable (%s); retrying every %g s", self.name, self.config.address,
                        message, self.config.reconnect_interval)
            self._on_change()

    # -- the remote's lists ------------------------------------------------------
    def _rpc(self, kind: str, path: str) -> Any:
        key = (kind, path)
        rpc = self._rpcs.get(key)
        if rpc is None:
            with self._lock:
                dialed = self._dialed
                if dialed is None:
                    raise RpcError(Code.UNAVAILABLE, self.unavailable_message())
                if len(self._rpcs) > _MAX_CACHED_PATHS:
                    self._rpcs.clear()
                factory = {"uu": dialed.channel.unary_unary, "us": dialed.channel.unary_stream,
                           "ss": dialed.channel.stream_stream}[kind]
                rpc = self._rpcs[key] = factory(path)
        return rpc

    def _robot_call(self, method: str, request: Any, response_class: Any, *, via: Sequence[str] = (),
                    timeout: float = CALL_TIMEOUT_S) -> Any:
        rpc = self._rpc("uu", f"{ROBOT}/{method}")
        metadata = ((VIA_KEY, ",".join(via or (self.machine_id,))),)
        data, call = rpc.with_call(request.SerializeToString(), timeout=timeout, metadata=metadata)
        return response_class.FromString(data), call

    def _sync(self, *, full: bool) -> bool:
        """Re-read the remote's resources (and, when they changed, its APIs and frames);
        True when something changed."""
        from viamlite.gen import robot_pb2 as pb

        response, call = self._robot_call("ResourceNames", pb.ResourceNamesRequest(), pb.ResourceNamesResponse)
        trailing = {k: v for k, v in (call.trailing_metadata() or ())}
        peer = str(trailing.get(MACHINE_KEY, ""))
        try:
            groups = json.loads(trailing.get(CHAINS_KEY) or "{}")
            chains = {int(i): tuple(key.split(",")) for key, indices in groups.items() for i in indices}
        except (ValueError, TypeError, AttributeError):
            chains = {}
        resources = tuple(
            RemoteResource(API(r.namespace, r.type, r.subtype), r.name, tuple(r.remote_path),
                           (*chains.get(i, ()), peer) if peer else ())
            for i, r in enumerate(response.resources) if r.name and r.namespace and r.type and r.subtype)
        changed = resources != self.resources or peer != self.peer_id
        if not (changed or full):
            return False
        services = self._services()
        frames = self._frames()
        changed = changed or services != self.services or frames != self.frames
        self.peer_id, self.resources, self.services, self.frames = peer, resources, services, frames
        return changed

    def _services(self) -> dict[str, API]:
        from viamlite.gen import robot_pb2 as pb

        try:
            response, _ = self._robot_call("ResourceRPCSubtypes", pb.ResourceRPCSubtypesRequest(),
                                           pb.ResourceRPCSubtypesResponse)
        except grpc.RpcError as err:
            if _code(err) == Code.UNIMPLEMENTED:  # a viam-sdk server: APIs are told from service names
                return {}
            raise
        return {s.proto_service: API(s.subtype.namespace, s.subtype.type, s.subtype.subtype)
                for s in response.resource_rpc_subtypes if s.proto_service}

    def _frames(self) -> tuple[RemoteFrame, ...]:
        from viamlite.rpc.wire import pose_from_proto
        from viamlite.gen import robot_pb2 as pb

        try:
            response, _ = self._robot_call("FrameSystemConfig", pb.FrameSystemConfigRequest(),
                                           pb.FrameSystemConfigResponse)
        except grpc.RpcError as err:
            if _code(err) == Code.UNIMPLEMENTED:
                return ()
            raise
        out = []
        for item in response.frame_system_configs:
            frame = item.frame
            if not frame.reference_frame or frame.reference_frame == "world":
                continue
            geometry = frame.physical_object.SerializeToString() if frame.HasField("physical_object") else None
            out.append(RemoteFrame(frame.reference_frame, frame.pose_in_observer_frame.reference_frame or "world",
                                   pose_from_proto(frame.pose_in_observer_frame.pose), geometry))
        return tuple(out)

    # -- the session on the remote ------------------------------------------------------
    def _start_session(self, resume: str) -> tuple[str, float]:
        from viamlite.gen import robot_pb2 as pb

        try:
            response, _ = self._robot_call("StartSession", pb.StartSessionRequest(resume=resume),
                                           pb.StartSessionResponse)
        except grpc.RpcError as err:
            if _code(err) == Code.UNIMPLEMENTED:
                raise SessionsUnsupported() from None
            if resume and _code(err) != Code.UNAVAILABLE:  # a remote that will not resume: a new one
                return self._start_session("")
            raise self._error(err) from None
        return response.id, response.heartbeat_window.ToTimedelta().total_seconds()

    def _beat_session(self, sid: str) -> None:
        from viamlite.gen import robot_pb2 as pb

        try:
            self._robot_call("SendSessionHeartbeat", pb.SendSessionHeartbeatRequest(id=sid),
                             pb.SendSessionHeartbeatResponse, timeout=min(CALL_TIMEOUT_S, self.session.window))
        except grpc.RpcError as err:
            if _session_expired(err) or _code(err) == Code.NOT_FOUND:
                raise SessionGone(sid) from None
            raise self._error(err) from None

    def _with_session(self, path: str, options: ForwardOptions) -> tuple[tuple[tuple[str, str], ...], str]:
        extra = self.session.metadata_for(path)
        return (*options.metadata, *extra), (extra[0][1] if extra else "")

    # -- forwarding ---------------------------------------------------------------
    def _error(self, err: grpc.RpcError) -> RpcError:
        code = _code(err)
        details = err.details() or code.name  # type: ignore[attr-defined]
        if code == Code.UNAVAILABLE:
            self._keeper.wake()
            return RpcError(code, f"remote {self.name!r} at {self.config.address} is unavailable: {details}")
        return RpcError(code, details)

    def _check(self) -> None:
        if self.state is not ConnectionState.CONNECTED:
            raise RpcError(Code.UNAVAILABLE, self.unavailable_message())

    def unary(self, path: str, request: bytes, options: ForwardOptions) -> bytes:
        self._check()
        metadata, sid = self._with_session(path, options)
        for attempt in (1, 2):
            future = self._rpc("uu", path).future(request, timeout=options.timeout, metadata=metadata)
            if options.on_done is not None:
                options.on_done(future.cancel)
            try:
                return future.result()
            except grpc.RpcError as err:
                if attempt == 1 and sid and _session_expired(err):
                    # refused before it ran: again in a new session
                    metadata, sid = self._renewed(sid, options)
                    continue
                raise self._error(err) from None
            except grpc.FutureCancelledError:
                raise RpcError(Code.CANCELLED, f"the call to remote {self.name!r} was cancelled") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def stream(self, path: str, requests: bytes | Iterator[bytes], options: ForwardOptions) -> Iterator[bytes]:
        self._check()
        kind = "us" if isinstance(requests, bytes) else "ss"
        metadata, sid = self._with_session(path, options)
        responses = self._rpc(kind, path)(requests, timeout=options.timeout, metadata=metadata)
        if options.on_done is not None:
            options.on_done(responses.cancel)
        answered = False
        try:
            for response in responses:
                answered = True
                yield response
        except grpc.RpcError as err:
            if not (sid and _session_expired(err)):
                raise self._error(err) from None
            # refused before it ran: again in a new session, when the request can be sent again
            metadata, _ = self._renewed(sid, options)
            if answered or kind != "us":
                raise self._error(err) from None
            retry = self._rpc(kind, path)(requests, timeout=options.timeout, metadata=metadata)
            if options.on_done is not None:
                options.on_done(retry.cancel)
            try:
                yield from retry
            except grpc.RpcError as again:
                raise self._error(again) from None

    def _renewed(self, sid: str, options: ForwardOptions) -> tuple[tuple[tuple[str, str], ...], str]:
        fresh = self.session.renew(sid)
        return ((*options.metadata, (SESSION_KEY, fresh)) if fresh else options.metadata), fresh

    def stop_all(self, via: Sequence[str]) -> None:
        from viamlite.gen import robot_pb2 as pb

        self._check()
        try:
            self._robot_call("StopAll", pb.StopAllRequest(), pb.StopAllResponse, via=via)
        except grpc.RpcError as err:
            if _code(err) == Code.UNIMPLEMENTED:
                log.info("remote %r cannot StopAll (UNIMPLEMENTED)", self.name)
                return
            raise self._error(err) from None
