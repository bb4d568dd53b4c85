"""One module's process: its argv, environment, working folder and socket, as Viam's module
protocol has them, and its standard output and error in the machine's log.

* argv: ``<exe> <socket>`` (``<exe> <host:port> --tcp-mode`` in TCP mode), plus
  ``--log-level=<level>`` when the config sets one (``debug`` when the machine logs at debug);
* the socket is ``<folder>/<name>-<5 random letters>.sock``, beside the parent's;
* the working folder is ``VIAM_MODULE_ROOT`` (a local module's folder);
* the environment is the machine's, then ``VIAM_HOME``, ``VIAM_MODULE_DATA``,
  ``VIAM_MODULE_NAME``, ``VIAM_MODULE_ROOT`` (local) or ``VIAM_MODULE_ID`` (registry), the
  machine's cloud identity and its first API key when it has them, then the module's own ``env``.

Each line the module writes goes into the machine's log under ``viamlite.module.<name>``.
"""
from __future__ import annotations

import collections
import logging
import os
import random
import re
import signal
import socket
import string
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from viamlite.config import ModuleConfig

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: How many of the last lines of standard error a crash report quotes.
TAIL_LINES = 8


def module_logger(name: str) -> logging.Logger:
    """The machine log's logger for module ``name``."""
    return logging.getLogger(f"viamlite.module.{name}")


def viam_home() -> Path:
    """``VIAM_HOME`` for modules: ``$VIAMLITE_HOME``, else ``~/.viamlite``."""
    return Path(os.environ.get("VIAMLITE_HOME") or Path.home() / ".viamlite")


def socket_path(folder: Path, name: str) -> Path:
    """A fresh socket path for module ``name`` in ``folder``."""
    letters = "".join(random.choices(string.ascii_lowercase, k=5))
    return folder / f"{name}-{letters}.sock"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def module_environment(config: ModuleConfig, address: str, machine_raw: Mapping[str, Any],
                       api_key: tuple[str, str] | None, home: Path | None = None,
                       base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment module ``config`` starts with (see the module docstring)."""
    home = home or viam_home()
    cloud = machine_raw.get("cloud") or {}
    part = str(cloud.get("id") or "local")
    env = dict(os.environ if base is None else base)
    env.update({
        "VIAM_HOME": str(home),
        "VIAM_MODULE_DATA": str(home / "module-data" / part / config.name),
        "VIAM_MODULE_NAME": config.name,
        "VIAM_MODULE_ADDRESS": address,
    })
    if config.type == "local":
        env["VIAM_MODULE_ROOT"] = str(Path(config.executable_path).resolve().parent)
    else:
        env["VIAM_MODULE_ID"] = config.module_id
    for key, field in (("VIAM_PRIMARY_ORG_ID", "primary_org_id"), ("VIAM_LOCATION_ID", "location_id"),
                       ("VIAM_MACHINE_FQDN", "fqdn"), ("VIAM_MACHINE_ID", "machine_id"),
                       ("VIAM_MACHINE_PART_ID", "id")):
        if cloud.get(field):
            env[key] = str(cloud[field])
    if api_key is not None:
        env["VIAM_API_KEY_ID"], env["VIAM_API_KEY"] = api_key
    env.update(config.env)
    return env


def module_argv(config: ModuleConfig, executable: str, address: str, debug: bool) -> list[str]:
    """The command line of module ``config`` serving on ``address``."""
    argv = [executable, address]
    level = config.log_level or ("debug" if debug else "")
    if level:
        argv.append(f"--log-level={'warning' if level == 'warn' else level}")
    if config.tcp_mode:
        argv.append("--tcp-mode")
    return argv


class ModuleProcess:
    """One run of a module's program: started by :meth:`start`, ended by :meth:`stop` (or by
    itself; :meth:`wait` tells)."""

    def __init__(self, config: ModuleConfig, executable: str, folder: Path, env: Mapping[str, str],
                 debug: bool = False) -> None:
        self.config = config
        self.name = config.name
        self.executable = executable
        if config.tcp_mode:
            self.socket: Path | None = None
            self.address = f"127.0.0.1:{_free_port()}"
        else:
            self.socket = socket_path(folder, config.name)
            self.address = str(self.socket)
        self.argv = module_argv(config, executable, self.address, debug)
        self.env = dict(env)
        self.env["VIAM_MODULE_ADDRESS"] = self.address
        self.cwd = self.env.get("VIAM_MODULE_ROOT") or str(Path(executable).resolve().parent)
        self.log = module_logger(config.name)
        self._proc: subprocess.Popen[str] | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self._readers: list[threading.Thread] = []

    @property
    def target(self) -> str:
        """The grpc target of the module's server."""
        return f"unix:{self.socket}" if self.socket is not None else self.address

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the program; raises OSError when it cannot be executed."""
        data = self.env.get("VIAM_MODULE_DATA")
        if data:
            Path(data).mkdir(parents=True, exist_ok=True)
        self.log.info("starting module %r: %s", self.name, " ".join(self.argv))
        self._proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                                      errors="replace", start_new_session=True)
        for stream, tag in ((self._proc.stdout, "stdout"), (self._proc.stderr, "stderr")):
            thread = threading.Thread(target=self._pump, args=(stream, tag), daemon=True,
                                      name=f"viamlite-module-{self.name}-{tag}")
            thread.start()
            self._readers.append(thread)

    def _pump(self, stream: IO[str] | None, tag: str) -> None:
        if stream is None:
            return
        for line in stream:
            text = _ANSI.sub("", line.rstrip("\r\n"))
            if not text:
                continue
            if tag == "stderr":
                self._tail.append(text)
            self.log.info("[%s] %s", tag, text)
        stream.close()

    def poll(self) -> int | None:
        """The exit code (negative: the signal) once the process ended, else None."""
        return self._proc.poll() if self._proc is not None else None

    def wait(self, timeout: float | None = None) -> int | None:
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; the exit code. Idempotent."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.log.warning("module %r did not stop within %g s of SIGTERM: killing it", self.name, grace)
                proc.kill()
                proc.wait(5)
        for thread in self._readers:
            thread.join(timeout=1)
        self.remove_socket()
        return proc.returncode

    def remove_socket(self) -> None:
        if self.socket is not None:
            try:
                self.socket.unlink()
            except FileNotFoundError:
                pass

    def exit_description(self) -> str:
        """How the process ended, with the last lines of its standard error."""
        code = self.poll()
        if code is None:
            how = "is running"
        elif code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        tail = " | ".join(self._tail)
        return f"module {self.name!r} {how}" + (f" (its last words: {tail})" if tail else "")


__all__ = ["ModuleProcess", "module_argv", "module_environment", "module_logger", "socket_path", "viam_home"]
