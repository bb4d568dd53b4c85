"""gRPC status codes back to viamlite's typed errors: the one place a client maps them."""
from __future__ import annotations

from typing import Any

from viamlite import errors

#: Phrases of grpc's own transport failures (as opposed to a server's UNAVAILABLE answer).
_TRANSPORT_PHRASES = ("failed to connect", "socket closed", "connection reset", "broken pipe", "goaway",
                      "connection refused", "empty address list", "channel closed", "not connected",
                      "connection aborted", "end of tcp stream", "handshake", "keepalive")


class CallTimeoutError(errors.ViamliteError, TimeoutError):
    """A call did not answer within its deadline."""


class RemoteError(errors.ViamliteError, RuntimeError):
    """The machine answered with a failure that has no more specific family."""


def is_transport_failure(details: str) -> bool:
    text = details.lower()
    return any(p in text for p in _TRANSPORT_PHRASES)


def error_for(code_name: str, details: str, where: str = "") -> errors.ViamliteError:
    """The typed error for a status ``code_name`` (``NOT_FOUND``, ...) and its ``details``.

    Every error carries ``.code`` (the status name) so a caller can still tell them apart.
    """
    message = details or code_name
    if where and not message.startswith(where):
        message = f"{where}: {message}"
    exc: errors.ViamliteError
    if code_name == "NOT_FOUND":
        exc = errors.ResourceNotFoundError("?", "")
        exc.args = (message,)
    elif code_name in ("INVALID_ARGUMENT", "OUT_OF_RANGE"):
        exc = errors.InvalidArgumentError(message)
    elif code_name == "UNIMPLEMENTED":
        exc = errors.NotSupportedError(message)
    elif code_name == "UNAVAILABLE":
        exc = errors.ConnectError(message) if is_transport_failure(details) else errors.UnhealthyResourceError(message)
    elif code_name == "CANCELLED":
        exc = errors.CancelledError(message)
    elif code_name == "ABORTED":
        exc = errors.AbortedError(message)
    elif code_name == "DEADLINE_EXCEEDED":
        exc = CallTimeoutError(message)
    elif code_name == "UNAUTHENTICATED":
        exc = errors.UnauthenticatedError(message)
    elif code_name == "PERMISSION_DENIED":
        exc = errors.PermissionDeniedError(message)
    else:
        exc = RemoteError(f"{code_name}: {message}")
    exc.code = code_name  # type: ignore[attr-defined]
    return exc


def from_rpc_error(err: Any, where: str = "") -> errors.ViamliteError:
    """The typed error for a ``grpc.RpcError``."""
    code = err.code()
    return error_for(getattr(code, "name", str(code)), err.details() or "", where)
