"""The data manager service (``rdk:service:data_manager``, model ``rdk:builtin:builtin``).

It captures what the machine's components' ``service_configs`` ask for
(:mod:`.collector`, one thread per method), keeps it in Viam's capture files
(:mod:`.captures`), syncs finished files to the fleet named by the machine's ``cloud``
block (:mod:`.sync`), and keeps the capture directory within its bound (:mod:`.disk`).

At start it finishes the ``.prog`` files a crashed process left (every complete record
kept). It follows the machine's config: components added, removed or given other capture
methods are picked up within a second.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from viamlite.attributes import Attributes
from viamlite.config import ConfigError
from viamlite.driver import Configured
from viamlite.resource import MustRebuild, Resource

from viamlite_plugins.datamanager import settings as S
from viamlite_plugins.datamanager.captures import recover
from viamlite_plugins.datamanager.collector import CaptureLoop, Collector
from viamlite_plugins.datamanager.disk import DiskGuard
from viamlite_plugins.datamanager.methods import BINARY

log = logging.getLogger("viamlite.datamanager")
WATCH_S = 0.5


class DataManager(Configured, Resource):
    API = S.DATA_MANAGER

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        return {"settings": S.manager_settings(attrs)}

    def __init__(self, name: str, attrs: Attributes | Mapping[str, Any]) -> None:
        super().__init__(name)
        from viamlite.driver import attributes_of

        self.config: S.ManagerSettings = S.manager_settings(attributes_of(attrs))
        self.config.capture_dir.mkdir(parents=True, exist_ok=True)
        files, torn = recover(self.config.capture_dir)
        if files:
            log.info("data manager %s: recovered %d capture files left by the last run (%d torn bytes cut off)",
                     name, files, torn)
        self.recovered_files = files
        self.guard = DiskGuard(self.config.capture_dir, self.config.maximum_capture_dir_bytes)
        self.collectors: dict[tuple[Any, ...], Collector] = {}
        self.loop = CaptureLoop(name)
        self.syncer: Any = None
        self.link: Any = None
        self.machine: Any = None
        self._revision = -1
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name=f"viamlite-data-manager-{name}", daemon=True)
        self._thread.start()

    def reconfigure(self, config: Any, dependencies: Any) -> None:
        raise MustRebuild()  # a new capture directory or sync target: start afresh

    # -- following the machine ----------------------------------------------------
    def bind(self, machine: Any) -> None:
        """Serve ``machine``: capture what its config asks for, sync to its fleet."""
        with self._lock:
            if self.machine is not None or self._stop.is_set():
                return
            self.machine = machine
            cloud = machine.config.cloud
            if self.config.sync_disabled:
                log.info("data manager %s: sync is disabled; captured data stays in %s", self.name,
                         self.config.capture_dir)
            elif cloud is None:
                log.warning("data manager %s: the machine has no cloud block, so there is no fleet to sync to; "
                            "captured data stays in %s", self.name, self.config.capture_dir)
            else:
                from viamlite_plugins.datamanager.link import DataLink
                from viamlite_plugins.datamanager.sync import Syncer

                self.link = DataLink(cloud)
                self.syncer = Syncer(self.link, cloud.id, self.config.capture_dir, self.config.sync_interval_s,
                                     self.config.additional_sync_paths, self.config.tags).start()
        self._replan()

    def _find_machine(self) -> None:
        from viamlite_plugins.datamanager import started_machines

        for machine in list(started_machines):
            try:
                entry = next((e for e in machine.entries() if e.resource is self), None)
            except Exception:  # noqa: BLE001 - a machine closing meanwhile
                continue
            if entry is not None:
                self.bind(machine)
                return

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_S):
            try:
                if self.machine is None:
                    self._find_machine()
                elif self.machine.revision != self._revision:
                    self._replan()
                self.guard.check()
            except Exception:  # noqa: BLE001 - keep watching
                log.exception("data manager %s", self.name)

    def _replan(self) -> None:
        machine = self.machine
        with self._lock:
            if machine is None or self._stop.is_set():
                return
            self._revision = machine.revision
            wanted: dict[tuple[Any, ...], S.CaptureMethod] = {}
            if not self.config.capture_disabled:
                errors: list[ConfigError] = []
                wanted = {m.key: m for m in S.capture_methods(machine.config, errors)}
                for exc in errors:
                    log.error("data manager %s does not capture this resource: %s", self.name, exc)
            for key in [k for k in self.collectors if k not in wanted]:
                self.collectors.pop(key).stop()
            for key, method in wanted.items():
                if key in self.collectors:
                    continue

                def resource(api: Any = method.api, name: str = method.resource) -> Any:
                    return machine.resource(api, name)

                collector = self.collectors[key] = Collector(
                    method, capture_dir=self.config.capture_dir, service_tags=self.config.tags,
                    max_file_bytes=self.config.maximum_capture_file_size_bytes,
                    rotate_after_s=self.config.sync_interval_s, resource=resource)
                if collector.spec.kind == BINARY:
                    collector.start()  # images take long: a thread of their own
                else:
                    self.loop.add(collector)
                log.info("data manager %s captures %s %s of %s at %g Hz", self.name, method.api, method.method,
                         method.resource, method.frequency_hz)

    # -- the API ------------------------------------------------------------------
    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """``{"sync": true}`` syncs now (as the data manager's Sync); ``{"status": true}``."""
        if command.get("sync"):
            if self.syncer is None:
                raise ConfigError("this data manager does not sync (sync_disabled, or no cloud block)")
            self.syncer.sync_now()
            return {"sync": "started"}
        if command.get("status"):
            return self.get_status()
        return super().do_command(command)

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            collectors = list(self.collectors.values())
        status: dict[str, Any] = {
            "capture_dir": str(self.config.capture_dir),
            "captured": sum(c.captured for c in collectors),
            "capture_failures": sum(c.failures for c in collectors),
            "collectors": len(collectors),
            "recovered_files": self.recovered_files,
            "dropped_files": self.guard.dropped_files,
            "dropped_bytes": self.guard.dropped_bytes,
        }
        if self.syncer is not None:
            status.update(synced_files=self.syncer.synced_files, synced_records=self.syncer.synced_records,
                          failed_files=self.syncer.failed_files)
        return status

    def _on_close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2.0)
        with self._lock:
            collectors, self.collectors = list(self.collectors.values()), {}
        self.loop.close()
        for collector in collectors:
            collector.stop()
        if self.syncer is not None:
            self.syncer.stop()
        if self.link is not None:
            self.link.close()
