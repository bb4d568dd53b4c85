"""Group commit for what parts send: their logs and their presence, many calls in one transaction.

A Log call hands its records to :class:`LogWriter` and waits until they are committed, so
its answer still means "stored". One writer thread takes everything waiting, stores it in
one transaction (with one NOTIFY statement on PostgreSQL), commits, and answers every call
at once: a thousand machines sending a line a second cost a few transactions a second, not
a thousand. Parts' accesses (last_access, address) ride along in the same transactions.

A batch may carry an id (the ``viamlite-log-batch`` header): a batch whose id the fleet
already stored is acknowledged and not stored again, so a member that resends after a lost
answer duplicates nothing.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.db.schema import log_batches
from viamlite_plugins.fleet.notify import LogBus
from viamlite_plugins.fleet.store import logs as logstore
from viamlite_plugins.fleet.store import now_us, robots

log = logging.getLogger("viamlite.fleet.writer")
#: The most records one transaction stores; more wait for the next.
MAX_BATCH = 5000
#: How long a batch id is remembered (microseconds).
BATCH_MEMORY_US = 3600 * 1_000_000


class _Pending:
    __slots__ = ("part_id", "records", "batch_id", "done")

    def __init__(self, part_id: str, records: list[logstore.Record], batch_id: str | None) -> None:
        self.part_id = part_id
        self.records = records
        self.batch_id = batch_id
        self.done: Future[None] = Future()


class LogWriter:
    def __init__(self, db: Database, bus: LogBus) -> None:
        self.db = db
        self.bus = bus
        self._pending: deque[_Pending] = deque()
        self._touches: dict[str, dict[str, Any]] = {}
        self._touch_waiters: list[Future[None]] = []
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._closed = False
        self._pruned = 0.0
        self._thread = threading.Thread(target=self._run, name="viamlite-fleet-writer", daemon=True)
        self._thread.start()

    def store(self, part_id: str, records: list[logstore.Record], batch_id: str | None = None,
              timeout: float = 30.0) -> None:
        """Store ``records`` of ``part_id``; returns once they are committed (raises if not)."""
        item = _Pending(part_id, records, batch_id)
        with self._ready:
            if self._closed:
                raise RuntimeError("the fleet is stopping")
            self._pending.append(item)
            self._ready.notify()
        item.done.result(timeout)

    def touch(self, part_id: str, *, address: str | None = None, agent_info: dict[str, Any] | None = None,
              wait: bool = False) -> None:
        """Record an access from the part in the next transaction (waiting for it if ``wait``)."""
        done: Future[None] | None = Future() if wait else None
        with self._ready:
            if self._closed:
                raise RuntimeError("the fleet is stopping")
            entry = self._touches.setdefault(part_id, {})
            if address:
                entry["address"] = address
            if agent_info is not None:
                entry["agent_info"] = agent_info
            if done is not None:
                self._touch_waiters.append(done)
            self._ready.notify()
        if done is not None:
            done.result(30.0)

    def _take(self) -> tuple[list[_Pending], dict[str, dict[str, Any]], list[Future[None]]]:
        with self._ready:
            self._ready.wait_for(lambda: self._pending or self._touches or self._closed)
            batch, count = [], 0
            while self._pending and (not batch or count + len(self._pending[0].records) <= MAX_BATCH):
                item = self._pending.popleft()
                batch.append(item)
                count += len(item.records)
            touches, self._touches = self._touches, {}
            waiters, self._touch_waiters = self._touch_waiters, []
            return batch, touches, waiters

    def _run(self) -> None:
        while True:
            batch, touches, waiters = self._take()
            if not batch and not touches:
                return
            try:
                stored = self._commit(batch, touches)
            except SQLAlchemyError as exc:
                log.warning("could not store %d log batches and %d accesses: %s", len(batch), len(touches), exc)
                for item in batch:
                    item.done.set_exception(exc)
                for done in waiters:
                    done.set_exception(exc)
                continue
            for item in batch:
                item.done.set_result(None)
            for done in waiters:
                done.set_result(None)
            for part_id in stored:
                self.bus.committed(part_id)

    def _commit(self, batch: list[_Pending], touches: dict[str, dict[str, Any]]) -> list[str]:
        now = now_us()
        with self.db.write() as conn:
            ids = [item.batch_id for item in batch if item.batch_id]
            seen = set(conn.execute(select(log_batches.c.id).where(log_batches.c.id.in_(ids))).scalars()) if ids else set()
            fresh = []
            for item in batch:
                if item.batch_id:
                    if item.batch_id in seen:
                        continue  # stored before: its answer was lost, and it was sent again
                    seen.add(item.batch_id)
                fresh.append(item)
            logstore.insert(conn, [(item.part_id, item.records) for item in fresh])
            new_ids = [{"id": item.batch_id, "part_id": item.part_id, "received_us": now}
                       for item in fresh if item.batch_id]
            if new_ids:
                conn.execute(log_batches.insert(), new_ids)
            for part_id, values in touches.items():
                robots.touch(conn, part_id, **values)
            parts = sorted({item.part_id for item in fresh if item.records})
            self.bus.publish(conn, parts)
            if time.monotonic() - self._pruned > 60:
                self._pruned = time.monotonic()
                conn.execute(delete(log_batches).where(log_batches.c.received_us < now - BATCH_MEMORY_US))
        return parts

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        self._thread.join(5)
