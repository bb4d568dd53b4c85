"""Serve the same fake servo from ``viamlite serve`` and from a viam-sdk server; drive both
with the same grpcio client in one run; print calls/s (1 and 16 concurrent callers),
server CPU per call, the ratios, and the demo machine's memory and start-up time.

    python benchmarks/bench_server.py [--seconds 3]

A benchmark, not a test: figures depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

import grpc

HERE = Path(__file__).resolve().parent
METHOD = "/viam.component.servo.v1.ServoService/GetPosition"
REQUEST = b"\n\x06servo1"  # GetPositionRequest{name: "servo1"}, encoded by hand: no proto import needed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def steal_ticks() -> tuple[int, int]:
    """(steal, total) CPU ticks of this machine: a shared virtual machine loses time to its host."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wait_ready(address: str, timeout: float = 30) -> float:
    """Seconds until ResourceNames answers."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        # a fresh channel each try: a channel that failed once waits out its reconnect backoff
        with grpc.insecure_channel(address) as channel:
            try:
                channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames")(b"", timeout=1)
                return time.perf_counter() - t0
            except grpc.RpcError:
                pass
        time.sleep(0.005)
    raise RuntimeError(f"{address} did not answer ResourceNames within {timeout} s")


def sequential(address: str, pid: int, seconds: float) -> tuple[float, float]:
    channel = grpc.insecure_channel(address)
    call = channel.unary_unary(METHOD)
    for _ in range(200):
        call(REQUEST)
    n, c0, t0 = 0, cpu_seconds(pid), time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        call(REQUEST)
        n += 1
    elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - c0
    channel.close()
    return n / elapsed, cpu / n * 1e6


def concurrent(address: str, pid: int, seconds: float, callers: int) -> tuple[float, float]:
    async def run() -> tuple[float, float]:
        async with grpc.aio.insecure_channel(address) as channel:
            call = channel.unary_unary(METHOD)
            for _ in range(100):
                await call(REQUEST)
            counts = [0] * callers
            end = time.perf_counter() + seconds

            async def caller(i: int) -> None:
                while time.perf_counter() < end:
                    await call(REQUEST)
                    counts[i] += 1

            c0, t0 = cpu_seconds(pid), time.perf_counter()
            await asyncio.gather(*(caller(i) for i in range(callers)))
            elapsed, cpu = time.perf_counter() - t0, cpu_seconds(pid) - c0
            n = sum(counts)
            return n / elapsed, cpu / n * 1e6

    return asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each measurement")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements per server, alternating between them; medians are printed")
    args = parser.parse_args()

    lite_port, sdk_port = free_port(), free_port()
    t0 = time.perf_counter()
    lite = subprocess.Popen([sys.executable, "-m", "viamlite.cli", "serve", "--bind", f"127.0.0.1:{lite_port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"127.0.0.1:{lite_port}")
    startup = time.perf_counter() - t0
    sdk = subprocess.Popen([sys.executable, str(HERE / "sdk_server.py"), str(sdk_port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(f"127.0.0.1:{sdk_port}")
        time.sleep(0.5)
        rss = rss_mb(lite.pid)
        steal0 = steal_ticks()
        rows = []
        for label, fn in (("1 caller", lambda a, p: sequential(a, p, args.seconds)),
                          ("16 callers", lambda a, p: concurrent(a, p, args.seconds, 16))):
            lite_runs, sdk_runs = [], []
            for _ in range(args.rounds):  # alternate, so a noisy neighbour hurts both alike
                lite_runs.append(fn(f"127.0.0.1:{lite_port}", lite.pid))
                sdk_runs.append(fn(f"127.0.0.1:{sdk_port}", sdk.pid))
            lite_rate, lite_cpu = median(r for r, _ in lite_runs), median(c for _, c in lite_runs)
            sdk_rate, sdk_cpu = median(r for r, _ in sdk_runs), median(c for _, c in sdk_runs)
            rows.append((label, lite_rate, sdk_rate, lite_cpu, sdk_cpu))
        print(f"servo GetPosition, grpcio client, {args.rounds} alternating rounds of {args.seconds:g} s "
              f"per server (medians), one run\n")
        print(f"{'':<11}{'viamlite':>12}{'viam-sdk':>12}{'ratio':>8}   {'CPU/call viamlite':>18}{'viam-sdk':>10}{'ratio':>8}")
        for label, lr, sr, lc, sc in rows:
            print(f"{label:<11}{lr:>10.0f}/s{sr:>10.0f}/s{lr / sr:>7.2f}x   {lc:>16.0f}us{sc:>8.0f}us{lc / sc:>7.2f}x")
        steal1 = steal_ticks()
        stolen = (steal1[0] - steal0[0]) / max(1, steal1[1] - steal0[1])
        print(f"\nCPU time taken by the host (steal) during the measurements: {stolen:.0%}"
              " (high values make every figure noisier)")
        print(f"demo machine: resident memory {rss:.1f} MB, exec to first answered ResourceNames {startup:.2f} s")
    finally:
        for proc in (lite, sdk):
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
