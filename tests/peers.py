"""Peer processes for client tests: a viam-sdk server, and free ports."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SDK_SERVER = Path(__file__).resolve().parent.parent / "benchmarks" / "sdk_server.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited early ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s")


class SdkServer:
    """A viam-sdk ``viam.rpc.server.Server`` with one fake servo (``servo1``)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.start()

    def start(self) -> None:
        """Start (again, on the same port)."""
        self.proc = subprocess.Popen([sys.executable, str(SDK_SERVER), str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.proc)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def run_viam_sdk(address: str, body: Any, *, reconnect: bool = True) -> Any:
    """Run ``await body(robot)`` with a viam-sdk ``RobotClient`` dialed to ``address`` (insecure,
    no WebRTC) and close it. ``reconnect=False`` turns off the SDK's reconnect and connection
    checks, for tests that kill the machine under it."""
    import asyncio

    from viam.robot.client import RobotClient
    from viam.rpc.dial import DialOptions

    async def main() -> Any:
        opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True))
        if not reconnect:
            opts.attempt_reconnect_interval = 0
            opts.check_connection_interval = 0
        robot = await RobotClient.at_address(address, opts)
        try:
            return await body(robot)
        finally:
            await robot.close()

    return asyncio.run(main())
