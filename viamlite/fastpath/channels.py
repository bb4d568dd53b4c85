"""A connection's channels on the server: subscriptions, setpoint streams, and the timers
that guard them (each stream's deadman, the session timeout).

Everything here runs on the fast path's loop thread (:mod:`viamlite.fastpath.reactor`):
samples are taken at their due time by loop timers, and a deadman or session timeout is a
timer that is armed again by the next setpoint or message, for the life of the stream or
session. Channel numbers count up from 1 and are never reused on a connection.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any


from viamlite.fastpath import schema as S
from viamlite.fastpath.dispatch import packer
from viamlite.fastpath.errors import code_for, describe
from viamlite.fastpath.handshake import RequestError, show

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.fastpath.reactor import Reactor, Timer
    from viamlite.fastpath.serverprotocol import ServedHandle, ServerProtocol

log = logging.getLogger("viamlite.fastpath")
MAX_CHANNELS = 64
CATCH_UP_S = 0.05
#: Samples are skipped (a gap in seq) while this many bytes wait to be written to a slow reader.
SAMPLE_BACKLOG_BYTES = 256 * 1024


class Sampler:
    """A method sampled at a rate; sample ``seq`` k is due at start + k/rate.

    A sampler that was held up takes the samples it owes at once, each stamped with when
    it was really taken; one more than ``CATCH_UP_S`` (or ten periods) late is skipped, and
    the gap in ``seq`` tells the client it was missed. So is a sample due while the client
    is not reading what it was already sent.
    """

    def __init__(self, proto: "ServerProtocol", channel: int, handle: "ServedHandle", spec: S.MethodSpec,
                 args: list, rate_hz: float) -> None:
        self.proto, self.channel, self.handle, self.spec, self.args = proto, channel, handle, spec, args
        self.period = 1.0 / rate_hz
        self.backlog = max(CATCH_UP_S, 10 * self.period)
        self.stopped = False
        self.k = 0
        self.t0 = 0.0
        self._timer: "Timer | None" = None

    def start(self, reactor: "Reactor") -> None:
        """Take sample 0 now (after the SUBSCRIBE's RESULT was written), then one per period."""
        self._reactor = reactor
        self.t0 = time.monotonic()
        self._timer = reactor.call_at(self.t0, self._tick)

    def stop(self) -> None:
        self.stopped = True
        if self._timer is not None:
            self._timer.cancel()

    def _tick(self) -> None:
        if self.stopped:
            return
        proto, period = self.proto, self.period
        now = time.monotonic()
        k = self.k
        if now - (self.t0 + k * period) >= self.backlog:  # fell far behind: skip the late samples
            k = int((now - self.t0) / period)
        if proto.backlog() < SAMPLE_BACKLOG_BYTES:
            pack = packer().pack
            try:
                value = proto.bound(self.handle, self.spec.id)(self.args)
                frame = proto.frame(pack([S.SAMPLE, self.channel, k, time.time_ns(), value]))
            except Exception as exc:  # a failed read, or a sample over the frame limit
                frame = proto.frame(pack([S.EVENT, self.channel, k, code_for(exc),
                                          describe(exc, f"{self.handle.subtype} {self.handle.name!r} {self.spec.name}")]))
            if not proto.write(frame):
                return
        self.k = k + 1
        if not self.stopped:
            self._timer = self._reactor.call_at(self.t0 + self.k * period, self._tick)


class SetpointSink:
    """Fire-and-forget commands with sequence numbers, guarded by a deadman that each
    applied setpoint arms again."""

    __slots__ = ("channel", "handle", "spec", "timeout", "deadline", "last_seq", "tripped", "stale", "timer",
                 "stopped", "trips")

    def __init__(self, channel: int, handle: "ServedHandle", spec: S.MethodSpec, timeout: float) -> None:
        self.channel, self.handle, self.spec, self.timeout = channel, handle, spec, timeout
        self.deadline = time.monotonic() + timeout
        self.last_seq = -1
        self.tripped = False
        self.stale = 0
        self.trips = 0
        self.timer: "Timer | None" = None
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()


class Channels:
    """The channels of one connection, and its deadman and session timers."""

    def __init__(self, proto: "ServerProtocol", reactor: "Reactor") -> None:
        self.proto = proto
        self.reactor = reactor
        self.items: dict[int, Sampler | SetpointSink] = {}
        self._next = 1
        self.session_timeout = 0.0
        self.last_rx = time.monotonic()
        self._session_timer: "Timer | None" = None
        self._session_events = 0  # the seq of the next channel-0 EVENT
        self.closed = False

    def check_free(self) -> None:
        """Raise RESOURCE_EXHAUSTED when all of the connection's channels are in use."""
        if len(self.items) >= MAX_CHANNELS:
            raise RequestError(S.Err.RESOURCE_EXHAUSTED, f"a connection may hold at most {MAX_CHANNELS} subscriptions "
                               "and setpoint streams together; close some")

    def new_channel(self) -> int:
        self.check_free()
        channel = self._next
        self._next += 1
        return channel

    # -- setpoint streams -----------------------------------------------------------------
    def open_stream(self, stream: SetpointSink) -> None:
        """Register the stream; its deadman is armed by :meth:`arm_stream` once the RESULT is written."""
        self.items[stream.channel] = stream

    def arm_stream(self, stream: SetpointSink) -> None:
        if stream.timer is None and not stream.tripped and not stream.stopped and not self.closed:
            stream.deadline = time.monotonic() + stream.timeout
            self._arm(stream)

    def _arm(self, stream: SetpointSink) -> None:
        stream.timer = self.reactor.call_at(stream.deadline, lambda: self._check(stream))

    def applied(self, stream: SetpointSink) -> None:
        """A setpoint was applied: the deadman is due a timeout from now (armed again if it fired)."""
        stream.deadline = time.monotonic() + stream.timeout
        if stream.tripped or stream.timer is None:
            stream.tripped = False
            self._arm(stream)

    def _check(self, stream: SetpointSink) -> None:
        stream.timer = None
        if stream.stopped or self.closed:
            return
        if stream.deadline > time.monotonic():  # a setpoint came meanwhile
            self._arm(stream)
            return
        self._trip(stream)

    def _trip(self, stream: SetpointSink) -> None:
        stream.tripped = True
        stream.trips += 1
        handle = stream.handle
        late = (time.monotonic() - stream.deadline + stream.timeout) * 1000
        try:
            handle.resource.stop()
            message = (f"deadman: no setpoint for {late:.0f} ms (timeout {stream.timeout * 1000:g} ms); "
                       f"stopped {handle.subtype} {handle.name!r}")
            log.warning("fast-path session %d: %s", self.proto.id, message)
            self.proto.event(stream.channel, max(stream.last_seq, 0), S.Err.DEADLINE_EXCEEDED, message)
        except Exception as exc:
            log.error("fast-path deadman could not stop %s: %s", handle.name, exc)
            self.proto.event(stream.channel, max(stream.last_seq, 0), code_for(exc),
                             describe(exc, f"deadman stop of {handle.name!r}"))

    # -- the session timeout ----------------------------------------------------------------
    def start_session_timer(self, timeout: float) -> None:
        self.session_timeout = timeout
        self.last_rx = time.monotonic()
        self._arm_session()

    def _arm_session(self) -> None:
        self._session_timer = self.reactor.call_at(self.last_rx + self.session_timeout, self._check_session)

    def rearm_session(self) -> None:
        """After a batch: a session timeout that fired while a call hung is armed again (from
        the batch's arrival), so a client that went silent meanwhile is still timed out."""
        if self._session_timer is None and not self.closed:
            self._arm_session()

    def received(self, now: float) -> None:
        """A message arrived: the session timeout is due a timeout from now (armed again if it fired)."""
        self.last_rx = now
        if self.session_timeout and self._session_timer is None and not self.closed:
            self._arm_session()

    def _check_session(self) -> None:
        self._session_timer = None
        if self.closed:
            return
        if self.last_rx + self.session_timeout > time.monotonic():
            self._arm_session()
            return
        names = self.proto.stop_moved("session timeout")
        seq, self._session_events = self._session_events, self._session_events + 1
        self.proto.event(0, seq, S.Err.DEADLINE_EXCEEDED,
                         f"session: nothing received for {self.session_timeout * 1000:g} ms; stopped "
                         f"{', '.join(names) or 'nothing (no resource was moved, or another client drives it now)'}")

    # -- ending -------------------------------------------------------------------------
    def remove(self, channel: Any, kind: type) -> None:
        item = self.items.get(channel) if type(channel) is int else None
        if type(item) is not kind:
            what = "subscription" if kind is Sampler else "setpoint stream"
            raise RequestError(S.Err.NOT_FOUND, f"no {what} {show(channel)} on this connection")
        del self.items[channel]
        item.stop()

    def close(self) -> None:
        self.closed = True
        if self._session_timer is not None:
            self._session_timer.cancel()
        for item in list(self.items.values()):
            item.stop()
        self.items.clear()


__all__ = ["Channels", "Sampler", "SetpointSink", "MAX_CHANNELS"]
