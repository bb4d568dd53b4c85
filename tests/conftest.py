"""Shared fixtures: a real ``viamlite serve`` process.

An in-process served machine (``served_machine``) and ``wait_for`` come from viamlite's own
pytest plugin, viamlite.testing.plugin, which the ``pytest11`` entry point loads.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DEMO = Path(__file__).resolve().parent.parent / "viamlite" / "demo.json"
_SERVING = re.compile(r"on (\S+):(\d+) \(gRPC")


class ServeProcess:
    """A ``viamlite serve`` subprocess; ``address`` is ``127.0.0.1:PORT``."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        args = _free_fastpath(list(args))
        self.proc = subprocess.Popen([sys.executable, "-m", "viamlite.cli", "serve", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, **(env or {})})
        self.banner: list[str] = []
        deadline = time.monotonic() + 20
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise RuntimeError(f"viamlite serve exited early ({self.proc.wait()}): {err}")
            self.banner.append(line)
            match = _SERVING.search(line)
            if match:
                self.port = int(match.group(2))
                self.address = f"127.0.0.1:{self.port}"
                return
        raise RuntimeError("viamlite serve did not report its address within 20 s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> tuple[int, str, str]:
        return stop_process(self.proc, sig, timeout)


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> tuple[int, str, str]:
    """Send ``sig``, wait up to ``timeout`` (then kill): (exit code, stdout, stderr)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def _free_fastpath(args: list[str]) -> list[str]:
    """A test that picks the gRPC port leaves the fast path's to the OS: the default, the
    gRPC port + 1, may be some other socket's (an outgoing connection's) port by chance."""
    if "--fastpath" in args or "--no-fastpath" in args or "--bind" not in args:
        return args
    if args[args.index("--bind") + 1].endswith(":0"):
        return args
    if "--config" in args:
        try:
            if "fastpath" in json.loads(Path(args[args.index("--config") + 1]).read_text()):
                return args
        except (OSError, ValueError):
            return args
    return [*args, "--fastpath", "127.0.0.1:0"]


def write_config(tmp_path: Path, config: dict[str, Any], name: str = "machine.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Start ``viamlite serve`` with a config dict (or the demo machine when None), ``env`` added to ours."""
    started: list[ServeProcess] = []

    def start(config: dict[str, Any] | None = None, *extra: str, env: dict[str, str] | None = None) -> ServeProcess:
        args = ["--bind", "127.0.0.1:0", *extra] if "--bind" not in extra else list(extra)
        if config is not None:
            args += ["--config", str(write_config(tmp_path, config, f"machine-{len(started)}.json"))]
        # A home of its own: self-signed certificates are made there, not in the user's.
        proc = ServeProcess(args, env={"VIAMLITE_HOME": str(tmp_path / "home"), **(env or {})})
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


@pytest.fixture(scope="module")
def demo_server() -> Iterator[ServeProcess]:
    """One ``viamlite serve`` of the demo machine, shared by a module's tests."""
    proc = ServeProcess(["--bind", "127.0.0.1:0"])
    yield proc
    proc.stop()
