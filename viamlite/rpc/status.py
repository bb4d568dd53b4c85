"""THE status table: viamlite's error families and the status codes they travel as.

Every transport and client reads this one table:

* a server (gRPC, the fast path, the firmware's codes in ``firmware/src/schema.h``) answers a
  failed call with :func:`code_for` of the exception;
* a client (gRPC's ``viamlite.client``, the fast-path clients) raises :func:`family_for` of
  the code it got back, so ``except InvalidArgumentError`` works whichever way the call went.

Each row is one code and the family a client raises for it; ``also`` lists other errors a
server answers with that code. A code without a row comes back as :class:`RemoteError`.
Codes are numbered as gRPC numbers them (the fast path sends the same numbers).
"""
from __future__ import annotations

import enum
from typing import NamedTuple

from viamlite import errors
from viamlite.errors import RemoteError


class Code(enum.IntEnum):
    """Status codes, numbered as gRPC numbers them."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


class Status(NamedTuple):
    """One row: a status code, the family a client raises for it, and what else a server
    answers with it."""

    code: Code
    family: type[errors.ViamliteError]
    also: tuple[type[BaseException], ...] = ()


TABLE: tuple[Status, ...] = (
    Status(Code.CANCELLED, errors.CancelledError),
    Status(Code.INVALID_ARGUMENT, errors.InvalidArgumentError, (errors.ConfigError,)),
    Status(Code.DEADLINE_EXCEEDED, errors.DeadlineExceededError, (TimeoutError,)),
    Status(Code.NOT_FOUND, errors.ResourceNotFoundError),
    Status(Code.PERMISSION_DENIED, errors.PermissionDeniedError,
           (PermissionError,)),  # a driver denied a device; an AuthError with no finer family
    Status(Code.RESOURCE_EXHAUSTED, errors.ResourceExhaustedError),
    Status(Code.FAILED_PRECONDITION, errors.FailedPreconditionError),
    Status(Code.ABORTED, errors.AbortedError),
    Status(Code.OUT_OF_RANGE, errors.InvalidArgumentError),  # a client's view; a server answers INVALID_ARGUMENT
    Status(Code.UNIMPLEMENTED, errors.NotSupportedError, (NotImplementedError,)),
    Status(Code.UNAVAILABLE, errors.UnhealthyResourceError, (errors.ResourceClosedError, errors.ConnectError)),
    Status(Code.UNAUTHENTICATED, errors.UnauthenticatedError),
)

#: Client side: code -> family.
_FAMILY: dict[int, type[errors.ViamliteError]] = {row.code: row.family for row in TABLE}
#: Server side, in the order tried: every row's family first (the first row of a family
#: wins), then what rows list as ``also``, so a family is never shadowed by a builtin it inherits.
_first: dict[type[BaseException], Code] = {}
for _row in TABLE:
    _first.setdefault(_row.family, _row.code)
for _row in TABLE:
    for _kind in _row.also:
        _first.setdefault(_kind, _row.code)
_RAISED: tuple[tuple[type[BaseException], Code], ...] = tuple(_first.items())
del _first, _row, _kind


class RpcError(errors.ViamliteError):
    """A call's failure with an explicit code, and a message a person can act on.

    Transports answer it with its own ``code``; the table is for every other exception.
    """

    def __init__(self, code: Code | int, message: str) -> None:
        super().__init__(message)
        try:
            self.code: Code | int = Code(code)
        except ValueError:  # a number no status has (relayed as a peer sent it): kept as is
            self.code = code
        self.message = message


def code_for(exc: BaseException) -> Code:
    """The status code an error becomes, on every transport; anything not raised on
    purpose (a driver's bug) is UNKNOWN."""
    if isinstance(exc, RpcError):
        return exc.code if isinstance(exc.code, Code) else Code.UNKNOWN
    for family, code in _RAISED:
        if isinstance(exc, family):
            return code
    return Code.UNKNOWN


def family_for(code: int) -> type[errors.ViamliteError]:
    """The family a client raises for status ``code`` (RemoteError when it has none)."""
    return _FAMILY.get(code, RemoteError)


def code_named(name: str) -> Code:
    """``"NOT_FOUND"`` -> Code.NOT_FOUND; an unknown name is UNKNOWN."""
    return Code.__members__.get(name, Code.UNKNOWN)


def reply_error(code: int, message: str) -> errors.ViamliteError:
    """The typed error for a failed reply with ``code`` and ``message``."""
    family = family_for(code)
    return RemoteError(f"{code_name(code)}: {message}") if family is RemoteError else family(message)


def code_name(code: int) -> str:
    """``5`` -> ``"NOT_FOUND"`` (``"code 99"`` for a number no status has)."""
    try:
        return Code(code).name
    except ValueError:
        return f"code {code}"


def describe(exc: BaseException, where: str) -> str:
    """One line a person can act on: where it happened and what went wrong."""
    if isinstance(exc, errors.ViamliteError):
        return f"{where}: {exc}"
    return f"{where}: {type(exc).__name__}: {str(exc) or 'no details'}"


__all__ = ["Code", "RpcError", "Status", "TABLE", "code_for", "code_name", "code_named", "describe", "family_for",
           "reply_error"]
