"""The capture directory's bound: when its files pass ``maximum_capture_dir_bytes``, the
oldest finished files are dropped first, and every drop is counted and logged. Files
being written are never dropped."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from viamlite_plugins.datamanager.captures import CAPTURE

log = logging.getLogger("viamlite.datamanager")


class DiskGuard:
    def __init__(self, capture_dir: Path, limit_bytes: int) -> None:
        self.capture_dir = capture_dir
        self.limit = limit_bytes
        self.dropped_files = 0
        self.dropped_bytes = 0

    def usage(self) -> tuple[int, list[tuple[float, int, str]]]:
        """(total bytes, [(modified, size, path) of finished files])."""
        total, finished = 0, []
        for root, _, names in os.walk(self.capture_dir):
            for name in names:
                path = os.path.join(root, name)
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue
                total += st.st_size
                if name.endswith(CAPTURE):
                    finished.append((st.st_mtime, st.st_size, path))
        return total, finished

    def check(self) -> int:
        """Drop the oldest finished files until the directory is within its bound; how many."""
        total, finished = self.usage()
        if total <= self.limit:
            return 0
        dropped = freed = 0
        for _, size, path in sorted(finished):
            if total <= self.limit:
                break
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            total -= size
            dropped += 1
            freed += size
        if dropped:
            self.dropped_files += dropped
            self.dropped_bytes += freed
            log.warning("capture directory %s is over its bound of %d bytes: dropped the %d oldest capture files "
                        "(%d bytes) unsynced; %d files (%d bytes) dropped so far", self.capture_dir, self.limit,
                        dropped, freed, self.dropped_files, self.dropped_bytes)
        return dropped
