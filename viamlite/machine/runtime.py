"""A machine: resources built from a config, kept in dependency order, reconfigured live.

The machine owns the resource graph and its lifecycle; it knows nothing of transports.
Servers, the REPL and embedding applications all hold a :class:`Machine`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viamlite.config import MachineConfig, ResourceConfig, load_config, parse_config
from viamlite.errors import ConfigError, ResourceNotFoundError, UnhealthyResourceError
from viamlite.machine.frames import build_frame_system
from viamlite.machine.api import MachineAPI
from viamlite.names import API, Model, ResourceName
from viamlite.machine.operations import OperationManager
from viamlite.resource import Actuator, MustRebuild, Resource
from viamlite.machine.sessions import MotionLedger, Session, SessionManager
from viamlite.machine.types import ResourceNames

if TYPE_CHECKING:  # pragma: no cover
    import pluggy

    from viamlite.registry import ModelRegistry
    from viamlite.spatial import FrameSystem

log = logging.getLogger("viamlite.machine")
BUILTIN_SERVICE = Model("rdk", "builtin", "builtin")


class State:
    """Resource states as GetMachineStatus reports them."""

    READY = "ready"
    REMOVING = "removing"
    UNHEALTHY = "unhealthy"


@dataclass
class Entry:
    """One configured resource and what became of it."""

    config: ResourceConfig
    resource: Resource | None
    state: str
    error: str = ""
    revision: int = 0
    updated: float = 0.0

    @property
    def name(self) -> ResourceName:
        return self.config.resource_name


def dependency_order(configs: Iterable[ResourceConfig], implicit: Mapping[str, Iterable[str]]) -> list[ResourceConfig]:
    """Order configs so every resource comes after what it depends on; cycles are errors."""
    by_name = {c.name: c for c in configs}
    order: list[ResourceConfig] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " -> ".join(chain[chain.index(name):] + [name])
            raise ConfigError(f"dependency cycle: {cycle}", path=f"{by_name[name].path}.depends_on",
                              fix="remove one of these dependencies")
        state[name] = 1
        cfg = by_name[name]
        for dep in (*cfg.depends_on, *implicit.get(name, ())):
            if dep not in by_name:
                raise ConfigError(f"needs {dep!r}, which is not in the config", path=f"{cfg.path}.attributes",
                                  fix=f"add a resource named {dep!r}")
            visit(dep, chain + [name])
        state[name] = 2
        order.append(cfg)

    for name in by_name:
        visit(name, [])
    return order


class Machine(MachineAPI):
    """Resources from a config, with live reconfiguration, status, operations and frames.

    Use :meth:`from_config` (a path or a dict); a machine is a context manager that closes
    every resource on exit.
    """

    def __init__(self, config: MachineConfig | None = None, *, plugin_manager: "pluggy.PluginManager | None" = None) -> None:
        if plugin_manager is None:
            from viamlite.plugins import build_plugin_manager

            plugin_manager = build_plugin_manager()
        self.plugins = plugin_manager
        from viamlite.registry import ModelRegistry

        self.registry: ModelRegistry = ModelRegistry()
        self.plugins.hook.viamlite_register_models(registry=self.registry)
        self.operations = OperationManager()
        #: who last moved each resource: a safety stop for one caller stops only what it still drives
        self.movers = MotionLedger()
        self.sessions = SessionManager(lambda: self.config.network.heartbeat_window, self._session_expired,
                                       movers=self.movers)
        self.config = MachineConfig()
        self.revision = 0
        self.started = time.time()
        self.applied_at = self.started  # when the running config was applied
        self._entries: dict[str, Entry] = {}
        self._by_api: dict[tuple[API, str], Entry] = {}
        #: the entries an apply has built so far: visible to lookups while it goes on, so a
        #: module adding a resource reaches the resources built before it
        self._building: dict[str, Entry] = {}
        self._apply_lock = threading.RLock()
        self._on_close: list[Callable[[], None]] = []
        self._closed = False
        self._frames: FrameSystem | None = None
        self._frames_generation = 0
        from viamlite.remotes import RemoteManager

        self.remotes = RemoteManager(self.plugins, lambda: self.resource_names, on_change=self._remotes_changed)
        #: the machine's modules (a :class:`viamlite.modules.ModuleManager`), set by the module
        #: support when a config first names modules; None until then
        self.modules: Any = None
        if config is not None:
            self.apply(config)
            self.plugins.hook.viamlite_machine_started(machine=self)

    @classmethod
    def from_config(cls, config: str | Path | Mapping[str, Any] | MachineConfig, **kwargs: Any) -> "Machine":
        """Build a machine from a config file path, a config dict, or a parsed config."""
        if isinstance(config, MachineConfig):
            parsed = config
        elif isinstance(config, Mapping):
            parsed = parse_config(dict(config))
        else:
            parsed = load_config(config)
        return cls(parsed, **kwargs)

    # -- lookup ----------------------------------------------------------------
    def resource(self, api: API, name: str) -> Resource:
        """The resource ``name`` of ``api``; raises ResourceNotFoundError or UnhealthyResourceError."""
        entry = self._building.get(name)
        if entry is None or entry.config.api != api:
            entry = self._by_api.get((api, name))
        if entry is None:
            available = sorted(e.config.name for (a, _), e in self._by_api.items() if a == api)
            raise ResourceNotFoundError(api, name, available)
        if entry.resource is None:
            raise UnhealthyResourceError(f"{api.subtype} {name!r} is not available: {entry.error}")
        return entry.resource

    def resource_by_name(self, name: str) -> Resource:
        """The resource called ``name``, whatever its API."""
        entry = self._entries.get(name)
        if entry is None:
            raise ResourceNotFoundError("any API", name, sorted(self._entries))
        return self.resource(entry.config.api, name)

    @property
    def resource_names(self) -> list[ResourceName]:
        """The machine's resources (a property, as on the client and the viam-sdk's RobotClient)."""
        building = self._building
        if building:  # an apply is under way: what it built so far too
            return ResourceNames(e.name for e in {**self._entries, **building}.values())
        return ResourceNames(e.name for e in self._entries.values())

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def entry(self, name: str) -> Entry | None:
        """The entry of the resource called ``name``, or None."""
        return self._building.get(name) or self._entries.get(name)

    def set_state(self, name: str, state: str, error: str = "") -> None:
        """Record the state of resource ``name`` as what hosts it reports it (a module that
        died, or came back): GetMachineStatus shows it."""
        entry = self._entries.get(name)
        if entry is not None and entry.resource is not None:
            entry.state, entry.error, entry.updated = state, error, time.time()

    def __getitem__(self, name: str) -> Resource:
        return self.resource_by_name(name)

    # -- configuration ---------------------------------------------------------
    def validate(self, config: MachineConfig) -> tuple[list[ResourceConfig], dict[str, list[str]]]:
        """Check every model is known and its attributes valid; return the build order."""
        implicit: dict[str, list[str]] = {}
        for cfg in config.resources:
            reg = self.registry.lookup(cfg.api, cfg.model)
            if reg is None and cfg.model == BUILTIN_SERVICE and cfg.api.type == "service":
                continue  # viam-server's built-in services: reported unavailable, not a config error
            if reg is None:
                models = ", ".join(m.short for m in self.registry.models_for(cfg.api)) or "none are installed"
                raise ConfigError(f"unknown model {str(cfg.model)!r} for API {cfg.api}", path=f"{cfg.path}.model",
                                  fix=f"use one of the models available for {cfg.api}: {models}")
            if reg.validate is not None:
                try:
                    implicit[cfg.name] = list(reg.validate(cfg) or [])
                except ConfigError:
                    raise
                except Exception as exc:  # a validator's own bug must still read as a config problem
                    raise ConfigError(f"model {cfg.model.short} could not check the attributes: "
                                      f"{type(exc).__name__}: {exc}", path=f"{cfg.path}.attributes",
                                      fix=f"check the attributes against the documentation of {reg.source or cfg.model}") from exc
        return dependency_order(config.resources, implicit), implicit

    def apply(self, config: MachineConfig) -> None:
        """Bring the machine to ``config``: add, remove, reconfigure or rebuild resources.

        A config that fails validation raises ConfigError and changes nothing. A resource
        that fails to build is kept as unhealthy with its error; the others still run.
        """
        with self._apply_lock:
            if self._closed:
                raise RuntimeError("the machine is closed")
            try:
                self.plugins.hook.viamlite_config_applying(machine=self, config=config)
                order, implicit = self.validate(config)
                links = self.remotes.prepare(config.remotes)
            except ConfigError as exc:
                raise (exc.in_file(config.source) if config.source and not exc.file else exc) from None
            old = self._entries
            wanted = {c.name: c for c in order}
            for name, entry in reversed(list(old.items())):
                new = wanted.get(name)
                if new is None or (new.api, new.model) != (entry.config.api, entry.config.model):
                    self._close_entry(entry, "removed")
            entries: dict[str, Entry] = {}
            rebuilt: set[str] = set()
            self._building = entries
            try:
                for cfg in order:
                    prev = old.get(cfg.name)
                    if prev is not None and (prev.resource is None or prev.resource.closed):
                        prev = None  # closed, or it could not be built: try again
                    needs = (*cfg.depends_on, *implicit.get(cfg.name, ()))
                    deps, missing = self._dependencies(needs, entries)
                    dep_changed = any(d in rebuilt for d in needs)
                    if missing:
                        if prev is not None:
                            self._close_entry(prev, "dependency unavailable")
                        entries[cfg.name] = Entry(cfg, None, State.UNHEALTHY,
                                                  f"dependency {missing!r} is not available", self.revision + 1, time.time())
                        rebuilt.add(cfg.name)
                        continue
                    if prev is not None and prev.config.same_build(cfg) and not dep_changed:
                        prev.config = cfg
                        entries[cfg.name] = prev
                        continue
                    entries[cfg.name] = self._build_or_reconfigure(cfg, prev, deps)
                    if entries[cfg.name].resource is not (prev.resource if prev else None):
                        rebuilt.add(cfg.name)
            except BaseException:
                self._building = {}
                raise
            self._entries = entries
            self._by_api = {(e.config.api, name): e for name, e in entries.items()}
            self._building = {}
            self.config = config
            self.revision += 1
            self.applied_at = time.time()
            self._remotes_changed()
            self.remotes.commit(config.remotes, links)
            log.info("config applied (revision %d): %d resources", self.revision, len(entries))
            self.plugins.hook.viamlite_config_applied(machine=self, config=config)

    def retry_unavailable(self) -> None:
        """Apply the running config again, building the resources that could not be built
        (a module they need has come up since)."""
        with self._apply_lock:
            if self._closed or not any(e.resource is None for e in self._entries.values()):
                return
            self.apply(self.config)

    @staticmethod
    def _dependencies(needs: Iterable[str], built: Mapping[str, Entry]) -> tuple[dict[ResourceName, Resource], str]:
        deps: dict[ResourceName, Resource] = {}
        for dep in needs:
            entry = built.get(dep)
            if entry is None or entry.resource is None:
                return {}, dep
            deps[entry.name] = entry.resource
        return deps, ""

    def _build_or_reconfigure(self, cfg: ResourceConfig, prev: Entry | None, deps: dict[ResourceName, Resource]) -> Entry:
        from viamlite.spatial.geometry import Geometry

        revision = self.revision + 1
        geometries = _geometries(cfg, Geometry)
        if prev is not None and prev.resource is not None:
            try:
                prev.resource.reconfigure(cfg, deps)
                prev.resource.geometries = geometries
                log.info("reconfigured %s", cfg.resource_name)
                return Entry(cfg, prev.resource, State.READY, "", revision, time.time())
            except MustRebuild:
                pass
            except Exception as exc:  # the driver refused the change: rebuild from scratch
                log.warning("%s could not reconfigure in place (%s); rebuilding it", cfg.resource_name, exc)
            self._close_entry(prev, "rebuilding")
        reg = self.registry.lookup(cfg.api, cfg.model)
        if reg is None:  # a built-in service of viam-server's that viamlite does not have
            message = f"viamlite has no built-in {cfg.api.subtype} service; this service is not available"
            log.warning("%s: %s", cfg.resource_name, message)
            return Entry(cfg, None, State.UNHEALTHY, message, revision, time.time())
        try:
            resource = reg.factory(cfg, deps)
            resource.geometries = geometries
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, (ConfigError,)) else str(exc)
            log.error("could not build %s (model %s): %s", cfg.resource_name, cfg.model, message)
            return Entry(cfg, None, State.UNHEALTHY, message, revision, time.time())
        log.info("built %s (model %s)", cfg.resource_name, cfg.model.short)
        return Entry(cfg, resource, State.READY, "", revision, time.time())

    def _close_entry(self, entry: Entry, why: str) -> None:
        res = entry.resource
        if res is None or res.closed:
            return
        entry.state = State.REMOVING
        try:
            if isinstance(res, Actuator):
                res.stop()
        except Exception as exc:
            log.warning("stopping %s (%s) failed: %s", entry.name, why, exc)
        try:
            res.close()
            log.info("closed %s (%s)", entry.name, why)
        except Exception as exc:
            log.warning("closing %s (%s) failed: %s", entry.name, why, exc)

    # -- whole-machine actions -------------------------------------------------
    def stop_all(self) -> list[str]:
        """Stop every actuator; return the errors, one line each (empty when all stopped)."""
        errors = []
        for entry in list(self._entries.values()):
            res = entry.resource
            if isinstance(res, Actuator) and not res.closed:
                try:
                    res.stop()
                    log.info("stopped %s", entry.name)
                except Exception as exc:
                    errors.append(f"{entry.config.name}: {exc}")
        self.operations.cancel_all()
        return errors

    def _session_expired(self, session: Session) -> None:
        """A session missed its heartbeat: end its operations, and stop what it was the last
        to move (local actuators first, then remote parts' resources, all remotes at once).
        What another caller has moved since is left running: that caller drives it now."""
        for op in self.operations.list():
            if op.session_id == session.id:
                op.cancel()
        moved = list(session.moved)
        mine = self.movers.release(session.id, moved)
        owned = set(mine)
        # taken over: another caller moved it since (a key nobody holds any more was
        # already stopped for the caller that moved it last)
        taken = [key[1] for key in moved if key not in owned and self.movers.last(key) is not None]
        stopped, errors, remote = [], [], []
        for api, name in mine:
            entry = self._by_api.get((api, name))
            if entry is None:
                remote.append((api, name))
                continue
            res = entry.resource
            if isinstance(res, Actuator) and not res.closed:
                try:
                    res.stop()
                    stopped.append(name)
                except Exception as exc:
                    errors.append(f"{name}: {exc}")
        if remote:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(len(remote), 8), thread_name_prefix="viamlite-remote-stop") as pool:
                results = list(pool.map(lambda key: self._stop_remote(*key), remote))
            for (api, name), error in zip(remote, results):
                if error is None:
                    stopped.append(name)
                elif error:
                    errors.append(f"{name}: {error}")
        what = ", ".join(stopped) or ("nothing (it moved nothing)" if not moved else "nothing")
        log.warning("session %s had no heartbeat for %.3g s: stopped %s%s%s", session.id, session.window, what,
                    f"; left {', '.join(taken)} running: another caller drives {'it' if len(taken) == 1 else 'them'} now"
                    if taken else "",
                    f"; failed to stop {'; '.join(errors)}" if errors else "")

    def _stop_remote(self, api: API, name: str) -> str | None:
        """Stop a remote part's resource: None when stopped, "" when there is nothing to stop
        (no such remote resource, or its API has no Stop), else the error."""
        from viamlite.rpc import Code, RpcError

        try:
            return None if self.remotes.stop(api, name) else ""
        except RpcError as exc:
            return "" if exc.code == Code.UNIMPLEMENTED else exc.message
        except Exception as exc:
            return str(exc) or type(exc).__name__

    def frame_system(self) -> "FrameSystem":
        """The frame system from the running config's frame blocks and the remotes' parts."""
        frames = self._frames
        if frames is None:
            generation = self._frames_generation
            frames = build_frame_system(self.config, self.remotes.frames())
            if generation == self._frames_generation:
                self._frames = frames
        return frames

    def _remotes_changed(self) -> None:
        self._frames_generation += 1
        self._frames = None

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the machine closes (after its resources are stopped)."""
        self._on_close.append(callback)

    def close(self) -> None:
        """Stop every actuator, then close every resource in reverse dependency order."""
        with self._apply_lock:
            if self._closed:
                return
            self._closed = True
            self.sessions.close()
            self.operations.cancel_all()
            self.remotes.close()
            for entry in reversed(list(self._entries.values())):
                self._close_entry(entry, "machine closing")
            for callback in self._on_close:
                try:
                    callback()
                except Exception as exc:
                    log.warning("close callback failed: %s", exc)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Machine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        """A short listing of the machine's resources, one per line."""
        entries = list(self._entries.values())
        if not entries:
            return "  (no resources)"
        width_name = max(len(e.config.name) for e in entries)
        width_api = max(len(str(e.config.api)) for e in entries)
        width_model = max(len(e.config.model.short) for e in entries)
        lines = []
        for e in entries:
            state = e.state if not e.error else f"{e.state}: {e.error}"
            lines.append(f"  {e.config.name:<{width_name}}  {str(e.config.api):<{width_api}}  "
                         f"{e.config.model.short:<{width_model}}  {state}")
        return "\n".join(lines)


def _geometries(cfg: ResourceConfig, geometry_cls: Any) -> list[Any]:
    if cfg.frame is None or cfg.frame.geometry is None:
        return []
    return [geometry_cls.from_config(cfg.frame.geometry, label=cfg.name)]


def config_fingerprint(path: str | Path) -> str:
    """The file's content, for change detection (missing file: empty string)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


__all__ = ["Machine", "Entry", "State", "dependency_order", "config_fingerprint"]
