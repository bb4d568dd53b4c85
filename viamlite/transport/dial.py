"""Dial a Viam-compatible machine over gRPC: address forms, TLS, and API-key credentials.

Used by the client and by remote links alike; knows nothing of resources.

* ``host:port`` (also ``grpc://``/``https://`` prefixes), ``unix:/path`` or a socket path.
* TLS is detected by probing: a server that speaks TLS is dialed with TLS. For a local host
  (``localhost``, ``127.*``, ``::1``, ``0.0.0.0``) the server's own certificate is trusted, as
  the Viam SDKs accept a self-signed certificate there; elsewhere the system's roots are used.
* API keys are exchanged at ``/proto.rpc.v1.AuthService/Authenticate`` for an access token,
  sent as ``authorization: Bearer <token>`` on every call, refreshed before it expires.
  Keys travel only over TLS unless ``insecure=True`` says plaintext is wanted.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import logging
import os
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Any

import grpc

from viamlite.address import AddressError, show_host, split_host_port, strip_scheme
from viamlite.errors import ConnectError, PermissionDeniedError, UnauthenticatedError

log = logging.getLogger("viamlite.dial")

AUTHENTICATE = "/proto.rpc.v1.AuthService/Authenticate"
#: A token is refreshed this long before it expires (at most; sooner for short-lived tokens).
REFRESH_MARGIN_S = 30.0
#: No client keepalive pings: servers with grpc's default policy (grpcio, viam-server) answer
#: pings more often than every 5 minutes with GOAWAY "too_many_pings", which breaks long
#: streams; the client's own health checks notice a dead machine instead.
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
)


@dataclass(frozen=True)
class Target:
    """Where to dial: a grpc target string and, for TCP, its host and port."""

    target: str
    host: str = ""
    port: int = 0

    @property
    def is_unix(self) -> bool:
        return self.target.startswith("unix:")

    @property
    def is_local(self) -> bool:
        if self.is_unix or self.host == "localhost":
            return True
        try:
            ip = ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return ip.is_loopback or ip.is_unspecified


def parse_address(address: str) -> Target:
    """``host:port``, ``[v6]:port``, ``unix:/path`` or an existing socket path."""
    text = strip_scheme(address.strip())
    if text.startswith("unix:"):
        return Target(f"unix:{os.path.abspath(text[len('unix:'):].removeprefix('//'))}")
    if text.startswith("/") or (os.path.sep in text and os.path.exists(text)):
        return Target(f"unix:{os.path.abspath(text)}")
    try:
        host, port = split_host_port(text, need_host=True, allow_zero=False)
    except AddressError:
        raise ConnectError(f"cannot dial {address!r}: expected HOST:PORT (such as localhost:8080) or unix:/path") from None
    return Target(f"{show_host(host)}:{port}", host, port)


def probe_certificate(target: Target, timeout: float) -> bytes | None:
    """The server's TLS certificate (DER), or None when it speaks plaintext.

    Raises :class:`ConnectError` when nothing listens there.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    started = time.monotonic()
    try:
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
    except socket.timeout:
        raise ConnectError(f"cannot reach {target.target}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise ConnectError(f"cannot reach {target.target}: {exc.strerror or exc}") from None
    try:
        sock.settimeout(max(0.05, timeout - (time.monotonic() - started)))  # one timeout for connect and handshake
        with context.wrap_socket(sock, server_hostname=target.host or None) as tls:
            return tls.getpeercert(binary_form=True)
    except (ssl.SSLError, ConnectionResetError, socket.timeout):
        return None
    except OSError as exc:
        raise ConnectError(f"cannot reach {target.target}: {exc.strerror or exc}") from None
    finally:
        sock.close()


def _name_in_certificate(der: bytes, fallback: str) -> str:
    """A name the certificate is valid for, to check it against (``fallback`` if it names
    ``fallback`` itself)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
        names += san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        pass
    names += [str(attr.value) for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if fallback in names or not names:
        return fallback
    return next((n for n in names if not n.startswith("*")), names[0])


def _token_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, read without verifying it (the server verifies)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


class ApiKeyCredentials(grpc.AuthMetadataPlugin):
    """Exchanges an API key for access tokens and attaches them to every call."""

    def __init__(self, channel_credentials: grpc.ChannelCredentials | None, target: str, key_id: str, key: str,
                 options: tuple[tuple[str, Any], ...], timeout: float) -> None:
        self._channel_credentials = channel_credentials
        self._target = target
        self._options = options
        self._key_id = key_id
        self._key = key
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0

    def authenticate(self) -> str:
        """A fresh token; raises :class:`PermissionDeniedError` for a rejected key and
        :class:`ConnectError` when the machine cannot be reached."""
        from viamlite.gen import auth_pb2

        request = auth_pb2.AuthenticateRequest(
            entity=self._key_id, credentials=auth_pb2.Credentials(type="api-key", payload=self._key))
        if self._channel_credentials is None:
            channel = grpc.insecure_channel(self._target, options=self._options)
        else:
            channel = grpc.secure_channel(self._target, self._channel_credentials, options=self._options)
        try:
            call = channel.unary_unary(AUTHENTICATE, request_serializer=auth_pb2.AuthenticateRequest.SerializeToString,
                                       response_deserializer=auth_pb2.AuthenticateResponse.FromString)
            response = call(request, timeout=self._timeout)
        except grpc.RpcError as err:
            code, details = err.code(), err.details()
            if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
                raise PermissionDeniedError(f"{self._target} rejected API key {self._key_id!r}: {details}") from None
            if code == grpc.StatusCode.UNIMPLEMENTED:
                raise PermissionDeniedError(f"{self._target} does not offer API-key authentication "
                                            f"(AuthService is not implemented): dial it without a key") from None
            raise ConnectError(f"cannot authenticate to {self._target}: {code.name}: {details}") from None
        finally:
            channel.close()
        with self._lock:
            self._token = response.access_token
            expiry = _token_expiry(self._token)
            now = time.time()
            # Refresh ahead of expiry: 30 s, or a fifth of a short token's life.
            self._expires = expiry - min(REFRESH_MARGIN_S, (expiry - now) / 5) if expiry else now + 300.0
        return self._token

    def token(self) -> str:
        with self._lock:
            if self._token is not None and time.time() < self._expires:
                return self._token
        return self.authenticate()

    def invalidate(self) -> None:
        """Forget the token (after an UNAUTHENTICATED answer); the next call authenticates."""
        with self._lock:
            self._token = None

    def __call__(self, context: grpc.AuthMetadataContext, callback: grpc.AuthMetadataPluginCallback) -> None:
        try:
            callback((("authorization", f"Bearer {self.token()}"),), None)
        except Exception as exc:  # reported to grpc, which fails the call with it
            callback((), exc)


@dataclass
class Dialed:
    """A dialed machine: its channel and what was learned while dialing."""

    channel: Any
    target: Target
    tls: bool
    credentials: ApiKeyCredentials | None = None

    def close(self) -> None:
        result = self.channel.close()
        if hasattr(result, "__await__"):  # an aio channel's close is a coroutine
            result.close()


def dial(address: str, *, api_key_id: str | None = None, api_key: str | None = None, insecure: bool | None = None,
         timeout: float = 10.0, aio: bool = False, options: tuple[tuple[str, Any], ...] = CHANNEL_OPTIONS) -> Dialed:
    """Open a channel to the machine at ``address`` (``aio=True``: a ``grpc.aio`` channel).

    ``insecure``: None detects TLS; True dials plaintext (credentials then travel in clear,
    with a warning); False requires TLS. With a key, the key is checked here, so a wrong key
    raises :class:`PermissionDeniedError` at once.
    """
    if (api_key_id is None) != (api_key is None):
        raise UnauthenticatedError("an API key needs both its id and its key: pass api_key_id and api_key")
    target = parse_address(address)
    tls = False
    channel_credentials: grpc.ChannelCredentials | None = None
    opts = tuple(options)
    if not target.is_unix and insecure is not True:
        der = probe_certificate(target, timeout)
        if der is None and insecure is False:
            raise ConnectError(f"{target.target} does not speak TLS; dial it with insecure=True to use plaintext")
        if der is not None:
            tls = True
            if target.is_local:
                pem = ssl.DER_cert_to_PEM_cert(der).encode()
                channel_credentials = grpc.ssl_channel_credentials(root_certificates=pem)
                name = _name_in_certificate(der, target.host)
                if name != target.host:
                    opts += (("grpc.ssl_target_name_override", name),)
            else:
                channel_credentials = grpc.ssl_channel_credentials()
    credentials = None
    if api_key_id is not None and api_key is not None:
        if not tls:
            if insecure is not True and not target.is_unix:
                raise ConnectError(f"{target.target} speaks plaintext: API keys are sent only over TLS. Serve it "
                                   f"with TLS, or dial with insecure=True to send the key in clear")
            if not target.is_local:
                raise ConnectError(f"{target.target} speaks plaintext and is not on this host: API keys are "
                                   f"never sent in clear over a network; serve it with TLS")
            if not target.is_unix:
                log.warning("sending API key %r to %s in clear text (insecure=True)", api_key_id, target.target)
            # grpc attaches call credentials to plaintext only on local connections.
            kind = grpc.LocalConnectionType.UDS if target.is_unix else grpc.LocalConnectionType.LOCAL_TCP
            channel_credentials = grpc.local_channel_credentials(kind)
        credentials = ApiKeyCredentials(channel_credentials, target.target, api_key_id, api_key, opts, timeout)
        credentials.authenticate()
    grpc_mod: Any = grpc.aio if aio else grpc
    if channel_credentials is None:
        channel = grpc_mod.insecure_channel(target.target, options=opts)
    else:
        composite = channel_credentials
        if credentials is not None:
            composite = grpc.composite_channel_credentials(channel_credentials,
                                                           grpc.metadata_call_credentials(credentials))
        channel = grpc_mod.secure_channel(target.target, composite, options=opts)
    return Dialed(channel, target, tls, credentials)
