"""What adapters and transports share: a served method, a call, a status code.

Transport-neutral: the gRPC transport maps :class:`Code` to grpc's status codes, and
a transport of another kind can map it to its own. Adapters build :class:`Method` rows;
transports serve them.
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from viamlite import errors


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


class RpcError(Exception):
    """A call's failure: a code and a message a person can act on."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_CODES: tuple[tuple[type[BaseException], Code], ...] = (
    (errors.ResourceNotFoundError, Code.NOT_FOUND),
    (errors.InvalidArgumentError, Code.INVALID_ARGUMENT),
    (errors.ConfigError, Code.INVALID_ARGUMENT),
    (errors.NotSupportedError, Code.UNIMPLEMENTED),
    (errors.UnhealthyResourceError, Code.UNAVAILABLE),
    (errors.ResourceClosedError, Code.UNAVAILABLE),
    (errors.CancelledError, Code.CANCELLED),
    (errors.AbortedError, Code.ABORTED),
    (errors.UnauthenticatedError, Code.UNAUTHENTICATED),
    (PermissionError, Code.PERMISSION_DENIED),  # a driver denied a device, or a rejected key
    (TimeoutError, Code.DEADLINE_EXCEEDED),
    (NotImplementedError, Code.UNIMPLEMENTED),
)


def code_for(exc: BaseException) -> Code:
    """The status code an error family becomes, on every transport; anything not raised on
    purpose (a driver's bug) is UNKNOWN."""
    for family, code in _CODES:
        if isinstance(exc, family):
            return code
    return Code.UNKNOWN


def describe(exc: BaseException, where: str) -> str:
    """One line a person can act on: where it happened and what went wrong."""
    if isinstance(exc, errors.ViamliteError):
        return f"{where}: {exc}"
    return f"{where}: {type(exc).__name__}: {str(exc) or 'no details'}"


class Call(Protocol):
    """What an adapter may know of a call in flight, whatever the transport."""

    def metadata(self) -> Sequence[tuple[str, str | bytes]]: ...

    def add_done_callback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the call ends: answered, cancelled, or the client gone."""

    def is_active(self) -> bool: ...

    def time_remaining(self) -> float | None:
        """Seconds left before the caller's deadline (None: no deadline)."""

    def set_trailing_metadata(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Send ``pairs`` to the caller with the call's status."""


#: Asked for a path the transport does not serve: ``router(path, first request bytes, call)``
#: returns a relay (``relay(all request bytes) -> response bytes``) or None (UNIMPLEMENTED).
Router = Callable[[str, bytes, Call], "Callable[[Iterator[bytes]], Iterator[bytes]] | None"]


class Lane(enum.Enum):
    """Which workers run a method: quick resource calls, long calls, or machine control."""

    QUICK = "quick"
    LONG = "long"  # may block for seconds: moves, waits, streams
    CONTROL = "control"  # machine-wide calls (StopAll, ResourceNames) that must answer under load


@dataclass(frozen=True)
class Method:
    """One served method: full path, message classes, and the function that runs it.

    ``handler(request, call) -> response`` (unary) or an iterator of responses
    (``server_streaming``).
    """

    path: str
    request_class: type
    response_class: type
    handler: Callable[[Any, Call], Any]
    server_streaming: bool = False
    lane: Lane = Lane.QUICK
