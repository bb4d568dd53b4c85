"""One capture method of one resource, captured at its frequency into capture files.

Each collector has its own thread, so a slow method (a camera) never delays another, and
nothing here waits for the network: sync reads only finished files. Captures follow a
fixed schedule (``start + k / hz``); a capture that overruns skips the slots it missed
rather than bunching up. The file being written is rotated (finished as ``.capture``)
when it reaches ``maximum_capture_file_size_bytes`` or is older than the sync interval,
so sync sees data at that cadence.
"""
from __future__ import annotations

import datetime
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

    def _run(self) -> None:
        period = 1.0 / self.method.frequency_hz
        deadline = time.monotonic()
        while not self._stop.wait(max(0.0, deadline - time.monotonic())):
            try:
                self.capture_once()
            except Exception as exc:  # noqa: BLE001 - a failed capture is logged, the next one is tried
                self.failures += 1
                now = time.monotonic()
                if now - self._last_error_log >= ERROR_LOG_EVERY_S:
                    self._last_error_log = now
                    log.warning("capturing %s %s of %s failed (%d failures so far): %s", self.method.api,
                                self.method.method, self.method.resource, self.failures, exc)
            deadline += period
            now = time.monotonic()
            if deadline < now:
                deadline = now + period - ((now - deadline) % period)
            if self._file is not None and self._file.records and \
                    time.time() - self._file.opened.timestamp() >= self.rotate_after_s:
                self.rotate()

    def rotate(self) -> None:
        current, self._file = self._file, None
        if current is not None:
            current.close()

    def stop(self) -> None:
        """Stop capturing and finish the current file (it becomes ``.capture``)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        self.rotate()
