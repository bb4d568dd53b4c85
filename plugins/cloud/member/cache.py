"""The last good config from the fleet, kept on disk so the machine starts from it when the
fleet cannot be reached: ``$VIAMLITE_HOME/cached_cloud_config_<part id>.json``, mode 0600
(it holds the part's secret and its keys' hashes), written whole or not at all."""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("viamlite.cloud")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def cache_path(part_id: str, home: Path | None = None) -> Path:
    """Where the config of part ``part_id`` is cached."""
    if home is None:
        from viamlite.transport.tlscert import viamlite_home

        home = viamlite_home()
    return Path(home) / f"cached_cloud_config_{_UNSAFE.sub('_', part_id)}.json"


class ConfigCache:
    """Reads and writes one part's cached config (a viam-server config as JSON)."""

    def __init__(self, part_id: str, home: Path | None = None) -> None:
        self.path = cache_path(part_id, home)

    def load(self) -> dict[str, Any] | None:
        """The cached config, or None when there is none (or it cannot be read, said in a warning)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read the cached fleet config %s: %s", self.path, exc.strerror or exc)
            return None
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            log.warning("the cached fleet config %s is not JSON (%s); ignoring it", self.path, exc.msg)
            return None
        if not isinstance(obj, dict):
            log.warning("the cached fleet config %s is not a JSON object; ignoring it", self.path)
            return None
        return obj

    def save(self, config: dict[str, Any]) -> None:
        """Replace the cached config with ``config`` (atomically; readable by this user only)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        data = json.dumps(config, indent=1, sort_keys=True).encode()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


__all__ = ["ConfigCache", "cache_path"]
