"""Sync: finished capture files (and ``additional_sync_paths`` files) to the fleet's
DataSyncService, deleted only after the fleet acknowledged them.

* A tabular capture file goes in one DataCaptureUpload; a binary one as one upload per
  record (DataCaptureUpload up to 1 MB, StreamingDataCaptureUpload in 64 KiB chunks above).
* Each upload carries a stable id (``viamlite-upload-id``: the file's path in the capture
  directory, with the record's index for binaries), which the fleet stores once: a retry
  after a lost acknowledgement, or after a crash, duplicates nothing.
* An unreachable fleet ends the round; the files wait on disk for the next one. A file the
  fleet refuses (a bad request) moves to ``<capture_dir>/failed/``.
* ``additional_sync_paths``: files unchanged for 10 s go by FileUpload and are deleted.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from viamlite.errors import ConnectError, PermissionDeniedError
from viamlite.rpc.status import Code, RpcError

from viamlite_plugins.datamanager.captures import finished, move_to_failed, read
from viamlite_plugins.datamanager.link import chunks

log = logging.getLogger("viamlite.datamanager")
UPLOAD_ID_HEADER = "viamlite-upload-id"
STREAM_ABOVE = 1024 * 1024
FILE_QUIET_S = 10.0
TIMEOUT_S = 20.0
REFUSED = (Code.INVALID_ARGUMENT, Code.FAILED_PRECONDITION, Code.NOT_FOUND, Code.RESOURCE_EXHAUSTED)


class Syncer:
    def __init__(self, link: Any, part_id: str, capture_dir: Path, interval_s: float,
                 additional_paths: tuple[Path, ...] = (), tags: tuple[str, ...] = ()) -> None:
        self.link = link
        self.part_id = part_id
        self.capture_dir = capture_dir
        self.interval_s = interval_s
        self.additional_paths = additional_paths
        self.tags = tags
        self.synced_files = 0
        self.synced_records = 0
        self.failed_files = 0
        self.rounds = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="viamlite-data-sync", daemon=True)

    def start(self) -> "Syncer":
        self._thread.start()
        return self

    def sync_now(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(TIMEOUT_S + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.sync_once()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("data sync round failed")

    # -- one round -------------------------------------------------------------------
    def sync_once(self) -> bool:
        """Upload every finished file; False when the fleet could not be reached."""
        with self._lock:
            self.rounds += 1
            try:
                for path in finished(self.capture_dir):
                    if self._stop.is_set():
                        return True
                    self._file(path)
                for path in self._additional_files():
                    if self._stop.is_set():
                        return True
                    self._arbitrary(path)
            except ConnectError as exc:
                log.debug("data sync waits for the fleet: %s", exc)
                return False
            except PermissionDeniedError as exc:
                log.error("data sync: %s", exc)
                return False
            return True

    def _refused(self, path: Path, exc: RpcError) -> None:
        self.failed_files += 1
        log.error("the fleet refused capture file %s (%s); moved to %s", path, exc, self.capture_dir / "failed")
        move_to_failed(self.capture_dir, path)

    def _upload_metadata(self, head: Any, path: Path) -> Any:
        from viamlite.gen.app import data_sync_pb2 as pb

        meta = pb.UploadMetadata(part_id=self.part_id, component_type=head.component_type,
                                 component_name=head.component_name, method_name=head.method_name, type=head.type,
                                 file_extension=head.file_extension, tags=head.tags, mime_type=head.mime_type,
                                 file_name=path.stem)
        for key, value in head.method_parameters.items():
            meta.method_parameters[key].CopyFrom(value)
        return meta

    def _file(self, path: Path) -> None:
        from viamlite.gen.app import data_sync_pb2 as pb

        try:
            head, records = read(path)
        except (OSError, ValueError) as exc:
            log.error("capture file %s cannot be read (%s); moved to failed/", path, exc)
            self.failed_files += 1
            move_to_failed(self.capture_dir, path)
            return
        key = path.relative_to(self.capture_dir).as_posix()
        meta = self._upload_metadata(head, path)
        try:
            if head.type == pb.DATA_TYPE_TABULAR_SENSOR:
                request = pb.DataCaptureUploadRequest(metadata=meta, sensor_contents=records)
                self.link.data_call("DataCaptureUpload", request, pb.DataCaptureUploadResponse, TIMEOUT_S,
                                    ((UPLOAD_ID_HEADER, key),))
            else:
                for i, record in enumerate(records):
                    self._binary(meta, record, f"{key}#{i}")
        except RpcError as exc:
            if exc.code in REFUSED:
                self._refused(path, exc)
                return
            raise ConnectError(f"the fleet did not take {path.name}: {exc}") from None
        path.unlink(missing_ok=True)  # acknowledged: now it may go
        self.synced_files += 1
        self.synced_records += len(records)

    def _binary(self, meta: Any, record: Any, key: str) -> None:
        from viamlite.gen.app import data_sync_pb2 as pb

        if len(record.binary) <= STREAM_ABOVE:
            request = pb.DataCaptureUploadRequest(metadata=meta, sensor_contents=[record])
            self.link.data_call("DataCaptureUpload", request, pb.DataCaptureUploadResponse, TIMEOUT_S,
                                ((UPLOAD_ID_HEADER, key),))
            return
        head = pb.StreamingDataCaptureUploadRequest(metadata=pb.DataCaptureUploadMetadata(
            upload_metadata=meta, sensor_metadata=record.metadata))
        messages = [head, *(pb.StreamingDataCaptureUploadRequest(data=c) for c in chunks(record.binary))]
        self.link.data_call("StreamingDataCaptureUpload", messages, pb.StreamingDataCaptureUploadResponse,
                            TIMEOUT_S, ((UPLOAD_ID_HEADER, key),))

    # -- arbitrary files -------------------------------------------------------------
    def _additional_files(self) -> list[Path]:
        quiet = time.time() - FILE_QUIET_S
        out: list[Path] = []
        for root in self.additional_paths:
            if root.is_file():
                candidates = [root]
            elif root.is_dir():
                candidates = [p for p in root.rglob("*") if p.is_file()]
            else:
                continue
            for path in candidates:
                try:
                    if path.stat().st_mtime <= quiet:
                        out.append(path)
                except FileNotFoundError:
                    continue
        return sorted(out)

    def _arbitrary(self, path: Path) -> None:
        from viamlite.gen.app import data_sync_pb2 as pb

        try:
            st = path.stat()
            data = path.read_bytes()
        except OSError:
            return
        meta = pb.UploadMetadata(part_id=self.part_id, type=pb.DATA_TYPE_FILE, file_name=path.name,
                                 file_extension=path.suffix, tags=self.tags)
        meta.file_modify_time.FromNanoseconds(st.st_mtime_ns)
        key = f"file:{path}:{st.st_mtime_ns}:{st.st_size}"
        messages = [pb.FileUploadRequest(metadata=meta),
                    *(pb.FileUploadRequest(file_contents=pb.FileData(data=c)) for c in chunks(data))]
        try:
            self.link.data_call("FileUpload", messages, pb.FileUploadResponse, TIMEOUT_S, ((UPLOAD_ID_HEADER, key),))
        except RpcError as exc:
            if exc.code in REFUSED:
                log.error("the fleet refused file %s: %s", path, exc)
                return
            raise ConnectError(f"the fleet did not take {path}: {exc}") from None
        try:
            if os.stat(path).st_mtime_ns == st.st_mtime_ns:
                path.unlink()
        except FileNotFoundError:
            pass
        self.synced_files += 1
