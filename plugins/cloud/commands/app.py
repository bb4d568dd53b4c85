"""The app, dialed with an API key: ``viam.app.v1.AppService`` calls by name.

``https://HOST[:PORT]`` (default port 443) is TLS, with a self-signed certificate trusted on
this host only (as the Viam SDKs do); ``http://HOST[:PORT]`` (default port 8080, as the Viam
CLI reads it) is plaintext, which sends the key in clear, so it is allowed only to an app on
this host. Every gRPC failure becomes a :class:`~.errors.CommandError` naming the app and the fix.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from viamlite_plugins.cloud.commands.errors import CommandError, UsageError

log = logging.getLogger("viamlite.cloud.commands")

DEFAULT_BASE_URL = "https://app.viam.com"
APP_SERVICE = "viam.app.v1.AppService"
#: Seconds to reach the app and to wait for one of its answers.
DIAL_TIMEOUT_S = 10.0
CALL_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class BaseURL:
    """A parsed ``--base-url``."""

    url: str
    host: str
    port: int
    plaintext: bool

    @property
    def target(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def parse(cls, text: str) -> "BaseURL":
        raw = text.strip()
        parts = urlsplit(raw if "://" in raw else f"https://{raw}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--base-url {text!r} is not an app URL: write https://HOST[:PORT] (TLS) or "
                             f"http://HOST[:PORT] (plaintext, this host only)")
        try:
            port = parts.port or (8080 if parts.scheme == "http" else 443)
        except ValueError:
            raise UsageError(f"--base-url {text!r} has a port that is not a number") from None
        url = f"{parts.scheme}://{parts.netloc}"
        return cls(url, parts.hostname, port, parts.scheme == "http")

    def same_as(self, other: "BaseURL") -> bool:
        return (self.host, self.port, self.plaintext) == (other.host, other.port, other.plaintext)


def _method_classes(method: str) -> tuple[type, type]:
    from viamlite.gen.app import app_pb2

    try:
        return getattr(app_pb2, f"{method}Request"), getattr(app_pb2, f"{method}Response")
    except AttributeError:
        raise CommandError(f"viamlite has no {APP_SERVICE}/{method} message: this is a bug of the command") from None


class AppClient:
    """One app, dialed with ``key_id``/``key``; the key is checked as it is dialed."""

    def __init__(self, base: BaseURL, key_id: str, key: str) -> None:
        from viamlite.errors import ConnectError, PermissionDeniedError
        from viamlite.transport.dial import dial

        self.base = base
        self.key_id = key_id
        try:
            self._dialed = dial(base.target, api_key_id=key_id, api_key=key, insecure=base.plaintext or False,
                                timeout=DIAL_TIMEOUT_S)
        except PermissionDeniedError as exc:
            raise CommandError(f"the app at {base.url} refused API key {key_id!r} ({_reason(str(exc))}): check the "
                               f"key id and key, or log in with a key that exists (viamlite login api-key)") from None
        except ConnectError as exc:
            raise CommandError(f"cannot reach the app at {base.url}: {_reason(str(exc))}; check that it is up and "
                               f"the --base-url (https:// for TLS, http:// for plaintext)") from None

    @property
    def channel(self) -> Any:
        """The gRPC channel to the app, carrying the login's token (for services beyond AppService)."""
        return self._dialed.channel

    @property
    def access_token(self) -> str:
        assert self._dialed.credentials is not None
        return self._dialed.credentials.token()

    def call(self, method: str, request: Any = None, *, what: str = "", **fields: Any) -> Any:
        """``AppService/method`` with ``request`` (or a request of ``fields``); its response.

        ``what`` says what was asked for, for the NOT_FOUND line (``machine 'x'``)."""
        import grpc

        request_class, response_class = _method_classes(method)
        if request is None:
            request = request_class(**fields)
        call = self._dialed.channel.unary_unary(f"/{APP_SERVICE}/{method}",
                                                request_serializer=request_class.SerializeToString,
                                                response_deserializer=response_class.FromString)
        log.debug("%s %s", method, request)
        try:
            return call(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as err:
            raise self.failure(err, method, what) from None

    def stream(self, method: str, request: Any) -> Iterator[Any]:
        """A server stream's responses (closing the iterator cancels the call)."""
        import grpc

        request_class, response_class = _method_classes(method)
        call = self._dialed.channel.unary_stream(f"/{APP_SERVICE}/{method}",
                                                 request_serializer=request_class.SerializeToString,
                                                 response_deserializer=response_class.FromString)
        responses = call(request)
        try:
            yield from responses
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                raise self.failure(err, method, "") from None
        finally:
            responses.cancel()

    def failure(self, err: Any, method: str, what: str) -> CommandError:
        import grpc

        code, details = err.code(), err.details() or ""
        if code == grpc.StatusCode.NOT_FOUND:
            return CommandError(f"{what or 'it'} was not found by the app at {self.base.url} ({details}), or the "
                                f"logged-in key may not see it: check the name or id")
        if code == grpc.StatusCode.PERMISSION_DENIED:
            return CommandError(f"the logged-in key may not do this ({method}: {details}): log in with a key that "
                                f"owns it (viamlite login api-key)")
        if code == grpc.StatusCode.UNAUTHENTICATED:
            return CommandError(f"the app at {self.base.url} no longer accepts the logged-in key ({details}): it was "
                                f"deleted or has expired; log in with a valid key")
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            return CommandError(f"the app refused {method}: {details}", 2)
        if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            return CommandError(f"lost the app at {self.base.url} during {method} ({code.name}: {details}); "
                                f"try again when it is up")
        if code == grpc.StatusCode.FAILED_PRECONDITION:
            return CommandError(f"the app refused {method}: {details}; run the command again")
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return CommandError(f"the app at {self.base.url} does not offer {method}: {details}")
        return CommandError(f"{method} failed at {self.base.url}: {code.name}: {details}")

    def close(self) -> None:
        self._dialed.close()


def _reason(text: str) -> str:
    """The useful tail of a dial error (the target is already named)."""
    return text.rstrip(".")
