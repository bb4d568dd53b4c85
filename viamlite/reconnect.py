"""Keeping a connection up: the retry policy (:class:`Backoff`) and the keeper (:class:`Reconnector`).

The gRPC client, remote-part links and serial links all keep their connection the same way,
with one background thread each:

* while the connection is :attr:`~viamlite.state.ConnectionState.CONNECTED`, check it every
  ``check_interval`` seconds (sooner when :meth:`Reconnector.wake` is called, e.g. after a call
  saw the connection fail);
* once it is lost, reconnect, waiting longer after each failed attempt as the :class:`Backoff`
  says, until it is up again (the backoff then starts over);
* stop when the connection is closed or :meth:`Reconnector.stop` is called.

The connection itself owns its state and what a check or a reconnect means; the keeper only
decides *when*. Time goes through a :class:`Clock`, so tests drive the keeper with a fake one.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from viamlite.state import ConnectionState

log = logging.getLogger("viamlite.reconnect")


class Backoff:
    """The waits between reconnect attempts: ``first``, then ``factor`` times longer each
    failed attempt, never over ``maximum``.

    With ``at_once`` the first attempt after a loss is made without waiting (a blip is
    survived at once), and the waits start after that attempt fails. ``factor=1`` gives a
    fixed retry interval.
    """

    def __init__(self, first: float, maximum: float | None = None, factor: float = 2.0, *,
                 at_once: bool = True) -> None:
        if first < 0 or factor < 1 or (maximum is not None and maximum < first):
            raise ValueError(f"backoff needs 0 <= first <= maximum and factor >= 1 "
                             f"(first={first!r}, maximum={maximum!r}, factor={factor!r})")
        self.first = first
        self.maximum = first if maximum is None and factor == 1 else maximum
        self.factor = factor
        self.at_once = at_once
        self.attempts = 0

    def next(self) -> float:
        """The wait before the next attempt (counting it as made)."""
        n = self.attempts
        self.attempts += 1
        if self.at_once:
            if n == 0:
                return 0.0
            n -= 1
        delay = self.first * self.factor ** n
        return delay if self.maximum is None else min(delay, self.maximum)

    def reset(self) -> None:
        """The connection is up: the next loss starts from the beginning."""
        self.attempts = 0

    def __repr__(self) -> str:
        return (f"Backoff(first={self.first:g}, maximum={self.maximum!r}, factor={self.factor:g}, "
                f"at_once={self.at_once})")


class Clock:
    """How the keeper waits; tests pass a fake one that only pretends."""

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Wait until ``event`` is set or ``timeout`` seconds pass; True when it was set."""
        return event.wait(timeout)


class Reconnector:
    """Keeps one connection up in a background thread; see the module docstring.

    ``state()`` tells the connection's :class:`~viamlite.state.ConnectionState`. ``check()``
    checks a connected connection and marks it lost if it failed; ``reconnect()`` makes one
    attempt to bring it back. Both report through the state, not by returning; an exception
    escaping either is logged, and the state then decides as usual. ``check_interval`` is
    seconds (or a function giving them, read each time). Any state other than CONNECTED and
    CLOSED counts as lost. The first wait after a start is a check interval when connected;
    a connection that starts lost is dialed at once (with ``at_once``).
    """

    def __init__(self, *, state: Callable[[], ConnectionState], check: Callable[[], object],
                 reconnect: Callable[[], object], check_interval: float | Callable[[], float],
                 backoff: Backoff, name: str = "viamlite-reconnect", clock: Clock | None = None) -> None:
        self._state = state
        self._check = check
        self._reconnect = reconnect
        self._interval = check_interval
        self.backoff = backoff
        self.name = name
        self.clock = clock or Clock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- control -----------------------------------------------------------------
    def start(self) -> "Reconnector":
        """Run the keeper in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Act now: check (or reconnect) without waiting out the current interval."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the keeper and wait (up to ``timeout``) for an attempt in progress to end."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop ----------------------------------------------------------------
    def _interval_s(self) -> float:
        return self._interval() if callable(self._interval) else self._interval

    def _attempt(self, what: Callable[[], object], doing: str) -> ConnectionState:
        try:
            what()
        except Exception:  # the keeper must outlive a surprise
            log.exception("%s: %s failed", self.name, doing)
        return self._state()

    def run(self) -> None:
        """The keeper's loop (the thread's target; tests call it with a fake clock).

        ``due`` is what the last wait was for: ``"check"`` (a check interval), ``"retry"``
        (a backoff wait before a reconnect attempt), or None (nothing: just started).
        """
        due: str | None = None
        delay = 0.0
        while not self._stop.is_set():
            if delay > 0:
                self.clock.wait(self._wake, delay)
            self._wake.clear()
            if self._stop.is_set():
                return
            state = self._state()
            if state is ConnectionState.CONNECTED:
                if due == "check":
                    state = self._attempt(self._check, "the check")
                if state is ConnectionState.CONNECTED:
                    self.backoff.reset()
                    due, delay = "check", self._interval_s()
                    continue
            if state is ConnectionState.CLOSED:
                return
            if due != "retry":  # lost since the last wait (noticed by the check or by a call)
                self.backoff.reset()
                due, delay = "retry", self.backoff.next()
                continue
            state = self._attempt(self._reconnect, "reconnecting")
            if state is ConnectionState.CONNECTED:
                self.backoff.reset()
                due, delay = "check", self._interval_s()
            elif state is ConnectionState.CLOSED:
                return
            else:
                delay = self.backoff.next()


__all__ = ["Backoff", "Clock", "Reconnector"]
