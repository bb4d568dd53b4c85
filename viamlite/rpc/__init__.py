"""What both ends of a call share: a served method, a call, a status code, the wire codec.

Transport-neutral: the gRPC transport maps :class:`Code` to grpc's status codes, and
a transport of another kind can map it to its own. Adapters build :class:`Method` rows;
transports serve them.

* :mod:`viamlite.rpc.status`: THE table of error families and status codes
  (:class:`Code`, :func:`code_for`, :class:`RpcError`), read by every server and client.
* :mod:`viamlite.rpc.wire`: protobuf messages <-> viamlite's Python values, used by the
  server's adapters, the client and the remote link (imported on its own: it needs protobuf).
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from viamlite.rpc.status import TABLE, Code, RpcError, code_for, describe


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
    (``server_streaming``); with ``client_streaming`` too (a bidirectional stream),
    ``handler(requests, call)`` gets an iterator of the caller's requests. With
    ``client_streaming`` alone, ``handler(requests, call)`` returns one response.
    """

    path: str
    request_class: type
    response_class: type
    handler: Callable[[Any, Call], Any]
    server_streaming: bool = False
    lane: Lane = Lane.QUICK
    client_streaming: bool = False


__all__ = ["TABLE", "Call", "Code", "Lane", "Method", "Router", "RpcError", "code_for", "describe"]
