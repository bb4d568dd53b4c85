"""One capture method of one resource, captured at its frequency into capture files.

Quick (tabular) methods share one :class:`CaptureLoop` thread, which a method leaves for a
thread of its own once a capture of it takes long; binary methods (a camera) have their
own threads from the start. So a slow method never delays another, and nothing here waits
for the network: sync reads only finished files. Captures follow a fixed schedule
(``start + k / hz``); one that falls more than a period behind skips the slots it missed
rather than bunching up. The file being written is rotated (finished as ``.capture``)
when it reaches ``maximum_capture_file_size_bytes`` or is older than the sync interval,
so sync sees data at that cadence.
"""
from __future__ import annotations

import datetime
import heapq
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from viamlite_plugins.datamanager.captures import CaptureFile, directory
from viamlite_plugins.datamanager.methods import BINARY, EXTENSIONS, method_for
from viamlite_plugins.datamanager.settings import CaptureMethod

log = logging.getLogger("viamlite.datamanager")
ERROR_LOG_EVERY_S = 60.0
#: Waits longer than this watch for stop(); shorter ones just sleep.
LONG_WAIT_S = 0.05
#: A capture slower than this leaves the shared loop for a thread of its own.
SLOW_S = 0.02
MIME_ENUM = {"image/jpeg": 1, "image/png": 2, "pointcloud/pcd": 3, "video/mp4": 4}


