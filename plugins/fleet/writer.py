"""Group commit for what parts send: many Log calls' records stored in one transaction.

A Log call hands its records to :class:`LogWriter` and waits until they are committed, so
its answer still means "stored". One writer thread takes everything waiting, stores it in
one transaction (with one NOTIFY per part on PostgreSQL), commits, and answers every call
at once: a thousand machines sending a line a second cost a few transactions a second,
not a thousand.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import Future

from sqlalchemy.exc import SQLAlchemyError

from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.notify import LogBus
from viamlite_plugins.fleet.store import logs as logstore

log = logging.getLogger("viamlite.fleet.writer")
#: The most records one transaction stores; more wait for the next.
MAX_BATCH = 5000


class LogWriter:
    def __init__(self, db: Database, bus: LogBus) -> None:
        self.db = db
        self.bus = bus
        self._pending: deque[tuple[str, list[logstore.Record], Future[None]]] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="viamlite-fleet-logs", daemon=True)
        self._thread.start()

    def store(self, part_id: str, records: list[logstore.Record], timeout: float = 30.0) -> None:
        """Store ``records`` of ``part_id``; returns once they are committed (raises if not)."""
        done: Future[None] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the fleet is stopping")
            self._pending.append((part_id, records, done))
            self._ready.notify()
        done.result(timeout)

    def _take(self) -> list[tuple[str, list[logstore.Record], Future[None]]]:
        with self._ready:
            self._ready.wait_for(lambda: self._pending or self._closed)
            batch, count = [], 0
            while self._pending and (not batch or count + len(self._pending[0][1]) <= MAX_BATCH):
                item = self._pending.popleft()
                batch.append(item)
                count += len(item[1])
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                return
            parts = sorted({part_id for part_id, _, _ in batch})
            try:
                with self.db.write() as conn:
                    for part_id, records, _ in batch:
                        logstore.insert(conn, part_id, records)
                    for part_id in parts:
                        self.bus.publish(conn, part_id)
            except SQLAlchemyError as exc:
                log.warning("could not store %d log batches: %s", len(batch), exc)
                for _, _, done in batch:
                    done.set_exception(exc)
                continue
            for _, _, done in batch:
                done.set_result(None)
            for part_id in parts:
                self.bus.committed(part_id)

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        self._thread.join(5)
