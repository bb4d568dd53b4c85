"""Restarts the fleet asks for: ``NeedsRestart{id}`` polled every ``restart_check_interval``
(from the reply: 5 s by default, at least 1 s). On ``must_restart`` the member asks
``viamlite serve`` for a clean restart.

With ``VIAM_AGENT_HANDLES_NEEDS_RESTART_CHECKING`` set (as viam-agent sets it), the machine
leaves the polling to the agent, as viam-server does."""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from viamlite.errors import ConnectError, PermissionDeniedError
from viamlite.rpc.status import RpcError

log = logging.getLogger("viamlite.cloud")

DEFAULT_INTERVAL = 5.0
MIN_INTERVAL = 1.0
AGENT_ENV = "VIAM_AGENT_HANDLES_NEEDS_RESTART_CHECKING"


class RestartWatch:
    """Polls NeedsRestart in a background thread; calls ``restart()`` once when told to."""

    def __init__(self, link: Any, part_id: str, restart: Callable[[], None], *, timeout: float = 5.0) -> None:
        self.link = link
        self.part_id = part_id
        self.restart = restart
        self.timeout = timeout
        self.interval = DEFAULT_INTERVAL
        self.asked = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "RestartWatch":
        if os.environ.get(AGENT_ENV, "").strip().lower() in ("1", "true", "yes"):
            log.info("%s is set: the agent checks for restarts, not the machine", AGENT_ENV)
            return self
        self._thread = threading.Thread(target=self._run, name="viamlite-cloud-restart", daemon=True)
        self._thread.start()
        return self

    def check(self) -> bool:
        """Ask once; True when the fleet asked for a restart (``restart()`` has been called)."""
        from viamlite.gen.app import robot_pb2

        try:
            reply = self.link.call("NeedsRestart", robot_pb2.NeedsRestartRequest(id=self.part_id),
                                   robot_pb2.NeedsRestartResponse, self.timeout)
        except (ConnectError, PermissionDeniedError, RpcError) as exc:
            log.debug("restart check failed: %s", exc)
            return False
        if reply.HasField("restart_check_interval"):
            seconds = reply.restart_check_interval.ToTimedelta().total_seconds()
            self.interval = max(MIN_INTERVAL, seconds) if seconds > 0 else DEFAULT_INTERVAL
        if not reply.must_restart:
            return False
        self.asked = True
        log.warning("the fleet asked for a restart: stopping every actuator, closing every resource, then "
                    "starting again")
        self.restart()
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.check():
                    return
            except Exception:  # the watch must outlive a surprise
                log.exception("restart check failed")

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=self.timeout + 1)


__all__ = ["AGENT_ENV", "RestartWatch"]
