"""The member's line to its fleet: one gRPC channel, the part's credentials, and the
metadata every call carries.

* ``http://`` app addresses are dialed in plaintext; ``https://`` with TLS, trusting the
  fleet's own (self-signed) certificate when the fleet is on this host, the system's roots
  elsewhere.
* The part authenticates with ``proto.rpc.v1.AuthService/Authenticate`` (the part id and its
  secret, type ``robot-secret``; or an API key, type ``api-key``) and sends
  ``authorization: Bearer <token>`` on every call. A call answered UNAUTHENTICATED (the token
  expired) authenticates again once and is retried.
* Every call carries ``viamlite-part-address: HOST:PORT``, where the part serves, from
  which the fleet learns the part's address (``RobotPart.fqdn``).
"""
from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Sequence
from typing import Any

import grpc

from viamlite.config import CloudConfig
from viamlite.errors import ConnectError, PermissionDeniedError
from viamlite.rpc.status import RpcError
from viamlite.state import ConnectionState

log = logging.getLogger("viamlite.cloud")

AUTHENTICATE = "/proto.rpc.v1.AuthService/Authenticate"
ROBOT_SERVICE = "/viam.app.v1.RobotService/"
ADDRESS_HEADER = "viamlite-part-address"
#: Codes that say the fleet cannot be reached now (as opposed to refusing the request).
UNREACHABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED)
#: A fleet that comes back is dialed again within a second or two (grpc's own default
#: backoff grows to two minutes, which would hold back the logs queued meanwhile).
OPTIONS = (("grpc.max_receive_message_length", 16 * 1024 * 1024),
           ("grpc.max_send_message_length", 8 * 1024 * 1024),
           ("grpc.initial_reconnect_backoff_ms", 250),
           ("grpc.min_reconnect_backoff_ms", 250),
           ("grpc.max_reconnect_backoff_ms", 2000))


