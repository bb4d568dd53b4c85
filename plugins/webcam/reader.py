"""The background reader: one thread takes frames from the camera as they come and keeps
the latest, so a call answers at once with the newest frame instead of waiting for one.

It knows nothing of V4L2: it reads from whatever ``open()`` returns (an object with
``read(timeout) -> bytes | None`` and ``close()``). When reading fails it records why,
closes the source and opens it again with backoff, until it is closed.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from viamlite_plugins.webcam.device import WebcamError

from viamlite.reconnect import Backoff

log = logging.getLogger("viamlite_plugins.webcam")

#: How long one read waits for a frame before checking whether the reader was closed.
POLL_S = 0.25


class Frame(NamedTuple):
    data: bytes
    captured_at: float  # time.time() when it was read
    seq: int  # frames read so far, from 1


class LatestFrame:
    """Keeps the newest frame of ``source`` (already open); ``open`` reopens it after a failure."""

    def __init__(self, name: str, source: Any, open: Callable[[], Any], *, backoff: Backoff | None = None) -> None:
        self.name = name
        self._source: Any = source
        self._open = open
        self._backoff = backoff or Backoff(0.2, 5.0)
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._error = ""
        self._closed = False
        self.reopens = 0
        self._thread = threading.Thread(target=self._run, name=f"webcam-{name}", daemon=True)
        self._thread.start()

    # -- what callers see ----------------------------------------------------------------
    def latest(self, timeout: float) -> Frame:
        """The newest frame; waits up to ``timeout`` s for the first one. Raises the source's
        error (or TimeoutError) when there is none."""
        with self._cond:
            if self._frame is None and not self._closed:
                self._cond.wait_for(lambda: self._frame is not None or self._closed, timeout)
            if self._error and self._source is None:
                raise WebcamError(self._error)
            if self._frame is None:
                raise TimeoutError(f"no frame from camera {self.name!r} within {timeout:g} s")
            return self._frame

    def wait_for_first(self, timeout: float) -> Frame | None:
        with self._cond:
            self._cond.wait_for(lambda: self._frame is not None or self._closed or bool(self._error), timeout)
            return self._frame

    @property
    def error(self) -> str:
        """Why the camera is not delivering now ("" while it is)."""
        with self._cond:
            return self._error

    @property
    def frames(self) -> int:
        with self._cond:
            return self._frame.seq if self._frame is not None else 0

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=2 * POLL_S + 1.0)

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        seq = 0
        while True:
            with self._cond:
                if self._closed:
                    break
                source = self._source
            if source is None:
                self._reopen()
                continue
            try:
                data = source.read(POLL_S)
            except Exception as exc:  # unplugged, or the driver failed: reopen with backoff
                log.warning("camera %r: %s", self.name, exc)
                self._lost(source, str(exc))
                continue
            if data is None:
                continue
            seq += 1
            with self._cond:
                self._frame = Frame(data, time.time(), seq)
                self._error = ""
                self._backoff.reset()
                self._cond.notify_all()
        with self._cond:
            source, self._source = self._source, None
        if source is not None:
            source.close()

    def _lost(self, source: Any, why: str) -> None:
        source.close()
        with self._cond:
            self._source = None
            self._frame = None
            self._error = why
            self._cond.notify_all()

    def _reopen(self) -> None:
        wait = self._backoff.next()
        with self._cond:
            if self._cond.wait_for(lambda: self._closed, wait):
                return
        try:
            source = self._open()
        except Exception as exc:
            with self._cond:
                self._error = str(exc)
            return
        with self._cond:
            if self._closed:
                source.close()
                return
            self._source = source
            self.reopens += 1
        log.info("camera %r: reopened", self.name)
