"""Forwarding calls for remote resources: any method of any API, as bytes.

Two ways in: a call of an API served here whose name is not a local resource but a
remote one (:func:`forward_unary`, :func:`forward_stream`, used by the resource services),
and a call of a path nothing here serves (:class:`RemoteRouter`, asked by the transport).
Either way the request's name (field 1 of every Viam resource request) becomes the
remote's own, the call goes out on the remote's link with the caller's deadline and
cancellation, and the remote's answer (or status) comes back unchanged.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from viamlite.remotes import protowire
from viamlite.gen import POOL, is_safety_monitored
from viamlite.remotes import VIA_KEY, ForwardOptions, RemoteManager, Route, service_matches
from viamlite.rpc import Call, Code, RpcError

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine

_NO_DEADLINE_S = 365 * 24 * 3600.0


class RawMessage:
    """A response already serialized (by the remote): the transport sends its bytes as they are."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def SerializeToString(self) -> bytes:  # noqa: N802 - the protobuf message interface
        return self.data


class Forwarded:
    """A mixin for a local resource served by another process (a module's): calls of any API
    to it are forwarded as bytes over ``route`` (whose link has the remote links' ``unary`` and
    ``stream``), as calls to a remote part's resources are."""

    route: Route


def options_for(manager: RemoteManager, call: Call) -> ForwardOptions:
    """Deadline, loop marker and cancellation for forwarding ``call``; refuses a call that
    already passed through this machine."""
    via = manager.via(call.metadata())
    if manager.machine_id in via:
        raise RpcError(Code.FAILED_PRECONDITION, "remote parts form a forwarding loop through this machine; "
                                                 "remove one of the remotes that list each other's remotes")
    remaining = getattr(call, "time_remaining", None)
    timeout = remaining() if remaining is not None else None
    if timeout is not None and timeout > _NO_DEADLINE_S:  # grpcio reports "no deadline" as a huge number
        timeout = None
    return ForwardOptions(timeout=timeout, metadata=((VIA_KEY, ",".join((*via, manager.machine_id))),),
                          on_done=lambda cancel: call.add_done_callback(cancel))


def forward_unary(manager: RemoteManager, route: Route, path: str, request: Any, name_field: str,
                  call: Call) -> RawMessage:
    """Forward a parsed unary request for ``route``; the answer is the remote's bytes."""
    setattr(request, name_field, route.remote_name)
    return RawMessage(route.link.unary(path, request.SerializeToString(), options_for(manager, call)))


def forward_stream(manager: RemoteManager, route: Route, path: str, request: Any, name_field: str,
                   call: Call) -> Iterator[RawMessage]:
    """Forward a parsed server-streaming request for ``route``."""
    setattr(request, name_field, route.remote_name)
    for data in route.link.stream(path, request.SerializeToString(), options_for(manager, call)):
        yield RawMessage(data)


class RemoteRouter:
    """The transport's router: relays calls of paths not served here to the remote that
    has the named resource."""

    def __init__(self, machine: "Machine", join: "Callable[[Machine, Call, Any, bool], Any] | None" = None) -> None:
        """``join(machine, call, key, monitored)`` puts a relayed call in its caller's session (the
        transport's adapters give theirs), so an expired session stops what it moved there too."""
        self.machine = machine
        self.manager: RemoteManager = machine.remotes
        self._join = join

    def __call__(self, path: str, first: bytes, call: Call) -> Callable[[Iterator[bytes]], Iterator[bytes]] | None:
        name = protowire.read_string(first, 1)
        if not name:
            return None
        route = self._forwarded(path, name) or self.manager.route_for_path(path, name)
        if route is None:
            return None
        # A call this machine has no adapter for may still move something (an arm, say):
        # in a session, remember it, so an expired session stops it there.
        monitored = is_safety_monitored(path) or not _known_service(path)
        if self._join is not None:
            self._join(self.machine, call, (route.api, route.name), monitored)
        options = options_for(self.manager, call)

        def renamed(requests: Iterator[bytes]) -> Iterator[bytes]:
            for data in requests:
                yield protowire.replace_string(data, route.remote_name, 1)

        def relay(requests: Iterator[bytes]) -> Iterator[bytes]:
            return route.link.stream(path, renamed(requests), options)

        return relay

    def _forwarded(self, path: str, name: str) -> Route | None:
        """The route of local resource ``name`` when another process serves it (a module's)
        and ``path`` is a method of its API."""
        entry = self.machine.entry(name)
        resource = entry.resource if entry is not None else None
        if not isinstance(resource, Forwarded):
            return None
        route = resource.route
        service = path.split("/")[1] if path.count("/") >= 2 else ""
        services = getattr(route.link, "services", {})
        if services.get(service) == route.api or service_matches(service, route.api):
            return route
        return None


def _known_service(path: str) -> bool:
    try:
        POOL.FindServiceByName(path.lstrip("/").rpartition("/")[0])
    except KeyError:
        return False
    return True
