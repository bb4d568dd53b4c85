"""A real ``viamlite fleet`` for tests: ``fleet init`` and a ``fleet serve`` subprocess,
and the official viam-sdk's app clients dialed to it."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SERVING = re.compile(r"viamlite fleet serving on (\S+):(\d+) \((https?),")


@dataclass(frozen=True)
class Owner:
    """What ``viamlite fleet init --json`` printed."""

    organization_id: str
    location_id: str
    api_key_id: str
    api_key: str


def fleet_command(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "viamlite.cli", "fleet", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout)


def fleet_init(db_url: str, *extra: str, env: dict[str, str] | None = None) -> Owner:
    result = fleet_command("init", "--db", db_url, "--json", *extra, env=env)
    if result.returncode:
        raise RuntimeError(f"viamlite fleet init failed ({result.returncode}): {result.stderr}")
    return Owner(**json.loads(result.stdout))


class FleetProcess:
    """``viamlite fleet serve`` on 127.0.0.1 (a free port unless ``port`` is given)."""

    def __init__(self, db_url: str, *, tls: bool = False, port: int = 0, home: Path | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        self.db_url = db_url
        self.tls = tls
        env = dict(os.environ)
        if home is not None:
            env["VIAMLITE_HOME"] = str(home)
        args = ["serve", "--db", db_url, "--bind", f"127.0.0.1:{port}", *(() if tls else ("--no-tls",)), *extra]
        self.proc = subprocess.Popen([sys.executable, "-m", "viamlite.cli", "fleet", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 30
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"viamlite fleet serve exited early ({self.proc.wait()}): {self.proc.stderr.read()}")
            match = _SERVING.search(line)
            if match:
                self.port = int(match.group(2))
                self.address = f"127.0.0.1:{self.port}"
                self.base_url = f"{match.group(3)}://{self.address}"
                return
        raise RuntimeError("viamlite fleet serve did not report its address within 30 s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> tuple[int, str, str]:
        from tests.conftest import stop_process

        return stop_process(self.proc, sig, timeout)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    async def viam_client(self, key_id: str, key: str) -> Any:
        """The official viam-sdk ViamClient, logged in with an API key."""
        from viam.app.viam_client import ViamClient
        from viam.rpc.dial import DialOptions

        options = DialOptions.with_api_key(key, key_id)
        options.insecure = not self.tls
        return await ViamClient.create_from_dial_options(options, app_url=self.address)
