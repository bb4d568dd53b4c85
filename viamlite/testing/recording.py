"""A record of what a resource was asked to do, for tests and for the REPL.

Fakes (and any driver that wants it) mix in :class:`Recorder`; each call records a
timestamped :class:`Event`, and ``assert_events`` checks the sequence.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """One recorded call: ``method`` with ``args`` at ``time`` (``time.monotonic()``)."""

    method: str
    args: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.monotonic)


class Recorder:
    """Keeps the last ``max_events`` events (oldest dropped first)."""

    max_events = 1000

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._events_lock = threading.Lock()

    def record(self, method: str, **args: Any) -> None:
        with self._events_lock:
            self._events.append(Event(method, args))
            if len(self._events) > self.max_events:
                del self._events[: len(self._events) - self.max_events]

    @property
    def events(self) -> list[Event]:
        with self._events_lock:
            return list(self._events)

    def clear_events(self) -> None:
        with self._events_lock:
            self._events.clear()

    def assert_events(self, *expected: tuple[str, dict[str, Any]] | str) -> None:
        """Assert the recorded methods (and, where given, their args) equal ``expected``.

        Each expected item is a method name, or ``(method, {arg: value, ...})`` checking
        only the args listed.
        """
        got = self.events
        want = [(e, {}) if isinstance(e, str) else e for e in expected]
        names = [e.method for e in got]
        if len(got) != len(want) or any(g.method != m for g, (m, _) in zip(got, want)):
            raise AssertionError(f"expected calls {[m for m, _ in want]}, got {names}")
        for g, (m, args) in zip(got, want):
            for key, value in args.items():
                if g.args.get(key) != value:
                    raise AssertionError(f"{m}: expected {key}={value!r}, got {g.args.get(key)!r}")
