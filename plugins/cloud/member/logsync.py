"""The machine's log records, sent to the fleet: a bounded queue that never blocks the
machine, and a sender that drains it in batches.

* :class:`LogQueue` is a :class:`logging.Handler` on the root logger: every record of the
  process is queued (its message formatted and its traceback rendered at once, as
  :class:`logging.handlers.QueueHandler` does). The queue holds ``capacity`` records (20,000);
  when full, the oldest is dropped and counted.
* :class:`LogSender` sends ``Log{id, logs}`` batches of at most 100 records every 100 ms while
  there are records. A batch the fleet did not take stays at the head of the queue and is sent
  again after a pause (1 s, doubling to 5 s), so nothing is lost while the fleet is down, within
  the queue's bound. Dropped records are reported in a warning ("Overflowed N logs"), which
  reaches the fleet like any other record.
"""
from __future__ import annotations

import collections
import copy as _copy
import logging
import socket
import threading
import time
import uuid
from typing import Any

from viamlite.errors import ConnectError, PermissionDeniedError
from viamlite.reconnect import Backoff
from viamlite.rpc.status import Code, RpcError

log = logging.getLogger("viamlite.cloud.logs")

CAPACITY = 20_000
BATCH = 100
INTERVAL = 0.1
TIMEOUT = 4.0
#: Names each Log batch, so the fleet stores a batch sent again (its answer lost) only once.
BATCH_HEADER = "viamlite-log-batch"


_PLAIN = (str, int, float, bool, type(None))


