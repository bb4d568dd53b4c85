"""``viamlite serve``: build the machine, serve it, apply config edits, stop cleanly."""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from importlib import resources
from typing import Any

from viamlite.config import MachineConfig, load_config, parse_config
from viamlite.errors import BindError, ConfigError

log = logging.getLogger("viamlite.cli.serve")


def demo_config() -> MachineConfig:
    """The embedded demo machine: one fake of each component API."""
    text = resources.files("viamlite").joinpath("demo.json").read_text(encoding="utf-8")
    return parse_config(json.loads(text), source="(embedded demo machine)")


def _setup_logging(debug: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")


def _tls_for(config: MachineConfig, no_tls: bool) -> tuple[bytes, bytes] | None:
    """The configured certificate; else, when API keys are on, this host's self-signed one
    (unless ``no_tls``)."""
    from viamlite.config import read_tls_files

    tls = read_tls_files(config.network, config.source)
    if tls is not None or config.auth is None:
        return tls
    if no_tls:
        log.warning("serving without TLS (--no-tls) while API keys are required: keys and tokens travel "
                    "in clear text; use this only on a trusted network")
        return None
    from viamlite.transport import tlscert

    cert, key, path = tlscert.self_signed()
    log.info("API keys are on and no certificate is configured: serving TLS with the self-signed "
             "certificate %s (set network.tls_cert_file/tls_key_file to use your own)", path)
    return cert, key


def _authority(machine: Any) -> Any:
    """Checks tokens against the keys of the machine's current config (live reloads apply)."""
    from viamlite.auth import Authority
    from viamlite.config import DEFAULT_TOKEN_LIFETIME

    def keys() -> Any:
        return machine.config.auth.keys if machine.config.auth is not None else {}

    def lifetime() -> float:
        return machine.config.auth.token_lifetime if machine.config.auth is not None else DEFAULT_TOKEN_LIFETIME

    return Authority(keys, lifetime)


def serve(config_path: str | None = None, bind: str | None = None, debug: bool = False,
          plugin_manager: Any = None, no_tls: bool = False, repl: bool = False, fastpath: str | None = None,
          no_fastpath: bool = False) -> int:
    """Run until SIGINT/SIGTERM or a Shutdown call (with ``repl``: until the REPL quits);
    returns the exit code.

    A config whose ``cloud`` block makes the machine a fleet member gets its config from a
    :class:`~viamlite.hookspecs.ConfigSource` (the ``viamlite_config_source`` hook) instead of
    the file; when the source asks for a restart, the machine stops cleanly and the process
    runs the same command again (:func:`restart_process`)."""
    t0 = time.perf_counter()
    _setup_logging(debug)
    from viamlite.adapters.serving import MachineServer
    from viamlite.address import show_host
    from viamlite.config import split_host_port
    from viamlite.fastpath import config as fastpath_config
    from viamlite.machine import ConfigWatcher, Machine

    source = None
    try:
        config = load_config(config_path) if config_path else demo_config()
        if config.cloud is not None:
            if plugin_manager is None:
                from viamlite.plugins import build_plugin_manager

                plugin_manager = build_plugin_manager()
            source = _config_source(config, plugin_manager)
            config = source.initial()
        if bind:
            split_host_port(bind, "--bind")
        tls = _tls_for(config, no_tls)
        fastpath_config.parse(config.raw, config.source)
        if fastpath:
            fastpath_config.check_address(fastpath, "--fastpath")
        machine = Machine(config, plugin_manager=plugin_manager)
    except ConfigError as exc:
        if source is not None:
            source.close()
        print(f"viamlite serve: config error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the self-signed certificate could not be kept
        if source is not None:
            source.close()
        print(f"viamlite serve: cannot keep a TLS certificate: {exc} (set VIAMLITE_HOME to a writable folder, "
              f"or configure network.tls_cert_file and tls_key_file)", file=sys.stderr)
        return 1
    stop = threading.Event()
    authority = _authority(machine) if config.auth else None  # one for gRPC and the fast path
    server = MachineServer(machine, shutdown=stop.set, authority=authority)
    address = bind or config.network.bind_address
    try:
        port = server.start(address, tls=tls)
    except BindError as exc:
        machine.close()
        if source is not None:
            source.close()
        print(f"viamlite serve: {exc}", file=sys.stderr)
        return 1
    bind_host, bind_port = split_host_port(address, "--bind" if bind else "network.bind_address")
    host = show_host(bind_host)
    try:
        fast = fastpath_config.start(machine, config.raw, grpc_bind_port=bind_port, grpc_port=port,
                                     address=fastpath, disabled=no_fastpath, source=config.source,
                                     authenticator=authority)
    except OSError as exc:
        server.stop(0)
        machine.close()
        if source is not None:
            source.close()
        print(f"viamlite serve: {exc}", file=sys.stderr)
        return 1
    restart = threading.Event()
    if source is not None:
        def on_restart() -> None:
            restart.set()
            stop.set()

        source.start(machine, (bind_host, port), on_restart)
    watcher = ConfigWatcher(machine, config_path).start() if config_path and source is None else None

    def on_signal(signum: int, frame: object) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    # before the banner: a supervisor that signals as soon as it reads the banner gets a clean stop
    if not repl:
        signal.signal(signal.SIGINT, on_signal)  # with the REPL, Ctrl-C cancels the running call
    signal.signal(signal.SIGTERM, on_signal)
    served = config_path or "the embedded demo machine"
    if config.cloud is not None:
        served += f" (part {config.cloud.id} of the fleet at {config.cloud.app_address})"
    mode = ("TLS" if tls else "plaintext") + (", API keys" if config.auth else "")
    print(f"viamlite serving {served} on {host}:{port} (gRPC, {mode}), pid {os.getpid()}, "
          f"ready in {time.perf_counter() - t0:.2f} s", flush=True)
    if fast is not None:
        print(fast[1], flush=True)
    print(machine.describe(), flush=True)

    if repl:
        from viamlite.cli.repl import run_repl

        try:
            run_repl(machine, f"{served} (serving on {host}:{port})")
        finally:
            stop.set()
    stop.wait()
    # Actuators first, then the transport, then the resources.
    errors = machine.stop_all()
    for line in errors:
        log.error("stop failed: %s", line)
    if watcher is not None:
        watcher.stop()
    if fast is not None:
        fast[0].stop()
    server.stop(grace=1.0)
    machine.close()
    if source is not None:
        source.close()
    print("viamlite stopped: every actuator stopped and every resource closed", flush=True)
    if restart.is_set():
        restart_process()
    return 0


def _config_source(config: MachineConfig, plugin_manager: Any) -> Any:
    """The plugin-given source of a fleet member's config."""
    source = plugin_manager.hook.viamlite_config_source(config=config, plugin_manager=plugin_manager)
    if source is None:
        raise ConfigError("the cloud block makes this machine a fleet member, but no plugin serves fleets",
                          path="cloud", file=config.source,
                          fix="install viamlite with its bundled plugins (pip install -e .) and keep the "
                              "'cloud' plugin in VIAMLITE_PLUGINS, or remove the cloud block")
    return source


def restart_process() -> None:
    """Replace this process with the same command (``sys.orig_argv``: the interpreter, its
    options, the script or module and every argument); the pid stays the same."""
    argv = [sys.executable, *sys.orig_argv[1:]]
    print(f"viamlite restarting: {' '.join(argv)}", flush=True)
    sys.stderr.flush()
    os.execv(sys.executable, argv)