class FleetLink:
    """Calls to ``viam.app.v1.RobotService`` of the fleet in ``cloud``, on one channel.

    ``state`` is :attr:`~ConnectionState.CONNECTED` after a call went through and
    :attr:`~ConnectionState.DISCONNECTED` after one could not reach the fleet. Raises
    :class:`ConnectError` when the fleet cannot be reached, :class:`PermissionDeniedError`
    when it refuses the part's credentials, :class:`RpcError` (with the fleet's code) for
    any other refusal.
    """

    def __init__(self, cloud: CloudConfig) -> None:
        self.cloud = cloud
        self.part_address = ""
        self.state = ConnectionState.CONNECTING
        self._lock = threading.Lock()
        self._channel: Any = None
        self._token = ""
        self._closed = False

    # -- the channel -------------------------------------------------------------
    def _open(self, timeout: float) -> Any:
        with self._lock:
            if self._closed:
                raise ConnectError("the link to the fleet is closed")
            if self._channel is not None:
                return self._channel
        target = self.cloud.target
        if not self.cloud.tls:
            channel = grpc.insecure_channel(target, options=OPTIONS)
        else:
            channel = grpc.secure_channel(target, *self._tls(target, timeout))
        with self._lock:
            if self._channel is None and not self._closed:
                self._channel = channel
                return channel
        channel.close()
        with self._lock:
            if self._channel is None:
                raise ConnectError("the link to the fleet is closed")
            return self._channel

    def _tls(self, target: str, timeout: float) -> tuple[grpc.ChannelCredentials, tuple[tuple[str, Any], ...]]:
        from viamlite.transport import dial

        where = dial.parse_address(target)
        if not where.is_local:
            return grpc.ssl_channel_credentials(), OPTIONS
        der = dial.probe_certificate(where, timeout)  # ConnectError when nothing listens
        if der is None:
            raise ConnectError(f"the fleet at {self.cloud.app_address} does not speak TLS: "
                               f"write its address as http://{target} if it serves plaintext")
        pem = ssl.DER_cert_to_PEM_cert(der).encode()
        names = _certificate_names(der)
        options = OPTIONS
        if names and where.host not in names:
            options += (("grpc.ssl_target_name_override", names[0]),)
        return grpc.ssl_channel_credentials(root_certificates=pem), options

    def reset(self) -> None:
        """Drop the channel (the next call dials again)."""
        with self._lock:
            channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            channel, self._channel = self._channel, None
        self.state = ConnectionState.CLOSED
        if channel is not None:
            channel.close()

    # -- calls -------------------------------------------------------------------
    def _metadata(self) -> tuple[tuple[str, str], ...]:
        meta: tuple[tuple[str, str], ...] = ()
        if self._token:
            meta += (("authorization", f"Bearer {self._token}"),)
        if self.part_address:
            meta += ((ADDRESS_HEADER, self.part_address),)
        return meta

    def authenticate(self, timeout: float = 5.0) -> None:
        from viamlite.gen import auth_pb2

        entity, kind, payload = self.cloud.entity
        request = auth_pb2.AuthenticateRequest(entity=entity, credentials=auth_pb2.Credentials(type=kind, payload=payload))
        call = self._open(timeout).unary_unary(AUTHENTICATE, request_serializer=auth_pb2.AuthenticateRequest.SerializeToString,
                                               response_deserializer=auth_pb2.AuthenticateResponse.FromString)
        try:
            response = call(request, timeout=timeout)
        except grpc.RpcError as err:
            code, details = err.code(), err.details()
            if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
                self.state = ConnectionState.DISCONNECTED
                who = f"API key {entity!r}" if kind == "api-key" else f"part {entity!r} and its secret"
                raise PermissionDeniedError(f"the fleet at {self.cloud.app_address} refused {who}: {details}; check "
                                            f"cloud.{'api_key' if kind == 'api-key' else 'secret'} in the config") from None
            raise self._failure(err, "authenticating") from None
        self._token = response.access_token

    def call(self, method: str, request: Any, response_type: Any, timeout: float,
             extra: tuple[tuple[str, str], ...] = ()) -> Any:
        """One RobotService call (``method`` is its name: ``"Config"``); the reply message.
        ``extra`` is metadata for this call alone."""
        return self.invoke(ROBOT_SERVICE + method, request, response_type, timeout, extra=extra)

    def invoke(self, path: str, request: Any, response_type: Any, timeout: float, *, kind: str = "unary",
               extra: Sequence[tuple[str, str]] = ()) -> Any:
        """Call any fleet method at ``path`` with the part's credentials (authenticating
        again once if the token was refused). ``kind`` is ``unary``, ``unary_stream`` (the
        replies as a list) or ``stream_unary`` (``request`` is a list of messages)."""
        channel = self._open(timeout)
        first = request[0] if kind == "stream_unary" else request
        stub = getattr(channel, kind if kind != "unary" else "unary_unary")(
            path, request_serializer=type(first).SerializeToString, response_deserializer=response_type.FromString)
        for attempt in (1, 2):
            if not self._token:
                self.authenticate(timeout)
            try:
                payload = iter(request) if kind == "stream_unary" else request
                reply = stub(payload, timeout=timeout, metadata=self._metadata() + tuple(extra))
                if kind == "unary_stream":
                    reply = list(reply)
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.UNAUTHENTICATED and attempt == 1:
                    self._token = ""  # expired or revoked: authenticate again, once
                    continue
                raise self._failure(err, path.rsplit("/", 1)[-1]) from None
            self.state = ConnectionState.CONNECTED
            return reply
        raise AssertionError("unreachable")  # pragma: no cover

    def _failure(self, err: grpc.RpcError, doing: str) -> Exception:
        code, details = err.code(), err.details()
        if code in UNREACHABLE:
            self.state = ConnectionState.DISCONNECTED
            if self.cloud.tls:
                self.reset()  # the next call probes the fleet's certificate again (it may be a new one)
            return ConnectError(f"the fleet at {self.cloud.app_address} is unreachable ({doing}: {code.name}: {details})")
        self.state = ConnectionState.CONNECTED  # it answered: it is there, it refused
        from viamlite.rpc.status import code_named

        return RpcError(code_named(code.name), f"the fleet refused {doing}: {code.name}: {details}")


def _certificate_names(der: bytes) -> list[str]:
    """The names a certificate is for: its subject alternative names, then its common name."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        names += [n for n in san.get_values_for_type(x509.DNSName) if not n.startswith("*")]
    except x509.ExtensionNotFound:
        pass
    names += [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return names


__all__ = ["ADDRESS_HEADER", "FleetLink"]