class Collector:
    def __init__(self, method: CaptureMethod, *, capture_dir: Path, service_tags: tuple[str, ...],
                 max_file_bytes: int, rotate_after_s: float, resource: Callable[[], Any]) -> None:
        from viamlite.gen.app import data_sync_pb2 as pb

        self.method = method
        self.spec = method_for(method.api, method.method)
        self.params = dict(method.additional_params)
        self.folder = directory(capture_dir, str(method.api), method.resource, method.method)
        self.tags = tuple(dict.fromkeys((*service_tags, *method.tags)))
        self.max_file_bytes = max_file_bytes
        self.rotate_after_s = rotate_after_s
        self._resource = resource
        self._pb = pb
        self._file: CaptureFile | None = None
        self._mime = ""
        self.captured = 0
        self.failures = 0
        self._last_error_log = 0.0
        self._stop = threading.Event()
        self._stopped = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"viamlite-capture-{method.resource}-{method.method}",
                                        daemon=True)

    def start(self) -> "Collector":
        self._thread.start()
        return self

    def _metadata(self, mime: str) -> Any:
        pb = self._pb
        kind = pb.DATA_TYPE_BINARY_SENSOR if self.spec.kind == BINARY else pb.DATA_TYPE_TABULAR_SENSOR
        meta = pb.DataCaptureMetadata(component_type=str(self.method.api), component_name=self.method.resource,
                                      method_name=self.method.method, type=kind, tags=self.tags, mime_type=mime,
                                      file_extension=EXTENSIONS.get(mime, ".dat") if self.spec.kind == BINARY else ".dat")
        for key, value in self.params.items():
            from google.protobuf import wrappers_pb2

            entry = meta.method_parameters[key]
            entry.type_url = "type.googleapis.com/google.protobuf.StringValue"
            entry.value = wrappers_pb2.StringValue(value=value).SerializeToString()
        return meta

    def _target(self, mime: str, now: float) -> CaptureFile:
        current = self._file
        if current is not None and (current.size >= self.max_file_bytes or mime != self._mime
                                    or now - current.opened.timestamp() >= self.rotate_after_s):
            current.close()
            current = self._file = None
        if current is None:
            current = self._file = CaptureFile(self.folder, self._metadata(mime),
                                               datetime.datetime.fromtimestamp(now, datetime.timezone.utc))
            self._mime = mime
        return current

    def capture_once(self) -> int:
        """Capture now and write the records; returns how many were written."""
        pb = self._pb
        requested = time.time_ns()
        value = self.spec.capture(self._resource(), self.params)
        received = time.time_ns()
        if self.spec.kind == BINARY:
            records = []
            for data, mime in value:
                record = pb.SensorData(binary=data)
                record.metadata.mime_type = MIME_ENUM.get(mime, 0)
                records.append((record, mime))
        else:
            record = pb.SensorData()
            record.struct.update(value)
            records = [(record, "")]
        now = received / 1e9
        for record, mime in records:
            record.metadata.time_requested.FromNanoseconds(requested)
            record.metadata.time_received.FromNanoseconds(received)
            self._target(mime, now).write(record.SerializeToString())
        self.captured += len(records)
        return len(records)

    def step(self) -> None:
        """One capture (a failure is counted and logged, at most once a minute), then the
        file rotated if it is due."""
        with self._lock:
            if self._stopped:
                return
            try:
                self.capture_once()
            except Exception as exc:  # noqa: BLE001 - a failed capture is logged, the next one is tried
                self.failures += 1
                now = time.monotonic()
                if now - self._last_error_log >= ERROR_LOG_EVERY_S:
                    self._last_error_log = now
                    log.warning("capturing %s %s of %s failed (%d failures so far): %s", self.method.api,
                                self.method.method, self.method.resource, self.failures, exc)
            if self._file is not None and self._file.records and \
                    time.time() - self._file.opened.timestamp() >= self.rotate_after_s:
                self._close_file()

    def next_deadline(self, deadline: float) -> float:
        """The slot after ``deadline``: taken at once when it is less than a period late,
        skipped (with every slot missed) when it is later than that."""
        period = 1.0 / self.method.frequency_hz
        deadline += period
        now = time.monotonic()
        if deadline < now - period:
            deadline = now + period - ((now - deadline) % period)
        return deadline

    def _run(self) -> None:
        deadline = time.monotonic()
        while True:
            delay = deadline - time.monotonic()
            if delay > LONG_WAIT_S:
                self._stop.wait(delay)
            elif delay > 0:
                time.sleep(delay)  # cheaper than an event's timed wait, at 100 Hz and more
            if self._stop.is_set():
                return
            self.step()
            deadline = self.next_deadline(deadline)

    def _close_file(self) -> None:
        current, self._file = self._file, None
        if current is not None:
            current.close()

    def rotate(self) -> None:
        """Finish the file being written (it becomes ``.capture``)."""
        with self._lock:
            self._close_file()

    def stop(self) -> None:
        """Stop capturing and finish the current file."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        with self._lock:
            self._stopped = True
            self._close_file()


class CaptureLoop:
    """One thread capturing many quick (tabular) methods at their slots, so a machine
    capturing ten methods at 100 Hz wakes 100 times a second, not 1000. A method whose
    capture takes longer than :data:`SLOW_S` moves to a thread of its own, so it never holds
    up the others again."""

    def __init__(self, name: str) -> None:
        self._heap: list[tuple[float, int, Collector]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._seq = 0
        self._thread = threading.Thread(target=self._run, name=f"viamlite-capture-{name}", daemon=True)
        self._thread.start()

    def add(self, collector: Collector) -> None:
        with self._lock:
            self._seq += 1
            heapq.heappush(self._heap, (time.monotonic(), self._seq, collector))
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                top = self._heap[0] if self._heap else None
            if top is None:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            delay = top[0] - time.monotonic()
            if delay > LONG_WAIT_S:
                self._wake.wait(min(delay, 1.0))
                self._wake.clear()
                continue
            if delay > 0:
                time.sleep(delay)
            with self._lock:
                deadline, _, collector = heapq.heappop(self._heap)
            if collector._stop.is_set():
                continue
            began = time.monotonic()
            collector.step()
            if time.monotonic() - began > SLOW_S:
                log.info("capturing %s %s of %s takes %.0f ms: it gets a thread of its own", collector.method.api,
                         collector.method.method, collector.method.resource, (time.monotonic() - began) * 1000)
                collector.start()
                continue
            with self._lock:
                self._seq += 1
                heapq.heappush(self._heap, (collector.next_deadline(deadline), self._seq, collector))

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5.0)
