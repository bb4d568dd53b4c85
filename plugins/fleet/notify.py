"""News of stored logs, for log tails: within a process, and across fleet processes on PostgreSQL.

:meth:`LogBus.publish` is called in the transaction that stores a part's logs. On
PostgreSQL it issues ``NOTIFY`` (delivered to every fleet process when the transaction
commits, this one included) and a listener thread per process wakes the tails waiting on
that part. On SQLite (one fleet process) tails are woken in-process after the commit, and
also look at the database every :data:`POLL` seconds in case another process wrote.
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict

from sqlalchemy import Connection, text

from viamlite_plugins.fleet.db import Database

log = logging.getLogger("viamlite.fleet.notify")
CHANNEL = "viamlite_fleet_logs"
#: How often a waiting tail looks at the database anyway (seconds).
POLL = 1.0


class LogBus:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._versions: dict[str, int] = defaultdict(int)
        self._changed = threading.Condition(self._lock)
        self._closed = threading.Event()
        self._listener: threading.Thread | None = None
        if db.is_postgresql:
            self._listener = threading.Thread(target=self._listen, name="viamlite-fleet-listen", daemon=True)
            self._listener.start()

    def version(self, part_id: str) -> int:
        with self._lock:
            return self._versions[part_id]

    def publish(self, conn: Connection, part_ids: list[str]) -> None:
        """Announce new logs of ``part_ids``; call inside the transaction that stored them,
        and :meth:`committed` after it commits. One statement, part ids comma-joined, 200 to
        a notification (payloads stay under PostgreSQL's 8000 bytes)."""
        if self.db.is_postgresql and part_ids:
            chunks = [",".join(part_ids[i:i + 200]) for i in range(0, len(part_ids), 200)]
            conn.execute(text("SELECT pg_notify(:channel, p) FROM unnest(CAST(:parts AS text[])) AS p"),
                         {"channel": CHANNEL, "parts": chunks})

    def committed(self, part_id: str) -> None:
        self._wake(part_id)

    def _wake(self, part_id: str) -> None:
        with self._changed:
            self._versions[part_id] += 1
            self._changed.notify_all()

    def wait(self, part_id: str, seen: int, timeout: float = POLL) -> int:
        """Wait until ``part_id``'s version passes ``seen`` or ``timeout`` passes; the version."""
        with self._changed:
            self._changed.wait_for(lambda: self._versions[part_id] != seen or self._closed.is_set(),
                                   timeout=min(timeout, POLL))
            return self._versions[part_id]

    def _listen(self) -> None:
        import psycopg

        url = self.db.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not self._closed.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._closed.is_set():
                        for note in conn.notifies(timeout=0.5):
                            for part_id in note.payload.split(","):
                                self._wake(part_id)
            except psycopg.Error as exc:
                if not self._closed.is_set():
                    log.warning("lost the database's log notifications (%s); listening again in 1 s", exc)
                    self._closed.wait(1.0)

    def close(self) -> None:
        self._closed.set()
        with self._changed:
            self._changed.notify_all()
