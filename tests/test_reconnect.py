"""The reconnect policy (viamlite.reconnect): backoff waits, and when the keeper checks and
redials, driven by a fake clock (nothing here sleeps)."""
from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from viamlite.reconnect import Backoff, Clock, Reconnector
from viamlite.state import ConnectionState

UP, LOST, CLOSED = ConnectionState.CONNECTED, ConnectionState.DISCONNECTED, ConnectionState.CLOSED


class FakeClock(Clock):
    """Time moves only when the keeper waits; ``at(t, fn)`` runs ``fn`` when time reaches ``t``
    (``fn`` may wake the keeper, which cuts the wait short there)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        self._events: list[tuple[float, Callable[[], None]]] = []

    def at(self, t: float, fn: Callable[[], None]) -> None:
        self._events.append((t, fn))
        self._events.sort(key=lambda e: e[0])

    def wait(self, event: threading.Event, timeout: float) -> bool:
        self.waits.append(timeout)
        assert len(self.waits) < 1000, "the keeper never stopped"
        end = self.now + timeout
        while self._events and self._events[0][0] <= end and not event.is_set():
            t, fn = self._events.pop(0)
            self.now = max(self.now, t)
            fn()
        if event.is_set():
            return True
        self.now = end
        return False


class FakeConnection:
    """A connection whose checks and redials succeed or fail as scripted; it records
    what the keeper did and when, and stops the keeper after ``stop_after`` actions."""

    def __init__(self, clock: FakeClock, *, state: ConnectionState = UP, checks: tuple[bool, ...] = (),
                 redials: tuple[bool, ...] = (), stop_after: int = 10) -> None:
        self.clock, self.state = clock, state
        self.checks, self.redials = list(checks), list(redials)
        self.stop_after = stop_after
        self.log: list[tuple[str, float]] = []
        self.keeper: Reconnector | None = None

    def _record(self, what: str) -> None:
        self.log.append((what, self.clock.now))
        if len(self.log) >= self.stop_after and self.keeper is not None:
            self.keeper.stop()

    def check(self) -> None:
        ok = self.checks.pop(0) if self.checks else True
        if not ok:
            self.state = LOST
        self._record("check")

    def redial(self) -> None:
        ok = self.redials.pop(0) if self.redials else True
        if ok:
            self.state = UP
        self._record("redial" if ok else "redial failed")

    def keep(self, backoff: Backoff, interval: float | Callable[[], float] = 1.0) -> Reconnector:
        self.keeper = Reconnector(state=lambda: self.state, check=self.check, reconnect=self.redial,
                                  check_interval=interval, backoff=backoff, clock=self.clock, name="test")
        return self.keeper


def _delays(backoff: Backoff, n: int) -> list[float]:
    return [backoff.next() for _ in range(n)]


# -- Backoff ------------------------------------------------------------------------------
def test_backoff_tries_at_once_then_grows_to_its_maximum() -> None:
    assert _delays(Backoff(0.25, 2.0, 1.5), 8) == pytest.approx([0, 0.25, 0.375, 0.5625, 0.84375, 1.265625, 1.8984375, 2.0])


def test_backoff_without_at_once_waits_first() -> None:
    assert _delays(Backoff(0.1, 2.0, 2.0, at_once=False), 7) == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0])


def test_a_fixed_interval_is_factor_one() -> None:
    backoff = Backoff(5.0, factor=1.0)
    assert _delays(backoff, 4) == [0, 5.0, 5.0, 5.0]
    assert backoff.maximum == 5.0


def test_reset_starts_over_and_attempts_are_counted() -> None:
    backoff = Backoff(0.1, 2.0, at_once=False)
    _delays(backoff, 3)
    assert backoff.attempts == 3
    backoff.reset()
    assert backoff.attempts == 0 and backoff.next() == pytest.approx(0.1)


def test_unbounded_backoff_keeps_growing() -> None:
    assert _delays(Backoff(1.0, None, 3.0, at_once=False), 4) == [1.0, 3.0, 9.0, 27.0]


@pytest.mark.parametrize("args", [(-1.0, 2.0, 2.0), (1.0, 0.5, 2.0), (1.0, 2.0, 0.5)])
def test_backoff_rejects_nonsense(args: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match="backoff needs"):
        Backoff(*args)


# -- Reconnector ----------------------------------------------------------------------------
def test_a_healthy_connection_is_checked_every_interval() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, stop_after=3)
    conn.keep(Backoff(0.25, 2.0, 1.5)).run()
    assert conn.log == [("check", 1.0), ("check", 2.0), ("check", 3.0)]


def test_a_failed_check_redials_at_once_then_backs_off_and_starts_over_once_up() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, checks=(False, True, False), redials=(False, False, True, True), stop_after=9)
    conn.keep(Backoff(0.25, 2.0, 1.5)).run()
    assert conn.log == [
        ("check", 1.0),             # fails
        ("redial failed", 1.0),     # at once
        ("redial failed", 1.25),    # after 0.25
        ("redial", 1.625),          # after 0.375: up again
        ("check", 2.625),           # a check interval later
        ("check", 3.625),           # fails
        ("redial", 3.625),          # at once again: the backoff started over
        ("check", 4.625),
        ("check", 5.625),
    ]


def test_without_at_once_the_first_redial_waits() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, checks=(False,), redials=(False, False, True), stop_after=4)
    conn.keep(Backoff(0.1, 2.0, 2.0, at_once=False), interval=0.5).run()
    assert [what for what, _ in conn.log] == ["check", "redial failed", "redial failed", "redial"]
    assert [t for _, t in conn.log] == pytest.approx([0.5, 0.6, 0.8, 1.2])


def test_a_connection_that_starts_lost_is_dialed_at_once() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, state=LOST, redials=(False, True), stop_after=3)
    conn.keep(Backoff(5.0, factor=1.0)).run()
    assert conn.log == [("redial failed", 0.0), ("redial", 5.0), ("check", 6.0)]


def test_a_fixed_retry_interval_redials_at_that_pace() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, state=LOST, redials=(False,) * 4, stop_after=4)
    conn.keep(Backoff(2.0, factor=1.0)).run()
    assert [t for _, t in conn.log] == [0.0, 2.0, 4.0, 6.0]


def test_a_loss_noticed_by_a_call_wakes_the_keeper_for_one_immediate_redial() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, redials=(False, True), stop_after=3)
    keeper = conn.keep(Backoff(0.25, 2.0, 1.5), interval=10.0)

    def call_failed() -> None:
        conn.state = LOST
        keeper.wake()

    clock.at(3.0, call_failed)
    keeper.run()
    assert conn.log == [("redial failed", 3.0), ("redial", 3.25), ("check", 13.25)]


def test_a_connection_recovered_by_someone_else_is_not_redialed() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, state=LOST, redials=(False,), stop_after=2)

    def recovered() -> None:
        conn.state = UP

    clock.at(0.1, recovered)  # during the first backoff wait
    conn.keep(Backoff(0.25, 2.0, 1.5)).run()
    assert conn.log == [("redial failed", 0.0), ("check", 1.25)]


def test_the_keeper_ends_when_the_connection_closes() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, stop_after=100)

    def close() -> None:
        conn.state = CLOSED

    clock.at(2.5, close)
    conn.keep(Backoff(0.25, 2.0, 1.5)).run()
    assert conn.log == [("check", 1.0), ("check", 2.0)]


def test_stop_ends_the_keeper_even_mid_backoff() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, state=LOST, redials=(False,) * 10, stop_after=100)
    keeper = conn.keep(Backoff(1.0, factor=1.0))
    clock.at(2.5, keeper.stop)
    keeper.run()
    assert [t for _, t in conn.log] == [0.0, 1.0, 2.0]
    assert keeper.stopping


def test_a_check_or_redial_that_raises_is_logged_and_the_keeper_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, stop_after=3)
    calls = []

    def check() -> None:
        calls.append(clock.now)
        if len(calls) == 1:
            raise RuntimeError("surprise")
        conn.check()

    keeper = Reconnector(state=lambda: conn.state, check=check, reconnect=conn.redial, check_interval=1.0,
                         backoff=Backoff(0.25, 2.0, 1.5), clock=clock, name="keeper-x")
    conn.keeper = keeper
    conn.stop_after = 2
    keeper.run()
    assert calls == [1.0, 2.0, 3.0]
    assert "keeper-x: the check failed" in caplog.text and "surprise" in caplog.text


def test_the_check_interval_is_read_each_time() -> None:
    clock = FakeClock()
    conn = FakeConnection(clock, stop_after=3)
    intervals = iter([1.0, 2.0, 4.0, 8.0])
    conn.keep(Backoff(0.25, 2.0, 1.5), interval=lambda: next(intervals)).run()
    assert [t for _, t in conn.log] == [1.0, 3.0, 7.0]


def test_start_runs_the_keeper_in_a_thread_and_stop_joins_it() -> None:
    state = [CLOSED]
    keeper = Reconnector(state=lambda: state[0], check=lambda: None, reconnect=lambda: None, check_interval=1.0,
                         backoff=Backoff(0.25, 2.0, 1.5), name="viamlite-test-keeper").start()
    keeper.stop()
    assert keeper._thread is not None and not keeper._thread.is_alive()


def test_stop_before_start_is_fine() -> None:
    keeper = Reconnector(state=lambda: UP, check=lambda: None, reconnect=lambda: None, check_interval=1.0,
                         backoff=Backoff(0.25, 2.0, 1.5))
    keeper.stop()
    keeper.run()  # returns at once: stopped
    assert keeper.stopping
