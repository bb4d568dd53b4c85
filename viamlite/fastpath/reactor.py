"""The fast path's I/O loop: one thread serves every socket and every timer.

Sockets are non-blocking and polled with epoll (poll where epoll is missing). A ready
socket's handler runs on the loop thread; handlers are short (a quick resource call, a
frame written), so one thread serves hundreds of connections with no hand-off between
threads on the hot path. Timers (subscription samples, deadmen, session timeouts, HELLO
and frame timeouts) share a heap and run on the same thread.

A driver call that hangs would hold every connection up. A supervisor notices when one
handler has run for longer than ``stall_s`` and starts a new loop thread that takes the
loop over; the stuck handler's socket is left out of polling until its handler returns,
so that connection's messages keep their order. At most ``max_threads`` loop threads
exist at once; past that a stall is logged and waited out.

Other threads (the pool that runs long calls, ``stop()``) reach the loop through
:meth:`Reactor.call_soon`, which wakes it through a socket pair.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger("viamlite.fastpath")

READ = select.POLLIN
WRITE = select.POLLOUT
_EPOLL = hasattr(select, "epoll")
_ERRORS = select.POLLERR | select.POLLHUP


class Timer:
    """A scheduled callback; :meth:`cancel` keeps it from running."""

    __slots__ = ("when", "callback", "cancelled", "_reactor")

    def __init__(self, when: float, callback: Callable[[], Any], reactor: "Reactor | None" = None) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False
        self._reactor = reactor

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            self.callback = _nothing  # what it would have called (a closed connection) is let go now
            if self._reactor is not None:
                self._reactor._cancelled()


def _nothing() -> None:
    pass


class Reactor:
    """Polls sockets and runs timers on a loop thread of its own (started by :meth:`start`).

    ``register(fd, handler)`` calls ``handler(events)`` on the loop thread when the file is
    readable (or writable, after ``want_write``). Every method may be called from any thread.
    """

    def __init__(self, *, name: str = "fastpath-loop", stall_s: float = 0.25, max_threads: int = 8) -> None:
        self.name = name
        self.stall_s = stall_s
        self.max_threads = max_threads
        self._poller: Any = select.epoll() if _EPOLL else select.poll()
        self._handlers: dict[int, Callable[[int], None]] = {}
        self._masks: dict[int, int] = {}
        self._held: set[int] = set()  # fds whose handler is stuck on an old loop thread
        self._timers: list[tuple[float, int, Timer]] = []
        self._cancelled_count = 0
        self._seq = itertools.count()
        self._soon: deque[Callable[[], Any]] = deque()
        self._lock = threading.Lock()  # the poller's registrations and the timer heap
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._woken = False
        self._owner: threading.Thread | None = None
        self._threads = 0
        self._busy_since = 0.0  # monotonic start of the running handler, 0 while polling
        self._busy_fd = -1
        self._stopped = False
        self._generation = 0
        self._register(self._wake_r.fileno(), self._drain_wake, READ)

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._owner is not None or self._stopped:
                return
            self._spawn()
        threading.Thread(target=self._supervise, name=f"{self.name}-supervisor", daemon=True).start()

    def _spawn(self) -> None:
        self._generation += 1
        self._threads += 1
        thread = threading.Thread(target=self._run, args=(self._generation,), name=f"{self.name}-{self._generation}",
                                  daemon=True)
        self._owner = thread
        thread.start()

    def stop(self) -> None:
        self._stopped = True
        self._wake()

    @property
    def threads(self) -> int:
        """Loop threads alive now (1 unless handlers are stuck)."""
        return self._threads

    def in_loop(self) -> bool:
        return threading.current_thread() is self._owner

    # -- registration -------------------------------------------------------------------
    def register(self, fd: int, handler: Callable[[int], None]) -> None:
        """Poll ``fd`` for reading; ``handler(events)`` runs on the loop thread."""
        self._register(fd, handler, READ)

    def _register(self, fd: int, handler: Callable[[int], None], mask: int) -> None:
        with self._lock:
            self._handlers[fd] = handler
            self._masks[fd] = mask
            self._poller.register(fd, mask)

    def unregister(self, fd: int) -> None:
        with self._lock:
            self._handlers.pop(fd, None)
            self._masks.pop(fd, None)
            self._held.discard(fd)
            try:
                self._poller.unregister(fd)
            except (KeyError, OSError, ValueError):
                pass

    def want_write(self, fd: int, on: bool) -> None:
        """Poll ``fd`` for writability too (``on``) or not."""
        with self._lock:
            mask = self._masks.get(fd)
            if mask is None:
                return
            new = READ | WRITE if on else READ
            if new != mask:
                self._masks[fd] = new
                if fd not in self._held:
                    self._poller.modify(fd, new)

    # -- scheduling ---------------------------------------------------------------------
    def call_at(self, when: float, callback: Callable[[], Any]) -> Timer:
        """Run ``callback`` on the loop thread at monotonic time ``when``."""
        timer = Timer(when, callback, self)
        with self._lock:
            first = not self._timers or when < self._timers[0][0]
            heapq.heappush(self._timers, (when, next(self._seq), timer))
        if first and not self.in_loop():
            self._wake()
        return timer

    def _cancelled(self) -> None:
        """Cancelled timers wait in the heap until due; when they are most of it, drop them
        (a burst of closed connections leaves one per connection)."""
        self._cancelled_count += 1  # the loop compacts the heap (:meth:`_compact`)

    def _compact(self) -> None:
        with self._lock:
            self._timers[:] = [entry for entry in self._timers if not entry[2].cancelled]
            heapq.heapify(self._timers)
            self._cancelled_count = 0

    def call_later(self, delay: float, callback: Callable[[], Any]) -> Timer:
        return self.call_at(time.monotonic() + delay, callback)

    def call_soon(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` on the loop thread as soon as it is free."""
        self._soon.append(callback)
        if not self.in_loop():
            self._wake()

    def _wake(self) -> None:
        if not self._woken:
            self._woken = True
            try:
                self._wake_w.send(b"x")
            except OSError:  # the pipe is full (the loop will wake anyway) or closed
                pass

    def _drain_wake(self, events: int) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass
        self._woken = False

    # -- the loop -----------------------------------------------------------------------
    def _run(self, generation: int) -> None:
        me = threading.current_thread()
        poll = self._poller.poll
        handlers = self._handlers
        clock = time.monotonic
        timers = self._timers
        soon = self._soon
        forever: Any = -1 if _EPOLL else None  # epoll takes seconds, poll milliseconds
        scale = 1.0 if _EPOLL else 1000.0
        # epoll and poll wait in whole milliseconds; a timer is waited for to the microsecond
        # by select() on the epoll descriptor, which is readable while any socket is ready
        precise = self._poller.fileno() if _EPOLL else -1
        wait = select.select
        try:
            while self._owner is me and not self._stopped:
                try:
                    if soon:
                        ready = poll(0)
                    elif timers:
                        timeout = timers[0][0] - clock()
                        if timeout <= 0:
                            ready = poll(0)
                        elif precise >= 0 and timeout < 0.002:
                            ready = poll(0) if wait((precise,), (), (), timeout)[0] else ()
                        elif precise >= 0:  # epoll's milliseconds, rounded up, would overshoot: wake early
                            ready = poll(timeout - 0.001)
                        else:
                            ready = poll(timeout * scale)
                    else:
                        ready = poll(forever)
                except InterruptedError:
                    continue
                for fd, events in ready:
                    handler = handlers.get(fd)
                    if handler is None:
                        continue
                    self._busy_fd, self._busy_since = fd, clock()
                    try:
                        handler(events)
                    except Exception:
                        log.exception("fast-path loop: a handler failed")
                    if self._owner is not me:  # taken over while this handler was stuck
                        self._release(fd)
                        return
                self._busy_fd = -1
                while soon:
                    callback = soon.popleft()
                    self._busy_since = clock()
                    try:
                        callback()
                    except Exception:
                        log.exception("fast-path loop: a callback failed")
                    if self._owner is not me:
                        return
                if timers:
                    if self._cancelled_count > 256 and self._cancelled_count * 2 > len(timers):
                        self._compact()
                    now = clock()
                    while timers and timers[0][0] <= now:
                        with self._lock:
                            if not timers or timers[0][0] > now:
                                break
                            _, _, timer = heapq.heappop(timers)
                        if timer.cancelled:
                            continue
                        self._busy_since = clock()
                        try:
                            timer.callback()
                        except Exception:
                            log.exception("fast-path loop: a timer failed")
                        if self._owner is not me:
                            return
                self._busy_since = 0.0
        finally:
            with self._lock:
                self._threads -= 1
            if self._owner is me and self._stopped:
                self._close()

    def _release(self, fd: int) -> None:
        """A handler stuck on an old loop thread returned: poll its socket again."""
        with self._lock:
            if fd in self._held:
                self._held.discard(fd)
                mask = self._masks.get(fd)
                if mask is not None:
                    self._poller.register(fd, mask)
        self._wake()

    def _supervise(self) -> None:
        """Start a new loop thread when a handler has held the loop for ``stall_s``."""
        while not self._stopped:
            time.sleep(self.stall_s / 2)
            since, fd = self._busy_since, self._busy_fd
            if not since or time.monotonic() - since < self.stall_s:
                continue
            with self._lock:
                if self._busy_since != since or self._stopped:
                    continue
                if self._threads >= self.max_threads:
                    log.warning("fast path: %d loop threads are held up by driver calls that do not return; "
                                "waiting for one", self._threads)
                    continue
                if fd >= 0 and fd in self._masks:
                    self._held.add(fd)
                    try:
                        self._poller.unregister(fd)
                    except (KeyError, OSError, ValueError):
                        pass
                log.warning("fast path: a call has held the loop for %.0f ms; a new loop thread takes over",
                            (time.monotonic() - since) * 1000)
                self._busy_since = 0.0
                self._busy_fd = -1
                self._spawn()

    def _close(self) -> None:
        try:
            self._poller.close()
        except (AttributeError, OSError):
            pass
        self._wake_r.close()
        self._wake_w.close()


__all__ = ["Reactor", "Timer", "READ", "WRITE"]
