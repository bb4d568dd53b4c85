"""The modules of a machine: launched, shaken hands with, kept running, and their models
offered to the machine's registry.

* **Launch and handshake.** Each module's program starts as Viam's module protocol says
  (:mod:`viamlite.modules.process`); once its socket is up, ``ModuleService/Ready`` tells it
  the parent's socket and its handler map says which models of which APIs it provides. APIs
  the machine does not know (a module's own) are read from the module by reflection.
* **Resources.** The registry asks the manager for models it does not hold
  (:meth:`ModuleManager.lookup`): a module's model validates through ``ValidateConfig`` (whose
  dependencies become the resource's implicit ones) and builds through ``AddResource``;
  the resource's reconfigure is ``ReconfigureResource`` and its close ``RemoveResource``.
* **Crashes.** A module that exits unasked has its resources marked unhealthy, and is started
  again with backoff (at once, then 0.5 s doubling up to 30 s; the count starts over once a run
  lasted 30 s); its resources are added again, and those the machine could not build while it
  was down are built.
* **Logs.** Its standard output and error, and what it sends to the parent's
  ``RobotService.Log``, go into the machine's log under ``viamlite.module.<name>``.

The parent's socket (a server of every resource of the machine, with no authentication, on
a unix socket in a folder only this user may enter) is made by whoever created the manager
(``parent(path)``): the transport side of the machine, which the manager knows nothing of.
"""
from __future__ import annotations

import enum
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viamlite.config import MachineConfig, ModuleConfig, ResourceConfig
from viamlite.errors import ConfigError, UnhealthyResourceError
from viamlite.modules.convert import component_config, dependency_name
from viamlite.modules.link import ModuleLink, wait_for_socket
from viamlite.modules.process import ModuleProcess, module_environment, module_logger
from viamlite.modules.resource import ModuleResource, make_resource
from viamlite.names import API, Model, ResourceName
from viamlite.reconnect import Backoff
from viamlite.registry import Registration
from viamlite.rpc import RpcError

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine
    from viamlite.resource import Resource

log = logging.getLogger("viamlite.modules")

#: How long a module may take from launch to answering Ready (VIAM_MODULE_STARTUP_TIMEOUT overrides).
STARTUP_TIMEOUT_S = 300.0
#: Restart waits after a crash: at once, then 0.5 s doubling up to 30 s.
RESTART_FIRST_S, RESTART_MAX_S = 0.5, 30.0
#: A run that lasted this long since Ready counts as healthy: the next crash restarts at once again.
HEALTHY_RUN_S = 30.0
#: How long a module has to stop after SIGTERM before it is killed.
STOP_GRACE_S = 5.0
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL, "fatal": logging.CRITICAL,
           "panic": logging.CRITICAL}


class ModuleState(str, enum.Enum):
    """A module's state, as GetMachineStatus reports it."""

    PENDING = "pending"
    STARTING = "starting"
    READY = "ready"
    UNHEALTHY = "unhealthy"
    CLOSING = "closing"


@dataclass(frozen=True)
class ModuleStatus:
    name: str
    state: ModuleState
    error: str
    updated: float
    failures: int


@dataclass(frozen=True)
class ModuleModel:
    """A model a module provides (GetModelsFromModules)."""

    module: str
    api: API
    model: Model
    local: bool


def _startup_timeout() -> float:
    text = os.environ.get("VIAM_MODULE_STARTUP_TIMEOUT", "")
    if text:
        from viamlite.config import parse_duration

        try:
            return parse_duration(text, "VIAM_MODULE_STARTUP_TIMEOUT")
        except ConfigError as exc:
            log.warning("%s; using %g s", exc, STARTUP_TIMEOUT_S)
    return STARTUP_TIMEOUT_S


