"""Viam's capture files: layout, format, writing, reading, and recovery after a crash.

* Layout: ``<capture_dir>/<api with ":" as "_">/<resource>/<method>/<time>.prog`` while
  written, renamed ``.capture`` when complete (on rotation); ``<time>`` is Go's
  ``2006-01-02T15_04_05.000000Z07_00`` in UTC.
* Format: a varint-delimited ``DataCaptureMetadata``, then varint-delimited ``SensorData``
  records, one per capture.
* Every record is written with one ``write`` (no user-space buffer), so a record a capture
  has returned is in the file even if the process is killed the next moment.
* :func:`recover`: after a crash, every complete record of a ``.prog`` file is kept, a
  torn last record is cut off, and the file becomes ``.capture`` (a file with no record
  is removed).
"""
from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from viamlite.rpc.varint import encode_varint

log = logging.getLogger("viamlite.datamanager")

PROG, CAPTURE = ".prog", ".capture"


def delimited(payload: bytes) -> bytes:
    return encode_varint(len(payload)) + payload


def _read_varint(data: bytes | memoryview, pos: int) -> tuple[int, int] | None:
    shift = result = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("a length prefix longer than 10 bytes: not a capture file")
    return None


def split(data: bytes) -> tuple[list[bytes], int]:
    """The complete delimited messages in ``data`` and the offset where they end (a torn
    last message is left out)."""
    out, pos = [], 0
    view = memoryview(data)
    while pos < len(data):
        found = _read_varint(view, pos)
        if found is None:
            break
        size, start = found
        if start + size > len(data):
            break
        out.append(bytes(view[start:start + size]))
        pos = start + size
    return out, pos


def timestamp(when: datetime.datetime) -> str:
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H_%M_%S.%fZ")


def directory(capture_dir: Path, api: str, resource: str, method: str) -> Path:
    return capture_dir / api.replace(":", "_") / resource / method


def read(path: Path) -> tuple[Any, list[Any]]:
    """(DataCaptureMetadata, [SensorData]) of a capture file; a torn tail is left out."""
    from viamlite.gen.app import data_sync_pb2 as pb

    messages, _ = split(path.read_bytes())
    if not messages:
        raise ValueError(f"{path} has no capture metadata: not a capture file")
    head = pb.DataCaptureMetadata.FromString(messages[0])
    return head, [pb.SensorData.FromString(m) for m in messages[1:]]


class CaptureFile:
    """A ``.prog`` file being written for one capture method."""

    def __init__(self, folder: Path, metadata: Any, now: datetime.datetime) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        when = now
        while True:
            self.path = folder / (timestamp(when) + PROG)
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
                break
            except FileExistsError:
                when += datetime.timedelta(microseconds=1)
        self.opened = now
        self.size = 0
        self.records = 0
        self._write(delimited(metadata.SerializeToString()))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]
        self.size += len(data)

    def write(self, record: bytes) -> None:
        """Append one serialized SensorData."""
        self._write(delimited(record))
        self.records += 1

    def close(self) -> Path | None:
        """Close and rename to ``.capture`` (an empty file is removed); the new path."""
        os.close(self._fd)
        if not self.records:
            self.path.unlink(missing_ok=True)
            return None
        done = self.path.with_suffix(CAPTURE)
        os.replace(self.path, done)
        return done


def recover(capture_dir: Path) -> tuple[int, int]:
    """Finish every ``.prog`` file left by a process that stopped without closing them:
    (files recovered, torn bytes cut off)."""
    files = torn = 0
    if not capture_dir.is_dir():
        return 0, 0
    for path in sorted(capture_dir.rglob("*" + PROG)):
        try:
            data = path.read_bytes()
            messages, end = split(data)
        except (OSError, ValueError) as exc:
            log.warning("capture file %s cannot be read (%s); moved to failed/", path, exc)
            _fail(capture_dir, path)
            continue
        if end < len(data):
            torn += len(data) - end
            with open(path, "r+b") as f:
                f.truncate(end)
                f.flush()
                os.fsync(f.fileno())
            log.info("capture file %s: kept %d complete records, cut a torn record of %d bytes", path,
                     max(len(messages) - 1, 0), len(data) - end)
        if len(messages) <= 1:
            path.unlink(missing_ok=True)
            continue
        os.replace(path, path.with_suffix(CAPTURE))
        files += 1
    return files, torn


def _fail(capture_dir: Path, path: Path) -> None:
    target = capture_dir / "failed" / path.relative_to(capture_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)


def move_to_failed(capture_dir: Path, path: Path) -> None:
    _fail(capture_dir, path)


def finished(capture_dir: Path) -> Iterator[Path]:
    """The ``.capture`` files ready to sync, oldest first (``failed/`` left out)."""
    if not capture_dir.is_dir():
        return iter(())
    failed = capture_dir / "failed"
    found = [p for p in capture_dir.rglob("*" + CAPTURE) if failed not in p.parents]
    return iter(sorted(found, key=lambda p: p.name))
