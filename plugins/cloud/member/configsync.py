"""The machine's config from the fleet: fetched at start and every ``refresh_interval``,
checked, applied live, and cached.

* ``Config{id, agent_info}`` gives the part's config (``viam.app.v1.RobotConfig``), read back
  into viam-server's JSON with :func:`viamlite.app.robotconfig.proto_to_config`. The local
  ``cloud`` block (id, credentials, app_address, refresh_interval) is kept over the fleet's;
  the fleet's adds what it knows (fqdn, location and organization ids).
* A config is checked the way a file edit is (parsed, every model known and its attributes
  valid) and applied with ``machine.apply``: resources are added, removed and reconfigured
  live. A config that fails is logged as an error (so the fleet's logs show it) and the last
  good one keeps running; the same config is not reported twice.
* The last good config is cached (:mod:`.cache`). When the fleet cannot be reached at start,
  the machine starts from the cache (or, with none, from the local file's config: no
  resources), and keeps asking in the background, waiting longer after each failure
  (:class:`viamlite.reconnect.Reconnector`).
* A config that turns API keys on or off changes how the machine listens (TLS, auth), which
  only a restart can do: it is cached and the machine restarts cleanly onto it.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from viamlite.config import MachineConfig, parse_config
from viamlite.errors import ConfigError, ConnectError, PermissionDeniedError
from viamlite.reconnect import Backoff, Reconnector
from viamlite.rpc.status import RpcError

from viamlite_plugins.cloud.member.cache import ConfigCache

log = logging.getLogger("viamlite.cloud")

#: How long the first fetch may take before the machine starts from its cached config.
START_TIMEOUT = 5.0


class ConfigSync:
    """Keeps a machine on its part's config in the fleet."""

    def __init__(self, link: Any, local: MachineConfig, cache: ConfigCache, *, plugin_manager: Any = None,
                 agent: Callable[[], Any] | None = None) -> None:
        if local.cloud is None:
            raise ValueError("ConfigSync needs a config whose cloud block names a fleet")
        self.link = link
        self.local = local
        self.cloud = local.cloud
        self.cache = cache
        self.plugin_manager = plugin_manager
        self._agent = agent
        self.source = f"the fleet's config for part {self.cloud.id}"
        self.machine: Any = None
        self.started_from = ""  # "fleet", "cache" or "local"
        self.last_error: ConfigError | None = None
        self.applied = 0
        self._seen: dict[str, Any] | None = None  # the last config fetched (applied or refused)
        self._restart: Callable[[], None] | None = None
        self._refusal = ""  # the last refusal reported (each is reported once)
        self._keeper: Reconnector | None = None
        self._lock = threading.Lock()

    # -- fetching ----------------------------------------------------------------
    def fetch(self, timeout: float) -> dict[str, Any]:
        """The part's config from the fleet, as viam-server JSON with the local cloud block kept."""
        from viamlite.app.robotconfig import proto_to_config
        from viamlite.gen.app import robot_pb2

        request = robot_pb2.ConfigRequest(id=self.cloud.id)
        if self._agent is not None:
            request.agent_info.CopyFrom(self._agent())
        reply = self.link.call("Config", request, robot_pb2.ConfigResponse, timeout)
        dropped: list[str] = []
        obj = proto_to_config(reply.config, dropped=dropped)
        if dropped:
            log.warning("%s carries settings viamlite cannot read, left out: %s", self.source, ", ".join(dropped))
        return self._with_local_cloud(obj)

    def _with_local_cloud(self, obj: dict[str, Any]) -> dict[str, Any]:
        fleet_cloud = obj.get("cloud") if isinstance(obj.get("cloud"), dict) else {}
        obj["cloud"] = {**fleet_cloud, **dict(self.cloud.raw)}
        return obj

    def check(self, obj: dict[str, Any], source: str = "") -> MachineConfig:
        """Parse ``obj`` and check its models and attributes; raises ConfigError."""
        config = parse_config(obj, source=source or self.source)
        if config.cloud is None or config.cloud.id != self.cloud.id:  # pragma: no cover - the local block is kept
            raise ConfigError("the config lost its cloud block", path="cloud", file=config.source,
                              fix="keep the cloud block of the local file")
        checker = self.machine
        if checker is None:
            from viamlite.machine import Machine

            checker = Machine(plugin_manager=self.plugin_manager)  # no config: builds nothing
            try:
                _validate(checker, config)
            finally:
                checker.close()
        else:
            _validate(checker, config)
        return config

    # -- start -------------------------------------------------------------------
    def initial(self) -> MachineConfig:
        """The config to start from: the fleet's; when the fleet cannot be reached (or its
        config does not check), the cached one; else the local file's."""
        cached = self.cache.load()
        try:
            obj = self.fetch(START_TIMEOUT)
        except ConnectError as exc:
            log.warning("%s", exc)
            return self._fallback(cached, "the fleet cannot be reached")
        except PermissionDeniedError as exc:
            if cached is None:
                raise ConfigError(str(exc), path="cloud", file=self.local.source,
                                  fix="give the part's id and secret (or an API key) that the fleet knows") from None
            log.error("%s", exc)
            return self._fallback(cached, "the fleet refused the part's credentials")
        except RpcError as exc:
            log.error("%s", exc)
            return self._fallback(cached, "the fleet did not give the config")
        self._seen = obj
        try:
            config = self.check(obj)
        except ConfigError as exc:
            self.last_error = exc
            log.error("config from the fleet not applied: %s", exc)
            return self._fallback(cached, "the fleet's config does not check")
        self._save(obj)
        self.started_from = "fleet"
        log.info("starting from %s", self.source)
        return config

    def _fallback(self, cached: dict[str, Any] | None, why: str) -> MachineConfig:
        if cached is not None:
            try:
                config = self.check(self._with_local_cloud(cached), f"the cached config {self.cache.path}")
            except ConfigError as exc:
                log.error("the cached config cannot be used either: %s", exc)
            else:
                if self._seen is None:
                    self._seen = cached
                self.started_from = "cache"
                log.warning("%s: starting from the cached config %s, and asking the fleet again in the background",
                            why, self.cache.path)
                return config
        self.started_from = "local"
        log.warning("%s and there is no usable cached config: starting with no resources, and asking the fleet "
                    "again in the background", why)
        return self.local

    def start(self, machine: Any, restart: Callable[[], None]) -> None:
        """Keep ``machine`` on the fleet's config from now on."""
        self.machine = machine
        self._restart = restart
        interval = self.cloud.refresh_interval
        self._keeper = Reconnector(state=lambda: self.link.state, check=self.refresh, reconnect=self.refresh,
                                   check_interval=interval,
                                   backoff=Backoff(min(0.5, interval), max(interval, 5.0)),
                                   name="viamlite-cloud-config").start()

    def stop(self) -> None:
        if self._keeper is not None:
            self._keeper.stop()

    # -- refreshing ----------------------------------------------------------------
    def refresh(self) -> bool:
        """Fetch the config and apply it if it changed; True when a new config was applied.
        Failures to reach the fleet show in the link's state (the keeper then retries)."""
        try:
            obj = self.fetch(max(1.0, min(self.cloud.refresh_interval, 10.0)))
        except ConnectError as exc:  # the outage is reported by the log sender
            log.debug("config refresh failed: %s", exc)
            return False
        except (PermissionDeniedError, RpcError) as exc:
            if str(exc) != self._refusal:
                self._refusal = str(exc)
                log.error("the fleet did not give the config, keeping the running one: %s", exc)
            return False
        self._refusal = ""
        with self._lock:
            if obj == self._seen or self.machine is None or self.machine.closed:
                return False
            # only what the fleet knows of the part changed (its address, once it has learned it)
            quiet = self._seen is not None and _without_cloud(obj) == _without_cloud(self._seen)
            self._seen = obj
            try:
                config = self.check(obj)
                if (config.auth is None) != (self.machine.config.auth is None):
                    self._save(obj)
                    turned = "on" if config.auth is not None else "off"
                    log.warning("%s turns API keys %s, which changes how the machine listens: restarting onto it",
                                self.source, turned)
                    if self._restart is not None:
                        self._restart()
                    return False
                self.machine.apply(config)
            except RuntimeError:
                if self.machine.closed:  # the machine stopped while the config came: nothing to do
                    return False
                raise
            except ConfigError as exc:
                self.last_error = exc
                log.error("config from the fleet not applied, keeping the running config: %s", exc)
                return False
            self.last_error = None
            self._save(obj)
            self.applied += 1
            (log.debug if quiet else log.info)("config from the fleet applied (revision %d)", self.machine.revision)
            return True

    def _save(self, obj: dict[str, Any]) -> None:
        try:
            self.cache.save(obj)
        except OSError as exc:
            log.warning("cannot cache the fleet's config at %s: %s", self.cache.path, exc.strerror or exc)


def _validate(checker: Any, config: MachineConfig) -> None:
    """Check ``config``'s models and attributes. A model the config's modules may provide is
    known only once they run, so with modules an unknown model is left to the machine's apply
    (which starts the modules first, then checks, and keeps the last good config if it fails)."""
    try:
        checker.validate(config)
    except ConfigError as exc:
        if not (config.modules and exc.path.endswith(".model") and exc.problem.startswith("unknown model")):
            raise


def _without_cloud(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != "cloud"}


__all__ = ["ConfigSync", "START_TIMEOUT"]
