"""The data manager's calls to the fleet's DataSyncService, over the member's own kind of
link (:class:`viamlite_plugins.cloud.member.link.FleetLink`: the part's credentials, its
channel, TLS and reconnection), extended to the data sync service and client streams."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from viamlite_plugins.cloud.member.link import FleetLink

DATA_SYNC = "/viam.app.datasync.v1.DataSyncService/"


class DataLink(FleetLink):
    """A FleetLink that also makes DataSyncService calls (unary and client-streaming)."""

    def data_call(self, method: str, request: Any, response_type: Any, timeout: float,
                  metadata: Sequence[tuple[str, str]] = ()) -> Any:
        """``DataSyncService/<method>``; ``request`` is a message, or a list of messages for
        a client-streaming method."""
        kind = "stream_unary" if isinstance(request, list) else "unary"
        return self.invoke(DATA_SYNC + method, request, response_type, timeout, kind=kind, extra=metadata)


def chunks(data: bytes, size: int = 64 * 1024) -> Iterable[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]
