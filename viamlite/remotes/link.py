"""The link contract: what a transport provides to make one remote part's resources usable
here (the ``viamlite_remote_link`` hook returns a :class:`RemoteLink`), and what it reports."""
from __future__ import annotations

import enum
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from viamlite.config import RemoteConfig
from viamlite.names import API
from viamlite.state import ConnectionState

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.spatial import Pose

log = logging.getLogger("viamlite.remotes")

#: Call metadata: comma-separated ids of the machines a call or listing passed through.
VIA_KEY = "viamlite-via"
#: Trailing metadata of ResourceNames: the answering machine's id.
MACHINE_KEY = "viamlite-machine"
#: Trailing metadata of ResourceNames: JSON {"id,id,...": [indices]} for resources from remotes.
CHAINS_KEY = "viamlite-chains"


#: A link's state is a :class:`~viamlite.state.ConnectionState` (CONNECTING until the first
#: dial, then CONNECTED or DISCONNECTED, CLOSED once closed); the older name stays.
LinkState = ConnectionState


class Reachability(str, enum.Enum):
    """How a remote resource stands, as GetMachineStatus reports it."""

    REACHABLE = "reachable"
    REMOTE_DISCONNECTED = "remote_disconnected"
    SHADOWED_BY_LOCAL = "shadowed_by_local"
    AMBIGUOUS_REMOTE = "ambiguous_remote"


@dataclass(frozen=True)
class RemoteResource:
    """A resource as the remote lists it: its API and name there, the remotes it sits
    behind on the remote's side, and the ids of the machines it passed through
    (origin first, the remote's own id last; empty when the remote does not say)."""

    api: API
    name: str
    remote_path: tuple[str, ...] = ()
    chain: tuple[str, ...] = ()


@dataclass(frozen=True)
class RemoteFrame:
    """A frame of the remote's frame system, named as the remote names it.

    ``geometry`` is the link's own representation of the frame's shape, passed to the
    adapters unchanged (None when it has none).
    """

    name: str
    parent: str
    pose: "Pose"
    geometry: Any = None


@dataclass(frozen=True)
class ForwardOptions:
    """How to forward one call: its deadline, the metadata to send, and where to register
    cancellation (``on_done(cancel)`` runs ``cancel`` when the caller's call ends)."""

    timeout: float | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    on_done: Callable[[Callable[[], Any]], None] | None = None


class RemoteLink(ABC):
    """A connection to one remote machine, kept up by the link itself.

    The link reconnects every ``config.reconnect_interval`` while disconnected and checks
    the connection (re-reading the resource list) every ``config.connection_check_interval``
    (a :class:`~viamlite.reconnect.Reconnector` does this for the gRPC link); ``state`` is a
    :class:`~viamlite.state.ConnectionState`, and the link calls ``on_change`` whenever its
    state, resources or frames change. Calls raise
    :class:`viamlite.rpc.RpcError` with the remote's own status, or UNAVAILABLE naming the
    remote and its address when the remote cannot be reached.
    """

    def __init__(self, config: RemoteConfig) -> None:
        self.config = config
        self.state = ConnectionState.CONNECTING
        self.error = ""
        self.peer_id = ""
        self.resources: tuple[RemoteResource, ...] = ()
        self.frames: tuple[RemoteFrame, ...] = ()
        #: service full name (``viam.component.arm.v1.ArmService``) -> API, as the remote reports it
        self.services: Mapping[str, API] = {}

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED

    @abstractmethod
    def start(self, on_change: Callable[[], None]) -> None:
        """Start connecting in the background; never blocks on the network."""

    @abstractmethod
    def close(self) -> None:
        """Stop reconnecting and close the connection; idempotent."""

    @abstractmethod
    def unary(self, path: str, request: bytes, options: ForwardOptions) -> bytes:
        """Forward a unary call (request and response as serialized messages)."""

    @abstractmethod
    def stream(self, path: str, requests: bytes | Iterator[bytes], options: ForwardOptions) -> Iterator[bytes]:
        """Forward a streaming call: one request (bytes) or a stream of them; yields responses."""

    @abstractmethod
    def stop_all(self, via: Sequence[str]) -> None:
        """Ask the remote to stop its actuators (tolerating a remote that cannot)."""

    def unavailable_message(self) -> str:
        why = f": {self.error}" if self.error else ""
        return (f"remote {self.name!r} at {self.config.address} is not connected{why}; "
                f"reconnecting every {self.config.reconnect_interval:g} s")


__all__ = ["ForwardOptions", "LinkState", "Reachability", "RemoteFrame", "RemoteLink", "RemoteResource",
           "VIA_KEY", "MACHINE_KEY", "CHAINS_KEY"]
