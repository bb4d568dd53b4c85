"""Fast-path errors: failures of the link itself, and calls the server answered with an error.

A call's error reply carries a code (numbered as gRPC codes) and a message; the client
raises the class for that code, which also inherits the viamlite family (and builtin)
the server-side error came from, so ``except InvalidArgumentError`` works across the link.
"""
from __future__ import annotations

from viamlite import errors, rpc
from viamlite.fastpath.schema import Err


class FastPathError(errors.ViamliteError):
    """Root of the fast path's errors; ``code`` is the error code when the server sent one."""

    code: int = Err.UNKNOWN

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ProtocolError(FastPathError, ValueError):
    """A peer sent something the protocol does not allow (bad frame, bad message)."""

    code = Err.INVALID_ARGUMENT


class FrameTooLarge(ProtocolError):
    """A frame is longer than the receiver accepts."""

    code = Err.RESOURCE_EXHAUSTED


class ConnectionClosedError(FastPathError, ConnectionError):
    """The connection is closed; the message says by whom and why."""

    code = Err.UNAVAILABLE


class AuthError(FastPathError, PermissionError):
    """The handshake's credentials were missing or refused."""

    code = Err.UNAUTHENTICATED


class CallError(FastPathError):
    """The server answered a request with an error."""


class InvalidArgument(CallError, errors.InvalidArgumentError):
    code = Err.INVALID_ARGUMENT


class NotFound(CallError, LookupError):
    code = Err.NOT_FOUND


class NotSupported(CallError, errors.NotSupportedError):
    code = Err.UNIMPLEMENTED


class Unavailable(CallError, errors.UnhealthyResourceError):
    code = Err.UNAVAILABLE


class Cancelled(CallError, errors.CancelledError):
    code = Err.CANCELLED


class DeadlineExceeded(CallError, TimeoutError):
    code = Err.DEADLINE_EXCEEDED


class ResourceExhausted(CallError):
    code = Err.RESOURCE_EXHAUSTED


class FailedPrecondition(CallError, RuntimeError):
    code = Err.FAILED_PRECONDITION


class PermissionDenied(CallError, AuthError):
    code = Err.PERMISSION_DENIED


class Unauthenticated(CallError, AuthError):
    code = Err.UNAUTHENTICATED


_BY_CODE: dict[int, type[CallError]] = {c.code: c for c in (
    InvalidArgument, NotFound, NotSupported, Unavailable, Cancelled, DeadlineExceeded, ResourceExhausted,
    FailedPrecondition, PermissionDenied, Unauthenticated)}
_BY_CODE[rpc.Code.ABORTED] = type("Aborted", (CallError, errors.AbortedError), {"code": int(rpc.Code.ABORTED)})


def error_for(code: int, message: str) -> CallError:
    """The exception a client raises for an error reply."""
    cls = _BY_CODE.get(code, CallError)
    return cls(message, code)


# -- server side: which code a resource's exception becomes ---------------------------
# The same mapping as gRPC's (viamlite.rpc); the fast path's own errors carry their code.


def code_for(exc: BaseException) -> int:
    """The code for ``exc``; anything not raised on purpose (a driver's bug) is UNKNOWN."""
    if isinstance(exc, FastPathError):
        return exc.code
    return int(rpc.code_for(exc))


describe = rpc.describe
