"""The board API: GPIO pins, PWM, analog readers and writers, digital interrupts.

Pins are named by the board's own names (``"11"``, ``"GPIO17"``, ``"D18"``).
"""
from __future__ import annotations

import queue
import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol

from viamlite.errors import CancelledError
from viamlite.names import API
from viamlite.resource import Extra, Resource

#: How often a waiting tick stream looks whether its operation was cancelled, in seconds.
POLL_S = 0.05
_END = object()


class AnalogValue(NamedTuple):
    value: int
    min_range: float
    max_range: float
    step_size: float


class Tick(NamedTuple):
    """One digital interrupt edge: pin name, time in nanoseconds, level after the edge."""

    pin_name: str
    time_ns: int
    high: bool


class TickSource(Protocol):
    """What a :class:`TickStream` needs of its board."""

    def _unsubscribe(self, stream: "TickStream") -> None: ...


class TickStream(Iterator[Tick]):
    """The edges of some digital interrupts, as they happen.

    Each stream has its own queue (at most :attr:`max_queued` ticks; beyond that new
    ticks are dropped and counted in :attr:`dropped`). Iteration blocks for the next
    tick and ends after :meth:`close` or when the board closes; inside a cancelled
    operation it raises CancelledError.

    A board's ``stream_ticks`` makes one per call (``TickStream(board, names, operation=...)``), keeps it
    while open, feeds it ``put(tick)`` for each edge it ``wants``, and closes every stream
    when it closes; ``close`` calls the board's ``_unsubscribe(stream)``.
    """

    max_queued = 10_000

    def __init__(self, board: "TickSource", names: frozenset[str] | None, *,
                 operation: Callable[[], Any] | None = None) -> None:
        """``operation()`` answers the running operation (``viamlite.machine.operations.current``)
        or None; a stream given it ends a wait in a cancelled operation."""
        self.board = board
        self._operation = operation
        self.names = names  # None: every interrupt
        self.dropped = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = threading.Event()

    def wants(self, name: str) -> bool:
        return self.names is None or name in self.names

    def put(self, tick: Tick) -> None:
        if self._queue.qsize() >= self.max_queued:
            self.dropped += 1
        else:
            self._queue.put(tick)

    def __iter__(self) -> "TickStream":
        return self

    def __next__(self) -> Tick:
        while True:  # ticks queued before a close are still delivered
            try:
                item = self._queue.get(timeout=POLL_S)
            except queue.Empty:
                if self._closed.is_set():
                    raise StopIteration from None
                op = self._operation() if self._operation is not None else None
                if op is not None and op.is_cancelled():
                    self.close()
                    raise CancelledError(f"{op.method} was cancelled") from None
                continue
            if item is _END:
                raise StopIteration
            return item

    def close(self) -> None:
        """Unsubscribe and end the iteration (also in a thread blocked on it). Idempotent."""
        if self._closed.is_set():
            return
        self._closed.set()
        self.board._unsubscribe(self)
        self._queue.put(_END)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __enter__(self) -> "TickStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PowerMode:
    UNSPECIFIED = 0
    NORMAL = 1
    OFFLINE_DEEP = 2


class Board(Resource):
    API = API.component("board")

    @abstractmethod
    def set_gpio(self, pin: str, high: bool, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def get_gpio(self, pin: str, *, extra: Extra = None) -> bool: ...

    @abstractmethod
    def get_pwm(self, pin: str, *, extra: Extra = None) -> float:
        """PWM duty cycle of ``pin``, 0.0 to 1.0."""

    @abstractmethod
    def set_pwm(self, pin: str, duty_cycle_pct: float, *, extra: Extra = None) -> None:
        """Set the duty cycle, 0.0 to 1.0."""

    @abstractmethod
    def get_pwm_frequency(self, pin: str, *, extra: Extra = None) -> int: ...

    @abstractmethod
    def set_pwm_frequency(self, pin: str, frequency_hz: int, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def read_analog(self, reader: str, *, extra: Extra = None) -> AnalogValue: ...

    @abstractmethod
    def write_analog(self, pin: str, value: int, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def get_digital_interrupt_value(self, interrupt: str, *, extra: Extra = None) -> int:
        """Ticks counted on the interrupt so far."""

    @abstractmethod
    def stream_ticks(self, interrupts: Sequence[str], *, extra: Extra = None) -> Iterator[Tick]:
        """Edges on ``interrupts`` as they happen; the iterator ends when closed."""

    def set_power_mode(self, mode: int, duration_s: float | None = None, *, extra: Extra = None) -> None:
        from viamlite.errors import NotSupportedError

        raise NotSupportedError(f"board {self.name!r} does not support power modes")
