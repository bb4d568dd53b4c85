"""Fast-path connection churn: memory, threads and fds of a `viamlite serve` through bursts of
connections opened and closed, and how long a burst takes to be accepted.

    python benchmarks/bench_churn.py [--cycles 20] [--connections 300]
    python benchmarks/bench_churn.py --address 127.0.0.1:8081 --pid 1234   # a server already running

Starts `viamlite serve --no-tls --bind 127.0.0.1:0` (the demo machine) unless ``--address``
is given, then runs ``--cycles`` cycles of: open ``--connections`` TCP connections at once
(non-blocking connects, all in flight together), send HELLO on each and wait for every
RESULT, then close them all. Per cycle it prints the server's RSS after the close, its
thread count (peak during the cycle, sampled every few ms, and after), its open fds after,
the time from the first connect to the last RESULT, the slowest connect and the slowest
HELLO, and how many connections took 1 s or more (a connect that slow waited for a TCP
SYN retry: the accept queue was full). At the end: RSS after the last cycle minus after
the first.

Loopback only, wire protocol only (msgpack frames on a socket), so it runs against any
fast-path server. Every wait is bounded. A benchmark, not a test: it prints, asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import msgpack

HELLO, RESULT, ERROR, GOODBYE = 1, 17, 18, 21
VERSION = 1
SLOW_S = 1.0  # a TCP SYN retry waits 1 s (Linux's initial retransmission timeout)
_LEN = struct.Struct(">I")
_SERVE = "import sys; sys.argv[0] = 'viamlite'; from viamlite.cli import main; sys.exit(main())"


# -- the server's process ------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS (kB), Threads and the open fd count of process ``pid``."""
    out = {"rss_kb": 0, "threads": 0, "fds": 0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    out["rss_kb"] = int(line.split()[1])
                elif line.startswith("Threads:"):
                    out["threads"] = int(line.split()[1])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        pass
    return out


class PeakSampler:
    """Samples a process's thread count every ``interval`` s on a thread of its own."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="churn-sampler", daemon=True)

    def _run(self) -> None:
        path = f"/proc/{self.pid}/status"
        while not self._stop.is_set():
            try:
                with open(path) as f:
                    for line in f:
                        if line.startswith("Threads:"):
                            self.peak = max(self.peak, int(line.split()[1]))
                            break
            except OSError:
                return
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2.0)


def start_server(extra_env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`viamlite serve` on loopback; returns the process and its fast-path HOST:PORT."""
    env = dict(os.environ, **extra_env)
    proc = subprocess.Popen([sys.executable, "-c", _SERVE, "serve", "--no-tls", "--bind", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            text=True)
    deadline = time.monotonic() + 30.0
    address = ""
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"fast path on (\S+?:\d+)", line)
        if m:
            address = m.group(1)
            break
    if not address:
        proc.kill()
        raise SystemExit("bench_churn: `viamlite serve` did not print its fast-path address within 30 s")
    # keep draining its output (logs a line per session) so it never blocks on a full pipe
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    return proc, address


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# -- one burst -----------------------------------------------------------------------------


class Conn:
    __slots__ = ("sock", "t0", "connected", "replied", "buf", "failure")

    def __init__(self, sock: socket.socket, t0: float) -> None:
        self.sock, self.t0 = sock, t0
        self.connected = 0.0
        self.replied = 0.0
        self.buf = b""
        self.failure = ""


def burst(host: str, port: int, count: int, timeout: float) -> dict[str, float]:
    """Open ``count`` connections at once, HELLO on each, every RESULT in; then close them all."""
    clock = time.perf_counter
    sel = selectors.DefaultSelector()
    conns: list[Conn] = []
    hello = msgpack.packb([HELLO, 1, VERSION, {"client": "bench_churn"}])
    hello = _LEN.pack(len(hello)) + hello
    start = clock()
    for _ in range(count):
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Conn(sock, clock())
        err = sock.connect_ex((host, port))
        if err not in (0, 115, 11):  # EINPROGRESS, EAGAIN
            conn.failure = os.strerror(err)
            sock.close()
        else:
            sel.register(sock, selectors.EVENT_WRITE, conn)
        conns.append(conn)
    waiting = sum(1 for c in conns if not c.failure)
    deadline = start + timeout
    while waiting and clock() < deadline:
        for key, events in sel.select(max(0.0, deadline - clock())):
            conn: Conn = key.data
            now = clock()
            if not conn.connected:
                err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    conn.failure = f"connect: {os.strerror(err)}"
                    sel.unregister(conn.sock)
                    waiting -= 1
                    continue
                conn.connected = now
                try:
                    conn.sock.send(hello)  # small enough to go whole into an empty socket buffer
                except OSError as exc:
                    conn.failure = f"send: {exc}"
                    sel.unregister(conn.sock)
                    waiting -= 1
                    continue
                sel.modify(conn.sock, selectors.EVENT_READ, conn)
                continue
            try:
                data = conn.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as exc:
                data, conn.failure = b"", f"recv: {exc}"
            if not data:
                conn.failure = conn.failure or "closed by the server before its HELLO reply"
                sel.unregister(conn.sock)
                waiting -= 1
                continue
            conn.buf += data
            if len(conn.buf) >= 4 and len(conn.buf) >= 4 + _LEN.unpack_from(conn.buf)[0]:
                msg = msgpack.unpackb(conn.buf[4:4 + _LEN.unpack_from(conn.buf)[0]])
                if type(msg) is list and msg and msg[0] == RESULT:
                    conn.replied = now
                else:
                    conn.failure = f"HELLO answered {msg!r:.120}"
                sel.unregister(conn.sock)
                waiting -= 1
    end = clock()
    for conn in conns:
        if not conn.replied and not conn.failure:
            conn.failure = f"no HELLO reply within {timeout:g} s"
    sel.close()
    for conn in conns:
        conn.sock.close()
    ok = [c for c in conns if c.replied]
    connect_s = [c.connected - c.t0 for c in conns if c.connected]
    total_s = [c.replied - c.t0 for c in ok]
    hello_s = [c.replied - c.connected for c in ok]
    failures = [c.failure for c in conns if c.failure]
    return {"ok": len(ok), "failed": len(failures), "first_failure": failures[0] if failures else "",
            "burst_s": (max(c.replied for c in ok) if ok else end) - start,
            "connect_max_s": max(connect_s, default=float("nan")),
            "hello_max_s": max(hello_s, default=float("nan")),
            "slow": sum(1 for t in total_s if t >= SLOW_S), "slow_connects": sum(1 for t in connect_s if t >= SLOW_S)}


def settle(pid: int, baseline_fds: int, timeout: float = 3.0) -> dict[str, int]:
    """The server's figures once its fds are back near the baseline (or after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        status = proc_status(pid)
        if status["fds"] <= baseline_fds + 2 or time.monotonic() >= deadline:
            time.sleep(0.1)  # let closing threads finish before reading memory
            return proc_status(pid)
        time.sleep(0.02)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--connections", type=int, default=300)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds a burst may take at most (default 20)")
    ap.add_argument("--address", help="the fast path of a server already running (loopback HOST:PORT)")
    ap.add_argument("--pid", type=int, help="with --address: the server's pid, for RSS, threads and fds")
    ap.add_argument("--malloc-arena-max", type=int, help="start the server with MALLOC_ARENA_MAX set to this")
    args = ap.parse_args()
    if not 1 <= args.cycles <= 1000 or not 1 <= args.connections <= 5000:
        ap.error("--cycles 1..1000 and --connections 1..5000")
    proc = None
    if args.address:
        address, pid = args.address, args.pid or 0
    else:
        env = {"MALLOC_ARENA_MAX": str(args.malloc_arena_max)} if args.malloc_arena_max else {}
        proc, address = start_server(env)
        pid = proc.pid
    host, _, port_text = address.rpartition(":")
    host = host.strip("[]")
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"bench_churn: {address} is not loopback; this benchmark runs on loopback only", file=sys.stderr)
        return 2
    port = int(port_text)
    try:
        time.sleep(0.3)
        base = proc_status(pid) if pid else {"rss_kb": 0, "threads": 0, "fds": 0}
        print(f"bench_churn: fast path {address}, server pid {pid or '?'}; {args.cycles} cycles of "
              f"{args.connections} connections (HELLO each, then close)")
        if pid:
            print(f"before: RSS {base['rss_kb'] / 1024:.1f} MB, {base['threads']} threads, {base['fds']} fds\n")
        else:
            print("(no --pid: the server's RSS, threads and fds are not measured)\n")
        print(f"{'cycle':>5} {'RSS MB':>7} {'thr peak':>8} {'thr after':>9} {'fds':>5} {'burst ms':>9} "
              f"{'connect max ms':>14} {'hello max ms':>12} {'>=1s':>5} {'failed':>6}")
        rss_after: list[float] = []
        peaks: list[int] = []
        for cycle in range(1, args.cycles + 1):
            sampler = PeakSampler(pid) if pid else None
            if sampler:
                sampler.__enter__()
            r = burst(host, port, args.connections, args.timeout)
            after = settle(pid, base["fds"]) if pid else {"rss_kb": 0, "threads": 0, "fds": 0}
            if sampler:
                sampler.__exit__()
            peak = sampler.peak if sampler else 0
            rss_after.append(after["rss_kb"] / 1024)
            peaks.append(peak)
            if pid:
                figures = f"{after['rss_kb'] / 1024:>7.1f} {peak:>8} {after['threads']:>9} {after['fds']:>5}"
            else:  # no pid given: the server's own figures are unknown
                figures = f"{'-':>7} {'-':>8} {'-':>9} {'-':>5}"
            print(f"{cycle:>5} {figures} "
                  f"{r['burst_s'] * 1e3:>9.0f} {r['connect_max_s'] * 1e3:>14.1f} {r['hello_max_s'] * 1e3:>12.1f} "
                  f"{r['slow']:>5} {r['failed']:>6}" + (f"  first failure: {r['first_failure']}" if r["failed"] else ""),
                  flush=True)
        if pid:
            print(f"\nRSS after the last cycle minus after the first: {rss_after[-1] - rss_after[0]:+.1f} MB "
                  f"({rss_after[0]:.1f} -> {rss_after[-1]:.1f} MB; before any: {base['rss_kb'] / 1024:.1f} MB); "
                  f"thread peak {max(peaks)} (before: {base['threads']})")
    finally:
        if proc is not None:
            stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
