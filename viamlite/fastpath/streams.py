"""The sync client's channels: :class:`Subscription` and :class:`SetpointStream`.

Import them from :mod:`viamlite.fastpath.client`, which re-exports them. The protocol
(:class:`~viamlite.fastpath.clientprotocol.ClientProtocol`) routes each channel's samples
and events to these objects; waiting for them is the client's.
"""
from __future__ import annotations

import collections
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from viamlite.fastpath import schema as S
from viamlite.fastpath.clientprotocol import ClientChannel, SampledChannel
from viamlite.fastpath.errors import ConnectionClosedError
from viamlite.fastpath.proxy import Event, Sample

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.fastpath.client import FastPathClient


class Subscription(SampledChannel):
    """Samples of one subscription: iterate it (blocks for the next) or give a callback.

    ``missed`` counts sequence numbers that never arrived; ``events`` holds failed samples.
    """

    def __init__(self, client: "FastPathClient", channel: int, rate_hz: float,
                 callback: Callable[[Sample], None] | None, maxlen: int) -> None:
        super().__init__()
        self.client, self.channel, self.rate_hz, self.callback = client, channel, rate_hz, callback
        self.queue: collections.deque[Sample] = collections.deque(maxlen=maxlen)

    def _deliver(self, sample: Sample) -> None:
        if self.callback is None:
            self.queue.append(sample)

    def __iter__(self) -> Iterator[Sample]:
        return self

    def __next__(self) -> Sample:
        return self.next(timeout=None)

    def next(self, timeout: float | None = None) -> Sample:
        """The next sample; StopIteration once closed, TimeoutError after ``timeout`` s."""
        if timeout is None:
            timeout = max(self.client.timeout, 20.0 / self.rate_hz)
        queue = self.queue
        if not queue:
            self.client._pump(lambda: bool(queue) or self.closed, timeout)
        if queue:
            return queue.popleft()
        raise StopIteration

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.client._unsubscribe(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SetpointStream(ClientChannel):
    """Send setpoints with :meth:`send`; the server's deadman stops the resource when they stop."""

    def __init__(self, client: "FastPathClient", channel: int, spec: S.MethodSpec, timeout: float) -> None:
        super().__init__()
        self.client, self.channel, self.spec, self.timeout = client, channel, spec, timeout
        self.seq = 0

    def send(self, *args: Any) -> int:
        """Send one setpoint (no reply); returns its sequence number."""
        if self.closed:
            raise ConnectionClosedError(f"setpoint stream {self.channel} is closed")
        return self.client._send_setpoint(self, args)

    def poll(self) -> list[Event]:
        """Read what has arrived without waiting; returns this stream's events so far."""
        self.client._pump(lambda: True, 0.0, poll=True)
        return list(self.events)

    def wait_event(self, timeout: float) -> Event:
        """Block until the server reports an event on this stream (a deadman stop, a failed setpoint)."""
        count = len(self.events)
        self.client._pump(lambda: len(self.events) > count, timeout)
        return self.events[count]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.client._close_stream(self)

    def __enter__(self) -> "SetpointStream":
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.client.closed:
            self.close()


__all__ = ["Subscription", "SetpointStream"]
