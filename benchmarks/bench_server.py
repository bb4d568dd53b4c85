"""Serve the same fake servo from ``viamlite serve``, from a viam-sdk server and from a real
viam-server (when it is built: ``tools/build_peers.py``); drive all of them with the same grpcio
client in one run; print calls/s (1 and 16 concurrent callers), server CPU per call, resident
memory, the time from exec to the first ResourceNames that lists the servo, and the ratios.

    python benchmarks/bench_server.py [--seconds 2] [--rounds 3] [--no-viam-server]

viam-server runs in a network namespace of its own (its start-up network checks must reach
nothing; see tests/rdk_peers.py), which needs root. With it, all three servers run in that
namespace and are dialed over the same veth link, so each call takes the same path; without it
(not built, not root, or ``--no-viam-server``) the other two are measured over loopback, as before.
viamlite and viam-server serve the demo machine (viamlite/demo.json, 13 fakes); the viam-sdk
server one servo.

A benchmark, not a test: figures depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
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


def wait_ready(address: str, timeout: float = 30, t0: float | None = None) -> float:
    """Seconds (from ``t0``, default now) until ResourceNames answers with ``servo1`` listed
    (viam-server answers before it has built its resources)."""
    t0 = time.perf_counter() if t0 is None else t0
    while time.perf_counter() - t0 < timeout:
        # a fresh channel each try: a channel that failed once waits out its reconnect backoff
        with grpc.insecure_channel(address) as channel:
            try:
                names = channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames")(b"", timeout=1)
                if b"servo1" in names:
                    return time.perf_counter() - t0
            except grpc.RpcError:
                pass
        time.sleep(0.005)
    raise RuntimeError(f"{address} did not list servo1 in ResourceNames within {timeout} s")


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


class Server:
    """One server under measurement: its process, where it is dialed, its start-up time."""

    def __init__(self, label: str, argv: list[str], address: str, env: dict[str, str] | None = None,
                 cwd: str | None = None) -> None:
        self.label, self.address = label, address
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        self.startup = wait_ready(address, t0=t0)

    @property
    def pid(self) -> int:  # `ip netns exec` execs the program: the pid is the server's
        return self.proc.pid

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def viam_server_missing() -> str | None:
    sys.path.insert(0, str(HERE.parent))
    from tests import rdk_peers

    return rdk_peers.missing("viam-server")


def start_servers(use_viam_server: bool, workdir: Path) -> tuple[list[Server], object | None]:
    """The servers, each started and answering; the peer network they run in, if any."""
    net = None
    host, wrap = "127.0.0.1", (lambda argv: argv)
    if use_viam_server:
        from tests import rdk_peers

        net = rdk_peers.PeerNetwork()
        host, wrap = net.peer_ip, net.command
    servers: list[Server] = []
    try:
        port = net.free_port() if net else free_port()
        servers.append(Server("viamlite", wrap([sys.executable, "-m", "viamlite.cli", "serve", "--bind",
                                                f"{host}:{port}", "--fastpath", "127.0.0.1:0"]), f"{host}:{port}"))
        port = net.free_port() if net else free_port()
        servers.append(Server("viam-sdk", wrap([sys.executable, str(HERE / "sdk_server.py"), str(port),
                                                "--host", host]), f"{host}:{port}"))
        if net is not None:
            from tests import rdk_peers

            port = net.free_port()
            config = json.loads((HERE.parent / "viamlite" / "demo.json").read_text())
            config["network"] = {"bind_address": f"{host}:{port}"}
            (workdir / "viam-server.json").write_text(json.dumps(config))
            home = workdir / "home"
            home.mkdir()
            argv = [str(rdk_peers.binary("viam-server")), "-config", str(workdir / "viam-server.json"),
                    "-disable-mdns", "-ftdc=false", "-no-tls"]
            servers.append(Server("viam-server", wrap(argv), f"{host}:{port}",
                                  env={"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                                  cwd=str(workdir)))
    except BaseException:
        for server in servers:
            server.stop()
        if net is not None:
            net.close()  # type: ignore[attr-defined]
        raise
    return servers, net


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="duration of each measurement")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements per server, alternating between them; medians are printed")
    parser.add_argument("--no-viam-server", action="store_true", help="leave viam-server out")
    args = parser.parse_args()

    missing = "left out (--no-viam-server)" if args.no_viam_server else viam_server_missing()
    with tempfile.TemporaryDirectory(prefix="bench-server-") as workdir:
        servers, net = start_servers(missing is None, Path(workdir))
        try:
            return measure(servers, args, missing, over_link=net is not None)
        finally:
            for server in servers:
                server.stop()
            if net is not None:
                net.close()  # type: ignore[attr-defined]


def measure(servers: list[Server], args: argparse.Namespace, missing: str | None, over_link: bool) -> int:
    time.sleep(0.5)
    rss = {s.label: rss_mb(s.pid) for s in servers}
    idle0, t_idle = {s.label: cpu_seconds(s.pid) for s in servers}, time.perf_counter()
    time.sleep(2.0)  # what each server spends with no calls at all (timers, background checks)
    idle = {s.label: (cpu_seconds(s.pid) - idle0[s.label]) / (time.perf_counter() - t_idle) * 100 for s in servers}
    steal0 = steal_ticks()
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    for label, fn in (("1 caller", lambda a, p: sequential(a, p, args.seconds)),
                      ("16 callers", lambda a, p: concurrent(a, p, args.seconds, 16))):
        runs: dict[str, list[tuple[float, float]]] = {s.label: [] for s in servers}
        for _ in range(args.rounds):  # alternate, so a noisy neighbour hurts all alike
            for server in servers:
                runs[server.label].append(fn(server.address, server.pid))
        rows[label] = {name: (median(r for r, _ in got), median(c for _, c in got)) for name, got in runs.items()}
    steal1 = steal_ticks()
    names = [s.label for s in servers]
    path = "one veth link into the peers' network namespace" if over_link else "loopback"
    print(f"servo GetPosition, grpcio client over {path}, {args.rounds} alternating rounds of {args.seconds:g} s "
          f"per server (medians), one run\n")
    print(f"{'':<26}" + "".join(f"{n:>13}" for n in names))
    for label, by in rows.items():
        print(f"{'calls/s, ' + label:<26}" + "".join(f"{by[n][0]:>11.0f}/s" for n in names))
    for label, by in rows.items():
        print(f"{'server CPU/call, ' + label:<26}" + "".join(f"{by[n][1]:>11.0f}us" for n in names))
    print(f"{'resident memory':<26}" + "".join(f"{rss[n]:>10.1f} MB" for n in names))
    print(f"{'CPU when idle':<26}" + "".join(f"{idle[n]:>12.1f}%" for n in names))
    print(f"{'exec to ResourceNames':<26}" + "".join(f"{s.startup:>12.2f}s" for s in servers))
    print("\nviamlite against each (calls/s: >1 is faster; CPU, memory, start-up: <1 is less):")
    for other in names[1:]:
        parts = [f"calls/s {rows[l]['viamlite'][0] / rows[l][other][0]:.2f}x ({l})" for l in rows]
        parts += [f"CPU/call {rows[l]['viamlite'][1] / rows[l][other][1]:.2f}x ({l})" for l in rows]
        parts.append(f"memory {rss['viamlite'] / rss[other]:.2f}x")
        startup = {s.label: s.startup for s in servers}
        parts.append(f"start-up {startup['viamlite'] / startup[other]:.2f}x")
        print(f"  vs {other}: " + ", ".join(parts))
    if missing:
        print(f"\nviam-server: not measured: {missing}")
    stolen = (steal1[0] - steal0[0]) / max(1, steal1[1] - steal0[1])
    print(f"\nCPU time taken by the host (steal) during the measurements: {stolen:.0%}"
          " (high values make every figure noisier)")
    print("viamlite and viam-server serve the demo machine (13 fakes); the viam-sdk server one servo. The client is"
          " one Python process: where no server is near 100% of a core, calls/s are bound by the client and"
          " CPU/call is the figure that compares the servers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
