"""The data manager's calls to the fleet's DataSyncService, over the member's own kind of
link (:class:`viamlite_plugins.cloud.member.link.FleetLink`: the part's credentials, its
channel, TLS and reconnection), extended to the data sync service and client streams."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import grpc

from viamlite_plugins.cloud.member.link import FleetLink

DATA_SYNC = "/viam.app.datasync.v1.DataSyncService/"


class DataLink(FleetLink):
    """A FleetLink that also makes DataSyncService calls (unary and client-streaming)."""

    def data_call(self, method: str, request: Any, response_type: Any, timeout: float,
                  metadata: Sequence[tuple[str, str]] = ()) -> Any:
        """``DataSyncService/<method>``; ``request`` is a message, or a list of messages for
        a client-streaming method."""
        channel = self._open(timeout)
        streaming = isinstance(request, list)
        first = request[0] if streaming else request
        make = channel.stream_unary if streaming else channel.unary_unary
        stub = make(DATA_SYNC + method, request_serializer=type(first).SerializeToString,
                    response_deserializer=response_type.FromString)
        for attempt in (1, 2):
            if not self._token:
                self.authenticate(timeout)
            try:
                payload: Any = iter(request) if streaming else request
                reply = stub(payload, timeout=timeout, metadata=(*self._metadata(), *metadata))
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.UNAUTHENTICATED and attempt == 1:
                    self._token = ""
                    continue
                raise self._failure(err, method) from None
            from viamlite.state import ConnectionState

            self.state = ConnectionState.CONNECTED
            return reply
        raise AssertionError("unreachable")  # pragma: no cover


def chunks(data: bytes, size: int = 64 * 1024) -> Iterable[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]
