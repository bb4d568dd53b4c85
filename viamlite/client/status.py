"""gRPC status codes back to viamlite's typed errors, by the one status table (viamlite.rpc.status)."""
from __future__ import annotations

from typing import Any

from viamlite import errors
from viamlite.rpc import status

#: Phrases of grpc's own transport failures (as opposed to a server's UNAVAILABLE answer).
_TRANSPORT_PHRASES = ("failed to connect", "socket closed", "connection reset", "broken pipe", "goaway",
                      "connection refused", "empty address list", "channel closed", "not connected",
                      "connection aborted", "end of tcp stream", "handshake", "keepalive")


#: The families a call's status becomes (in viamlite.errors; the old names stay importable).
CallTimeoutError = errors.DeadlineExceededError
RemoteError = errors.RemoteError


def is_transport_failure(details: str) -> bool:
    text = details.lower()
    return any(p in text for p in _TRANSPORT_PHRASES)


def error_for(code_name: str, details: str, where: str = "") -> errors.ViamliteError:
    """The typed error for a status ``code_name`` (``NOT_FOUND``, ...) and its ``details``:
    the family viamlite's status table gives the code (``viamlite.rpc.status``), or
    :class:`~viamlite.errors.ConnectError` when grpc itself lost the connection.

    Every error carries ``.code`` (the status name) so a caller can still tell them apart.
    """
    message = details or code_name
    if where and not message.startswith(where):
        message = f"{where}: {message}"
    code = status.code_named(code_name)
    if code == status.Code.UNAVAILABLE and is_transport_failure(details):
        exc: errors.ViamliteError = errors.ConnectError(message)
    elif status.family_for(code) is errors.RemoteError:
        exc = errors.RemoteError(f"{code_name}: {message}")
    else:
        exc = status.reply_error(code, message)
    exc.code = code_name  # type: ignore[attr-defined]
    return exc


def from_rpc_error(err: Any, where: str = "") -> errors.ViamliteError:
    """The typed error for a ``grpc.RpcError``."""
    code = err.code()
    return error_for(getattr(code, "name", str(code)), err.details() or "", where)