class LogQueue(logging.Handler):
    """Queues every record it handles, up to ``capacity``; never blocks, never raises."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        super().__init__(logging.NOTSET)
        self.capacity = capacity
        self._records: collections.deque[logging.LogRecord] = collections.deque()
        self._qlock = threading.Lock()
        self.dropped = 0
        self.queued = 0
        self.ready = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            record = self._prepare(record)
        except Exception:  # a record whose message cannot be formatted: keep what can be said
            record = logging.makeLogRecord({"name": record.name, "levelno": record.levelno,
                                            "levelname": record.levelname, "created": record.created,
                                            "msg": f"(unformattable log message {record.msg!r})"})
        with self._qlock:
            if len(self._records) >= self.capacity:
                self._records.popleft()
                self.dropped += 1
            record.viamlite_seq = self.queued  # type: ignore[attr-defined]  # names the batches it is sent in
            self._records.append(record)
            self.queued += 1
        self.ready.set()

    @staticmethod
    def _prepare(record: logging.LogRecord) -> logging.LogRecord:
        """A copy that holds no references into the program: the message as text (its
        arguments kept when they are plain values), the traceback as text."""
        copy = _copy.copy(record)
        if not (isinstance(record.args, tuple) and all(isinstance(a, _PLAIN) for a in record.args)):
            copy.msg = record.getMessage()
            copy.args = None
        else:
            record.getMessage()  # fails here, not in the sender, when the arguments do not fit
        if record.exc_info and not record.exc_text:
            copy.exc_text = logging.Formatter().formatException(record.exc_info)
        copy.exc_info = None
        return copy

    def take(self, count: int) -> list[logging.LogRecord]:
        """Remove and return up to ``count`` of the oldest records."""
        with self._qlock:
            n = min(count, len(self._records))
            batch = [self._records.popleft() for _ in range(n)]
            if not self._records:
                self.ready.clear()
        return batch

    def put_back(self, batch: list[logging.LogRecord]) -> None:
        """Return a batch that was not sent to the head of the queue (oldest first); what no
        longer fits drops, oldest first, and is counted."""
        with self._qlock:
            room = self.capacity - len(self._records)
            keep = batch[len(batch) - room:] if room < len(batch) else batch
            self.dropped += len(batch) - len(keep)
            self._records.extendleft(reversed(keep))
            if self._records:
                self.ready.set()

    def __len__(self) -> int:
        return len(self._records)


class LogSender:
    """Drains a :class:`LogQueue` into ``Log`` calls on ``link`` in a background thread."""

    def __init__(self, link: Any, part_id: str, queue: LogQueue, *, batch: int = BATCH, interval: float = INTERVAL,
                 backoff: Backoff | None = None, timeout: float = TIMEOUT) -> None:
        self.link = link
        self.part_id = part_id
        self.queue = queue
        self.batch = self.full_batch = batch
        self.interval = interval
        self.backoff = backoff or Backoff(1.0, 5.0, at_once=False)
        self.timeout = timeout
        self.host = socket.gethostname()
        self.sent = 0
        self.reported_dropped = 0
        self._down = False
        self._sender_id = uuid.uuid4().hex[:16]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "LogSender":
        self._thread = threading.Thread(target=self._run, name="viamlite-cloud-logs", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.queue.ready.wait(self.interval)
            if self._stop.is_set():
                return
            delay = self.send_once()
            if delay:
                self._stop.wait(delay)
            elif len(self.queue) < self.batch:
                self._stop.wait(self.interval)  # let a few records gather: one call carries them

    def send_once(self) -> float:
        """Send one batch; the pause before the next attempt (0 when it went through or there
        was nothing to send)."""
        batch = self.queue.take(self.batch)
        self._report_overflow()  # after the take: the warning itself finds room
        if not batch:
            return 0.0
        try:
            self._send(batch)
        except ConnectError as exc:
            self.queue.put_back(batch)
            if not self._down:
                self._down = True
                log.warning("logs are kept here (up to %d records) until the fleet can be reached again: %s",
                            self.queue.capacity, exc)
            return self.backoff.next()
        except PermissionDeniedError as exc:
            self.queue.put_back(batch)
            if not self._down:
                self._down = True
                log.error("logs are kept here until the fleet takes the part's credentials again: %s", exc)
            return self.backoff.next()
        except RpcError as exc:
            if exc.code == Code.INVALID_ARGUMENT and len(batch) > 1:  # too large: send it in halves
                half = len(batch) // 2
                self.queue.put_back(batch[half:])
                self.queue.put_back(batch[:half])
                self.batch = max(1, half)
                return 0.0
            if exc.code == Code.INVALID_ARGUMENT:
                log.error("the fleet refused a log record (%s): it is dropped", exc)
                return 0.0
            self.queue.put_back(batch)
            log.warning("the fleet did not take the logs (%s): sending them again shortly", exc)
            return self.backoff.next()
        except Exception:
            self.queue.put_back(batch)
            log.exception("sending logs to the fleet failed")
            return self.backoff.next()
        self.sent += len(batch)
        self.batch = self.full_batch  # a halved batch size lasts one batch
        self.backoff.reset()
        if self._down:
            self._down = False
            log.info("the fleet is reachable again: sending the %d queued log records", len(self.queue))
        return 0.0

    def _report_overflow(self) -> None:
        dropped = self.queue.dropped
        if dropped > self.reported_dropped:
            log.warning("Overflowed %d logs: the oldest records were dropped (the queue holds %d; the fleet was "
                        "unreachable or logs came faster than they could be sent)",
                        dropped - self.reported_dropped, self.queue.capacity)
            self.reported_dropped = dropped

    def _send(self, batch: list[logging.LogRecord]) -> None:
        from viamlite.app.logs import record_to_entry
        from viamlite.gen.app import robot_pb2

        request = robot_pb2.LogRequest(id=self.part_id, logs=[record_to_entry(r, host=self.host) for r in batch])
        # The same records sent again (their answer lost) carry the same id: the fleet stores them once.
        first, last = getattr(batch[0], "viamlite_seq", 0), getattr(batch[-1], "viamlite_seq", 0)
        batch_id = f"{self._sender_id}-{first}-{last}-{len(batch)}"
        self.link.call("Log", request, robot_pb2.LogResponse, self.timeout, ((BATCH_HEADER, batch_id),))

    def close(self, flush: float = 2.0) -> None:
        """Stop, sending what is queued for up to ``flush`` seconds first (until a batch fails:
        what is left then is lost with the process, as it is in viam-server)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout=self.timeout + 1)
        deadline = time.monotonic() + flush
        self.timeout = min(self.timeout, max(0.5, flush))
        while len(self.queue) and time.monotonic() < deadline:
            if self.send_once():
                break


__all__ = ["CAPACITY", "LogQueue", "LogSender"]
