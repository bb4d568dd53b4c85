"""A module's sensor against the same model in-process, through the viam-sdk client, in one run.

One machine serves two sensors that answer GetReadings alike (``{"value", "calls", "pid"}``):
``in_process``, a viamlite model in the serving process, and ``module``, the counter sensor of
``tests/modules/sensor_module.py`` (a viam-sdk module, a child process; each call is forwarded
as bytes over its unix socket). The viam-sdk's RobotClient calls each in turn; the figures are
p50 latency and calls/s (sequential), their ratio, the same calls made straight to the module's
own socket (what the forwarding costs), and the module's time from launch to ready.

    python benchmarks/bench_modules.py [--calls 2000] [--seconds 10]

A benchmark, not a test: figures depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class InProcessCounter:
    """The module's counter sensor, written as a viamlite model."""

    @staticmethod
    def plugin() -> Any:
        from viamlite import hookimpl
        from viamlite.components.sensor import Sensor
        from viamlite.driver import Configured

        class Counter(Configured, Sensor):
            def __init__(self, name: str, attrs: Any) -> None:
                super().__init__(name)
                self.value = float(attrs.number("value", 0))
                self.calls = 0

            def get_readings(self, *, extra: Any = None) -> dict[str, Any]:
                self.calls += 1
                return {"value": self.value, "calls": self.calls, "pid": os.getpid()}

        class Plugin:
            @hookimpl
            def viamlite_register_models(self, registry: Any) -> None:
                registry.register("rdk:component:sensor", "bench:sensor:counter", Counter.from_config)

        return Plugin()


async def measure(address: str, name: str, calls: int, seconds: float) -> tuple[float, float, int]:
    """(p50 seconds, calls/s, calls made) of GetReadings on ``name`` at ``address``."""
    from viam.components.sensor import Sensor
    from viam.robot.client import RobotClient
    from viam.rpc.dial import DialOptions

    opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True), refresh_interval=0,
                               check_connection_interval=0, attempt_reconnect_interval=0)
    robot = await RobotClient.at_address(address, opts)
    try:
        sensor = Sensor.from_robot(robot, name)
        for _ in range(50):  # warm up
            await sensor.get_readings()
        times = []
        start = time.perf_counter()
        deadline = start + seconds
        while len(times) < calls and time.perf_counter() < deadline:
            t0 = time.perf_counter()
            await sensor.get_readings()
            times.append(time.perf_counter() - t0)
        total = time.perf_counter() - start
        return median(times), len(times) / total, len(times)
    finally:
        await robot.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per sensor (default 2000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="at most this long per sensor (default 10)")
    args = parser.parse_args()

    from viamlite.adapters.serving import MachineServer
    from viamlite.machine import Machine
    from viamlite.plugins import build_plugin_manager

    tmp = Path(tempfile.mkdtemp(prefix="viamlite-bench-modules-"))
    exe = tmp / "sensor-module"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "tests" / "modules" / "sensor_module.py"}" "$@"\n')
    exe.chmod(0o755)
    config = {
        "modules": [{"type": "local", "name": "counter", "executable_path": str(exe)}],
        "components": [
            {"name": "module", "api": "rdk:component:sensor", "model": "viamlite-test:sensor:counter",
             "attributes": {"value": 1}},
            {"name": "in_process", "api": "rdk:component:sensor", "model": "bench:sensor:counter",
             "attributes": {"value": 1}},
        ],
    }
    t0 = time.perf_counter()
    machine = Machine.from_config(config, plugin_manager=build_plugin_manager(extra=[InProcessCounter.plugin()]))
    built = time.perf_counter() - t0
    module = machine.modules.modules["counter"]
    server = MachineServer(machine)
    port = server.start("127.0.0.1:0")
    address = f"127.0.0.1:{port}"
    try:
        results = {}
        for label, target, name in (("in-process model", address, "in_process"),
                                    ("module, through viamlite", address, "module"),
                                    ("module, its own socket", str(module.process.socket), "module")):
            results[label] = asyncio.run(measure(target, name, args.calls, args.seconds))
    finally:
        server.stop(0)
        machine.close()
    print(f"viam-sdk RobotClient, sensor GetReadings, sequential, one run (python {sys.version.split()[0]})")
    for label, (p50, rate, n) in results.items():
        print(f"  {label:<26} p50 {p50 * 1e6:8.0f} us   {rate:8.0f} calls/s   ({n} calls)")
    base_p50, base_rate, _ = results["in-process model"]
    mod_p50, mod_rate, _ = results["module, through viamlite"]
    print(f"  module / in-process: p50 x{mod_p50 / base_p50:.2f}, calls/s x{mod_rate / base_rate:.2f}")
    print(f"  module launch to ready: {module.launch_to_ready_s:.2f} s (machine built, module included, in "
          f"{built:.2f} s)")


if __name__ == "__main__":
    main()