def _clean(message: str) -> str:
    """A viam-sdk module's validation error without the SDK's type prefix."""
    for prefix in ("<class 'type'>: ", "<class 'Exception'>: "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


class Module:
    """One configured module: its runs (processes), its link, its models and its resources."""

    def __init__(self, manager: ModuleManager, config: ModuleConfig) -> None:
        self.manager = manager
        self.config = config
        self.name = config.name
        self.link = ModuleLink(config.name)
        self.process: ModuleProcess | None = None
        self.models: dict[tuple[API, Model], str] = {}  # -> proto service
        self.state = ModuleState.PENDING
        self.error = ""
        self.updated = time.time()
        self.failures = 0
        self.ready_at = 0.0
        self.launch_to_ready_s = 0.0
        self.last_failure = ""  # why the last run failed or ended, kept while it restarts
        #: the resources it built, in the order they were added (re-added in that order)
        self.resources: dict[str, ModuleResource] = {}
        self.lock = threading.RLock()
        self.log = module_logger(config.name)
        self._stopping = threading.Event()
        self._closed = False
        self._monitor: threading.Thread | None = None
        self._generation = 0

    # -- state ---------------------------------------------------------------------------
    def _set(self, state: ModuleState, error: str = "") -> None:
        self.state, self.error, self.updated = state, error, time.time()

    @property
    def ready(self) -> bool:
        return self.state is ModuleState.READY

    def status(self) -> ModuleStatus:
        return ModuleStatus(self.name, self.state, self.error, self.updated, self.failures)

    # -- runs ----------------------------------------------------------------------------
    def start(self) -> bool:
        """Launch the module and shake hands (blocking); True when it is ready. A module that
        fails is restarted with backoff in the background."""
        with self.lock:
            try:
                ok = self._launch()
            except Exception as exc:  # a surprise must leave the module unhealthy, not pending forever
                log.exception("module %r: starting it failed", self.name)
                ok = self._failed(f"module {self.name!r} could not be started: {type(exc).__name__}: {exc}")
            self._watch()
            return ok

    def _launch(self) -> bool:
        """One launch and handshake; on failure the module is UNHEALTHY with the reason."""
        self._set(ModuleState.STARTING)
        self.link.mark_down("it is starting")
        self._generation += 1
        t0 = time.monotonic()
        try:
            executable = self.manager.executable(self.config)
            env = module_environment(self.config, "", self.manager.machine.config.raw, self.manager.api_key(),
                                     base=self.manager.base_env)
            process = ModuleProcess(self.config, executable, self.manager.folder, env, debug=self.manager.debug)
            self.process = process
            process.start()
        except (OSError, RuntimeError) as exc:
            return self._failed(f"module {self.name!r} could not be started: {exc}")
        deadline = t0 + _startup_timeout()
        alive = lambda: process.poll() is None and not self._stopping.is_set()
        if process.socket is not None and not wait_for_socket(str(process.socket), deadline, alive):
            exited = process.poll() is not None
            process.stop(STOP_GRACE_S)  # also reads what it wrote last
            why = process.exit_description() if exited else f"module {self.name!r} did not open its socket in time"
            return self._failed(f"{why}; see the log above ({self.log.name})")
        self.link.attach(process.target)
        try:
            response = self._handshake(deadline, process)
        except RpcError as exc:
            exited = process.poll() is not None
            process.stop(STOP_GRACE_S)
            why = process.exit_description() if exited else exc.message
            return self._failed(f"module {self.name!r} did not answer Ready: {why}")
        self.models = {}
        for handler in response.handlermap.handlers:
            sub = handler.subtype.subtype
            api = API(sub.namespace, sub.type, sub.subtype)
            for text in handler.models:
                try:
                    self.models[(api, Model.parse(text))] = handler.subtype.proto_service
                except ValueError:
                    self.log.warning("module %r offers a model that is not a triplet: %r (left out)", self.name, text)
        self.link.services = {service: api for (api, _), service in self.models.items()}
        self.manager.import_apis(self)
        self.launch_to_ready_s = time.monotonic() - t0
        self.ready_at = time.monotonic()
        self.link.mark_up()
        self._set(ModuleState.READY)
        models = ", ".join(f"{api} {model}" for api, model in self.models) or "no models"
        log.info("module %r ready in %.2f s (pid %s): %s", self.name, self.launch_to_ready_s, process.pid, models)
        return True

    def _handshake(self, deadline: float, process: ModuleProcess) -> Any:
        from viamlite.gen import module_pb2

        parent = str(self.manager.parent_path)
        request = module_pb2.ReadyRequest(parent_address=parent, raw_parent_address=parent)
        while True:
            remaining = deadline - time.monotonic()
            try:
                response = self.link.call("Ready", request, module_pb2.ReadyResponse, timeout=max(0.1, min(remaining, 2.0)),
                                          checked=False, wait_for_ready=True)
            except RpcError:
                if process.poll() is not None or time.monotonic() >= deadline or self._stopping.is_set():
                    raise
                time.sleep(0.05)
                continue
            if response.ready:
                return response
            if process.poll() is not None or time.monotonic() >= deadline:
                raise RpcError(14, "it answered Ready but said it is not ready")
            time.sleep(0.1)  # not ready yet (waiting for its hardware): ask again

    def _failed(self, why: str) -> bool:
        self.failures += 1
        self.last_failure = why
        self._set(ModuleState.UNHEALTHY, why)
        self.link.mark_down(why)
        log.error("%s", why)
        return False

    def _watch(self) -> None:
        if self._monitor is None or not self._monitor.is_alive():
            self._monitor = threading.Thread(target=self._run, name=f"viamlite-module-{self.name}", daemon=True)
            self._monitor.start()

    def _run(self) -> None:
        """The keeper: wait for the run to end; unless asked to stop, restart with backoff."""
        backoff = Backoff(RESTART_FIRST_S, RESTART_MAX_S, 2.0, at_once=True)
        if not self.ready:
            backoff.next()  # the launch that just failed was the attempt made at once
        while not self._stopping.is_set():
            process = self.process
            if self.ready and process is not None:
                process.wait()
                if self._stopping.is_set():
                    return
                with self.lock:
                    if self.process is not process or self._stopping.is_set():
                        continue  # restarted on request meanwhile
                    process.stop(0)  # reap it, drop the socket
                    ran = time.monotonic() - self.ready_at
                    if ran >= HEALTHY_RUN_S:
                        backoff.reset()
                    why = process.exit_description()
                    self.last_failure = why
                    self.failures += 1
                    self._set(ModuleState.UNHEALTHY, f"{why}; restarting")
                    self.link.mark_down(f"{why}; it is being restarted")
                    log.error("%s after %.1f s; restarting it", why, ran)
                    self._mark_resources(f"{why}; restarting it")
            delay = backoff.next()
            if delay and self._stopping.wait(delay):
                return
            with self.lock:
                if self._stopping.is_set():
                    return
                try:
                    if not self.ready and self._launch():
                        self._readd()
                except Exception as exc:  # the keeper must outlive a surprise
                    log.exception("module %r: restarting it failed", self.name)
                    self._failed(f"module {self.name!r} could not be restarted: {type(exc).__name__}: {exc}")
            if self.ready:
                self.manager.resources_may_build()

    def _mark_resources(self, why: str) -> None:
        from viamlite.machine import State

        for name in list(self.resources):
            self.manager.machine.set_state(name, State.UNHEALTHY, why)

    def _readd(self) -> None:
        """Add every resource again (after a restart), in the order they were first added."""
        from viamlite.machine import State

        for name, resource in list(self.resources.items()):
            try:
                self._add(resource.config, resource.dependencies)
            except RpcError as exc:
                why = f"module {self.name!r} could not add it again after a restart: {exc.message}"
                log.error("%s: %s", resource.config.resource_name, why)
                self.manager.machine.set_state(name, State.UNHEALTHY, why)
                continue
            self.manager.machine.set_state(name, State.READY)
            log.info("module %r: %s is back", self.name, resource.config.resource_name)

    def restart(self) -> None:
        """Stop the running process and start a new one, adding the resources again
        (RestartModule, or a changed config entry)."""
        with self.lock:
            process = self.process
            self._set(ModuleState.STARTING)  # the keeper sees a run that was not a crash
            self.link.mark_down("it is restarting")
            if process is not None:
                self.process = None
                process.stop(STOP_GRACE_S)
            self._mark_resources(f"module {self.name!r} is restarting")
            if self._launch():
                self._readd()
            self._watch()
        self.manager.resources_may_build()

    def stop(self) -> None:
        """Stop the module for good (its resources should be removed first). Idempotent."""
        self._stopping.set()
        launching = self.process
        if launching is not None and not self.ready:
            launching.stop(STOP_GRACE_S)  # a launch under way ends now rather than at its timeout
        with self.lock:
            if self._closed:
                return
            self._closed = True
            self._set(ModuleState.CLOSING)
            self.link.mark_down("it was stopped")
            process, self.process = self.process, None
            if process is not None:
                code = process.stop(STOP_GRACE_S)
                log.info("module %r stopped (exit code %s)", self.name, code)
            self.link.close()

    # -- the module protocol ---------------------------------------------------------------
    def _unavailable(self) -> UnhealthyResourceError:
        return UnhealthyResourceError(f"module {self.name!r} is not available: "
                                      f"{self.error or self.last_failure or self.link.down or self.state.value}")

    def validate(self, config: ResourceConfig) -> list[str]:
        """ValidateConfig: the resource's implicit dependencies (none while the module is down)."""
        from viamlite.gen import module_pb2

        if not self.ready:
            log.info("%s: module %r is not running, so its config is not checked now", config.resource_name, self.name)
            return []
        try:
            response = self.link.call("ValidateConfig", module_pb2.ValidateConfigRequest(config=component_config(config)),
                                      module_pb2.ValidateConfigResponse)
        except RpcError as exc:
            raise ConfigError(f"module {self.name!r} refused the config of {config.name!r}: {_clean(exc.message)}",
                              path=f"{config.path}.attributes",
                              fix=f"correct the attributes as module {self.name!r} expects them") from None
        return [dependency_name(d) for d in response.dependencies]

    def _add(self, config: ResourceConfig, dependencies: Mapping[ResourceName, Any]) -> None:
        from viamlite.gen import module_pb2

        request = module_pb2.AddResourceRequest(config=component_config(config),
                                                dependencies=[str(name) for name in dependencies])
        self.link.call("AddResource", request, module_pb2.AddResourceResponse)

    def add_resource(self, config: ResourceConfig, dependencies: Mapping[ResourceName, Resource]) -> Any:
        """AddResource: the machine's handle on the new resource."""
        with self.lock:
            if not self.ready:
                raise self._unavailable()
            self.resources.pop(config.name, None)
            self._add(config, dependencies)
            resource = make_resource(self, config, dependencies)
            self.resources[config.name] = resource
            return resource

    def reconfigure_resource(self, resource: ModuleResource, config: ResourceConfig,
                             dependencies: Mapping[ResourceName, Resource]) -> None:
        from viamlite.gen import module_pb2

        with self.lock:
            if not self.ready:
                raise self._unavailable()
            request = module_pb2.ReconfigureResourceRequest(config=component_config(config),
                                                            dependencies=[str(name) for name in dependencies])
            self.link.call("ReconfigureResource", request, module_pb2.ReconfigureResourceResponse)

    def remove_resource(self, resource: ModuleResource) -> None:
        from viamlite.gen import module_pb2

        if not self.ready:  # gone with the process (not waiting for a launch under way)
            if self.resources.get(resource.config.name) is resource:
                del self.resources[resource.config.name]
            return
        with self.lock:
            if self.resources.get(resource.config.name) is resource:
                del self.resources[resource.config.name]
            if not self.ready:
                return
            try:
                self.link.call("RemoveResource", module_pb2.RemoveResourceRequest(name=str(resource.config.resource_name)),
                               module_pb2.RemoveResourceResponse, timeout=10.0)
            except RpcError as exc:
                log.warning("module %r could not remove %s: %s", self.name, resource.config.resource_name, exc.message)


class ModuleManager:
    """Every module of one machine (see the module docstring).

    ``parent(path)`` makes the parent's server on unix socket ``path`` (an object with
    ``start()`` and ``stop()``). Which program a module runs is asked of the plugins first
    (``viamlite_module_executable``: a registry module's unpacked package).
    """

    def __init__(self, machine: Machine, parent: Callable[[str], Any], *, debug: bool | None = None,
                 base_env: Mapping[str, str] | None = None) -> None:
        self.machine = machine
        self.folder = Path(tempfile.mkdtemp(prefix="viamlite-modules-"))
        os.chmod(self.folder, 0o700)  # the parent's socket has no authentication: only this user may reach it
        self.parent_path = self.folder / "parent.sock"
        self._make_parent = parent
        self._parent: Any = None
        self.debug = logging.getLogger().isEnabledFor(logging.DEBUG) if debug is None else debug
        self.base_env = base_env
        self.modules: dict[str, Module] = {}
        self._wanted: set[str] = set()
        self._lock = threading.RLock()
        self._closed = False
        self.api_services: set[str] = set()  # modules' own APIs, read by reflection
        machine.registry.add_source(self)

    # -- configuration ---------------------------------------------------------------------
    def apply(self, config: MachineConfig) -> None:
        """Before ``config`` is validated: start new modules, restart changed ones (blocking
        until each is ready or failed). Modules it no longer names stop in :meth:`applied`."""
        with self._lock:
            if self._closed:
                return
            self._wanted = {m.name for m in config.modules}
            if config.modules and self._parent is None:
                self._parent = self._make_parent(str(self.parent_path))
                self._parent.start()
                log.info("modules' parent socket: %s (no authentication; only this user may reach it)",
                         self.parent_path)
            starting = []
            for cfg in config.modules:
                module = self.modules.get(cfg.name)
                if module is None:
                    module = self.modules[cfg.name] = Module(self, cfg)
                    starting.append(module)
                elif module.config != cfg:
                    log.info("module %r changed in the config: restarting it", cfg.name)
                    module.config = cfg
                    module.restart()
        # independent modules start side by side
        threads = [threading.Thread(target=m.start, name=f"viamlite-module-start-{m.name}") for m in starting]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def applied(self, config: MachineConfig) -> None:
        """After ``config`` runs: stop the modules it does not name."""
        with self._lock:
            wanted = {m.name for m in config.modules}
            self._wanted = wanted
            gone = [m for name, m in self.modules.items() if name not in wanted]
            for module in gone:
                del self.modules[module.name]
        for module in gone:
            log.info("module %r was removed from the config: stopping it", module.name)
            module.stop()

    def executable(self, config: ModuleConfig) -> str:
        """The program to run for ``config``: what a plugin says (``viamlite_module_executable``:
        a registry module's unpacked entrypoint), else a local module's ``executable_path``."""
        path = self.machine.plugins.hook.viamlite_module_executable(config=config, machine=self.machine)
        if path:
            return str(path)
        if config.type == "local" or config.executable_path:
            return config.executable_path
        raise RuntimeError(f"registry module {config.module_id} {config.version or 'latest'} is not on this machine "
                           f"and no fleet can provide it")

    def api_key(self) -> tuple[str, str] | None:
        auth = self.machine.config.auth
        if auth is None or not getattr(auth, "keys", None):
            return None
        key_id = next(iter(auth.keys))
        return key_id, auth.keys[key_id]

    def resources_may_build(self) -> None:
        """A module came up: build the machine's resources that could not be built (in the background)."""
        if not self._closed:
            threading.Thread(target=self.machine.retry_unavailable, name="viamlite-modules-retry", daemon=True).start()

    def import_apis(self, module: Module) -> None:
        """Read the module's own APIs (those the machine's descriptors lack) by reflection."""
        from viamlite.gen import POOL

        unknown = []
        for service in set(module.link.services):
            try:
                POOL.FindServiceByName(service)
            except KeyError:
                unknown.append(service)
        self.api_services.update(module.link.import_descriptors(sorted(unknown), POOL))

    # -- the registry's source of models ---------------------------------------------------------
    def _candidates(self) -> list[Module]:
        return [m for name, m in self.modules.items() if name in self._wanted]

    def lookup(self, api: API, model: Model) -> Registration | None:
        down = []
        for module in self._candidates():
            if (api, model) in module.models:
                return Registration(api, model, self._factory(module), validate=module.validate,
                                    source=f"module {module.name}")
            if not module.ready:
                down.append(module)
        if down:  # perhaps a model of a module that is not up: the resource waits for it
            names = ", ".join(repr(m.name) for m in down)
            why = "; ".join(m.error or m.last_failure or m.state.value for m in down)

            def waiting(config: ResourceConfig, dependencies: Mapping[ResourceName, Any]) -> Any:
                raise UnhealthyResourceError(f"model {model} is not provided by a running module; module(s) {names} "
                                             f"not running: {why}")

            return Registration(api, model, waiting, validate=lambda config: [], source=f"modules {names}")
        return None

    def models_for(self, api: API) -> list[Model]:
        return sorted({model for m in self._candidates() for (a, model) in m.models if a == api})

    @staticmethod
    def _factory(module: Module) -> Callable[[ResourceConfig, Mapping[ResourceName, Any]], Any]:
        def build(config: ResourceConfig, dependencies: Mapping[ResourceName, Any]) -> Any:
            try:
                return module.add_resource(config, dependencies)
            except RpcError as exc:
                raise UnhealthyResourceError(f"module {module.name!r} could not add it: {_clean(exc.message)}") from None

        return build

    # -- what the machine reports ----------------------------------------------------------------
    def statuses(self) -> list[ModuleStatus]:
        return [m.status() for m in self.modules.values()]

    def models(self) -> list[ModuleModel]:
        return [ModuleModel(m.name, api, model, m.config.type == "local")
                for m in self.modules.values() for (api, model) in m.models]

    def services(self) -> dict[API, str]:
        """API -> proto service of every API the running modules provide."""
        return {api: service for m in self.modules.values() for (api, _), service in m.models.items()}

    def restart(self, name: str) -> None:
        """RestartModule: raises LookupError for a name no module has."""
        module = self.modules.get(name)
        if module is None:
            raise LookupError(f"no module is named {name!r}; this machine's modules: "
                              f"{', '.join(sorted(self.modules)) or 'none'}")
        log.info("restarting module %r on request", name)
        module.restart()

    def module_of(self, logger_name: str) -> str:
        """Which module a log entry's logger names (a module, or a resource of one)."""
        if logger_name in self.modules:
            return logger_name
        name = logger_name.rsplit("/", 1)[-1] if "/" in logger_name else ""
        for module in self.modules.values():
            if name and name in module.resources:
                return module.name
        running = [m.name for m in self.modules.values() if m.ready]
        return running[0] if len(running) == 1 else "unknown"

    def log_entries(self, entries: Sequence[Any]) -> None:
        """RobotService.Log on the parent's socket: each entry into the machine's log under its module."""
        for entry in entries:
            level = _LEVELS.get(entry.level.lower(), logging.INFO)
            module = self.module_of(entry.logger_name)
            module_logger(module).log(level, "%s: %s", entry.logger_name or module, entry.message.replace("\t", " "))

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every module and the parent's socket; remove the sockets' folder."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            modules, self.modules = list(self.modules.values()), {}
        for module in modules:
            module.stop()
        if self._parent is not None:
            self._parent.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


__all__ = ["Module", "ModuleManager", "ModuleModel", "ModuleState", "ModuleStatus"]
