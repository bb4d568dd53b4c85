"""Fast-path errors: failures of the link itself, and calls the server answered with an error.

A call's error reply carries a code (numbered as gRPC codes) and a message; the client
raises the class for that code, which also inherits the viamlite family (and builtin)
the server-side error came from, so ``except InvalidArgumentError`` works across the link.
"""
from __future__ import annotations

from viamlite import errors
from viamlite.fastpath.schema import Err
from viamlite.rpc import status


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


class ConnectionClosedError(FastPathError, errors.ConnectError):
    """The connection is closed; the message says by whom and why."""

    code = Err.UNAVAILABLE


#: The handshake's credentials were missing or refused: viamlite's one AuthError
#: (``AuthError(message, code)``; ``except AuthError`` works on every client).
AuthError = errors.AuthError


class CallError(FastPathError):
    """The server answered a request with an error; ``error_for`` raises the subclass for its
    code, which also inherits the family the status table gives that code."""


def _reply_class(row: status.Status, name: str) -> type[CallError]:
    doc = f"An ERROR reply with code {int(row.code)} {row.code.name}: a {row.family.__name__}."
    return type(name, (CallError, row.family), {"code": row.code, "__module__": __name__, "__doc__": doc})


#: Each code's class, one per row of viamlite.rpc.status.TABLE (named after the code).
_BY_CODE: dict[int, type[CallError]] = {
    row.code: _reply_class(row, {"UNIMPLEMENTED": "NotSupported"}.get(
        row.code.name, row.code.name.title().replace("_", ""))) for row in status.TABLE}

Cancelled = _BY_CODE[Err.CANCELLED]
InvalidArgument = _BY_CODE[Err.INVALID_ARGUMENT]
DeadlineExceeded = _BY_CODE[Err.DEADLINE_EXCEEDED]
NotFound = _BY_CODE[Err.NOT_FOUND]
PermissionDenied = _BY_CODE[Err.PERMISSION_DENIED]
ResourceExhausted = _BY_CODE[Err.RESOURCE_EXHAUSTED]
FailedPrecondition = _BY_CODE[Err.FAILED_PRECONDITION]
Aborted = _BY_CODE[Err.ABORTED]
OutOfRange = _BY_CODE[Err.OUT_OF_RANGE]
NotSupported = _BY_CODE[Err.UNIMPLEMENTED]
Unavailable = _BY_CODE[Err.UNAVAILABLE]
Unauthenticated = _BY_CODE[Err.UNAUTHENTICATED]


class Unknown(CallError, errors.RemoteError):
    """An ERROR reply with a code no family has (UNKNOWN, INTERNAL, ...): the driver failed."""


def error_for(code: int, message: str) -> CallError:
    """The exception a client raises for an error reply."""
    return _BY_CODE.get(code, Unknown)(message, code)


# -- server side: which code a resource's exception becomes ---------------------------
# The status table's (viamlite.rpc.status); the fast path's own errors carry their code.


def code_for(exc: BaseException) -> int:
    """The code for ``exc``; anything not raised on purpose (a driver's bug) is UNKNOWN."""
    if isinstance(exc, FastPathError):
        return exc.code
    return status.code_for(exc)


describe = status.describe
