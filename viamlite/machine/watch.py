"""Config watching: a machine's config file polled, and its edits applied live."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from viamlite.config import MachineConfig, load_config
from viamlite.errors import ConfigError
from viamlite.machine.runtime import Machine, config_fingerprint

log = logging.getLogger("viamlite.machine")


def _check_live_change(old: MachineConfig, new: MachineConfig) -> None:
    """Refuse edits a running server cannot honour: turning API keys on or off changes
    whether (and how, TLS included) the server listens, which only a restart can do."""
    if (old.auth is None) != (new.auth is None):
        turned = "on" if new.auth is not None else "off"
        raise ConfigError(f"turning API keys {turned} needs a restart of viamlite serve", path="auth",
                          fix="restart the server to apply it; keys can be added, changed and removed live",
                          file=new.source)


class ConfigWatcher:
    """Polls a config file and applies changes to a machine; a bad edit keeps the old config."""

    def __init__(self, machine: Machine, path: str | Path, interval: float = 1.0,
                 on_error: Callable[[ConfigError], None] | None = None) -> None:
        self.machine = machine
        self.path = Path(path)
        self.interval = interval
        self.on_error = on_error
        self.last_error: ConfigError | None = None
        self._seen = config_fingerprint(self.path)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="viamlite-config-watch", daemon=True)

    def start(self) -> "ConfigWatcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def check(self) -> bool:
        """Apply the file if it changed; True when a new config was applied."""
        text = config_fingerprint(self.path)
        if text == self._seen:
            return False
        self._seen = text
        try:
            config = load_config(self.path)
            _check_live_change(self.machine.config, config)
            self.machine.apply(config)
        except ConfigError as exc:
            self.last_error = exc
            log.error("config change not applied, keeping the running config: %s", exc)
            if self.on_error:
                self.on_error(exc)
            return False
        self.last_error = None
        log.info("config file changed: applied revision %d", self.machine.revision)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # never let the watcher die silently
                log.exception("config watcher failed")


__all__ = ["ConfigWatcher"]
