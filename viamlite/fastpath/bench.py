"""``viamlite bench``: the fast path against gRPC and against the host's floor, in one run.

Measures, on the servo named by ``--resource``: sequential Move + GetPosition round
trips over gRPC and over the fast path (p50, p99, calls/s, and the ratio); the same
sequential round trips of a bare blocking-socket echo between this process and a child
process (the floor: what any Python protocol pays for two processes and a socket on this
host), beside the fast path's, with the difference; pipelined fast-path throughput, a
1 kHz subscription (delivered rate, missed samples, jitter), and how soon a setpoint
stream's deadman stops the servo. The host's CPU steal over the run (/proc/stat) says how
loaded the host was. Rounds alternate the transports, so a noisy neighbour hurts all alike.
Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

#: The fast path's goal against the floor, from the same run: p50 at most the floor's p50
#: plus this many microseconds, and p99 at most this multiple of the floor's p99.
GOAL_P50_ABOVE_US = 15.0
GOAL_P99_TIMES = 3.0


def _cpu_times() -> tuple[int, int]:
    """(steal, total) jiffies of all CPUs since boot, from the first line of /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    # user nice system idle iowait irq softirq steal guest guest_nice; guest time is
    # already counted in user and nice
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


_steal = _cpu_times  # the old name


def steal_between(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of CPU time the hypervisor took from this host between two readings."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else 0.0


# -- the floor: a bare blocking-socket echo in a child process -------------------------

#: The child: accepts one connection and echoes every read back until it closes. Bounded:
#: it gives up after 30 s without a connection or 30 s without a byte.
_ECHO_CHILD = """
import socket, struct, sys
family, where = sys.argv[1], sys.argv[2]
if family == "unix":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(where)
else:
    s = socket.socket(socket.AF_INET6 if ":" in where else socket.AF_INET, socket.SOCK_STREAM)
    s.bind((where, 0))
s.listen(1)
s.settimeout(30)
print(s.getsockname()[1] if family != "unix" else where, flush=True)
c, _ = s.accept()
c.settimeout(None)  # plain blocking reads; the kernel's receive timeout bounds them at no cost per call
c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 30, 0))
if family != "unix":
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
recv, send = c.recv, c.sendall
try:
    while True:
        data = recv(65536)
        if not data:
            break
        send(data)
except OSError:
    pass
"""


class Floor:
    """A child process echoing over a socket, and the parent's end of it.

    ``family`` is ``tcp`` (loopback, TCP_NODELAY, as the fast path uses) or ``unix``.
    :meth:`round_trip` sends ``message`` and reads the same number of bytes back, on a
    plain blocking socket (a kernel receive timeout bounds it at no per-call cost).
    """

    def __init__(self, family: str = "tcp", host: str = "127.0.0.1") -> None:
        self._tmp: tempfile.TemporaryDirectory | None = None
        if family == "unix":
            self._tmp = tempfile.TemporaryDirectory(prefix="viamlite-floor-")
            where = os.path.join(self._tmp.name, "echo.sock")
        else:
            where = host
        self.family = family
        self.proc = subprocess.Popen([sys.executable, "-c", _ECHO_CHILD, family, where], stdout=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL)
        try:
            line = self.proc.stdout.readline().decode().strip() if self.proc.stdout else ""
            if not line:
                raise OSError("the echo child did not start")
            if family == "unix":
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(5)
                sock.connect(line)
            else:
                sock = socket.create_connection((host, int(line)), timeout=5)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(None)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 5, 0))
        except BaseException:
            self.close()
            raise
        self.sock: socket.socket | None = sock

    def timer(self, message: bytes) -> Callable[[], None]:
        """One echo round trip of ``message`` (raises if the child stops answering)."""
        size = len(message)
        assert self.sock is not None
        send, recv = self.sock.sendall, self.sock.recv

        def round_trip() -> None:
            send(message)
            got = len(recv(65536))
            while got < size:
                more = len(recv(65536))
                if not more:
                    raise OSError("the echo child closed the connection")
                got += more

        return round_trip

    def close(self) -> None:
        sock = getattr(self, "sock", None)
        if sock is not None:
            self.sock = None
            sock.close()
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def sequential(move: Callable[[int], Any], get: Callable[[], Any], seconds: float) -> dict[str, Any]:
    """Alternate Move and GetPosition for ``seconds``; per-call latencies (``times``, in s)."""
    times: list[float] = []
    clock = time.perf_counter
    angle = 10
    start = clock()
    end = start + seconds
    while True:
        t0 = clock()
        move(angle)
        t1 = clock()
        get()
        t2 = clock()
        times.append(t1 - t0)
        times.append(t2 - t1)
        angle = 10 if angle == 170 else angle + 1
        if t2 >= end:
            break
    elapsed = clock() - start
    times.sort()
    return {"calls": len(times), "rate": len(times) / elapsed, "p50": _pct(times, 0.5) * 1e6,
            "p99": _pct(times, 0.99) * 1e6, "times": times}


def pooled(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """p50 and p99 (us) over every call of several rounds."""
    times = sorted(t for r in rounds for t in r["times"])
    return {"calls": len(times), "p50": _pct(times, 0.5) * 1e6, "p99": _pct(times, 0.99) * 1e6}


def grpc_calls(address: str, name: str) -> tuple[Callable[[int], Any], Callable[[], Any], Callable[[], None]]:
    import grpc

    from viamlite.gen import servo_pb2 as pb

    channel = grpc.insecure_channel(address)
    service = "/viam.component.servo.v1.ServoService/"
    move_rpc = channel.unary_unary(service + "Move", request_serializer=pb.MoveRequest.SerializeToString,
                                   response_deserializer=pb.MoveResponse.FromString)
    get_rpc = channel.unary_unary(service + "GetPosition", request_serializer=pb.GetPositionRequest.SerializeToString,
                                  response_deserializer=pb.GetPositionResponse.FromString)
    get_req = pb.GetPositionRequest(name=name)
    grpc.channel_ready_future(channel).result(timeout=10)
    return (lambda angle: move_rpc(pb.MoveRequest(name=name, angle_deg=angle), timeout=10),
            lambda: get_rpc(get_req, timeout=10), channel.close)


def pipelined(client: Any, handle: Any, seconds: float, depth: int = 512) -> float:
    """Calls per second with ``depth`` GetPosition calls in flight per batch."""
    calls = [()] * depth
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += len(client.pipeline(handle, "get_position", calls))
    return done / (time.perf_counter() - start)


def subscription(client: Any, handle: Any, seconds: float, rate: float = 1000.0) -> dict[str, float]:
    period_ns = 1e9 / rate
    stamps: list[int] = []
    arrivals: list[float] = []
    sub = client.subscribe(handle, "get_position", rate_hz=rate)
    start = time.perf_counter()
    try:
        while True:
            sample = sub.next(timeout=5.0)
            arrivals.append(time.perf_counter())
            stamps.append(sample.t_ns)
            if arrivals[-1] - start >= seconds:
                break
    finally:
        sub.close()
    first_seq = sub.last_seq - sub.received - sub.missed + 1
    expected = sub.last_seq - first_seq + 1
    deviation = sorted(abs((b - a) - period_ns) / 1e3 for a, b in zip(stamps, stamps[1:]))
    lateness = sorted(max(0.0, (b - a) - 1.0 / rate) * 1e6 for a, b in zip(arrivals, arrivals[1:]))
    elapsed = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else float("nan")
    return {"received": sub.received, "expected": expected, "missed": sub.missed,
            "rate": (len(arrivals) - 1) / elapsed, "seconds": elapsed,
            "jitter_p50": _pct(deviation, 0.5), "jitter_p99": _pct(deviation, 0.99),
            "jitter_max": deviation[-1] if deviation else float("nan"),
            "arrival_p99": _pct(lateness, 0.99)}


def deadman(client: Any, handle: Any, timeout: float = 0.1, rounds: int = 5) -> list[float]:
    """Seconds from the last setpoint to the server's deadman notice (the servo stopped before it)."""
    delays = []
    for _ in range(rounds):
        with client.setpoints(handle, "move", timeout=timeout) as stream:
            for angle in range(80, 100):
                time.sleep(0.002)
                stream.send(angle)
            last = time.perf_counter()  # just after the last setpoint left
            event = stream.wait_event(timeout + 5.0)
            delays.append(time.perf_counter() - last)
            if "deadman" not in event.message:
                raise RuntimeError(f"unexpected stream event: {event.message}")
    return delays


def floor_family(fast_address: str) -> tuple[str, str]:
    """The floor uses the fast path's transport: a unix socket or TCP on the same host."""
    if fast_address.startswith("unix:") or fast_address.startswith("/"):
        return "unix", ""
    from viamlite.address import split_host_port

    host, _ = split_host_port(fast_address)
    return "tcp", host


def run(args: argparse.Namespace) -> int:
    import msgpack

    from viamlite.fastpath import schema as S
    from viamlite.fastpath.client import FastPathClient
    from viamlite.fastpath.errors import FastPathError
    from viamlite.fastpath.framing import encode_stream
    from viamlite.address import split_host_port

    try:
        host, port = split_host_port(args.address)
    except ValueError as exc:
        print(f"viamlite bench: --address: {exc}", file=sys.stderr)
        return 2
    if args.rounds < 1 or not args.seconds > 0:
        print("viamlite bench: --rounds must be at least 1 and --seconds above 0", file=sys.stderr)
        return 2
    fast_address = args.fastpath or f"{host}:{port + 1}"
    seconds = args.seconds
    try:
        fp = FastPathClient.connect(fast_address, client_name="viamlite bench")
        handle = fp.resolve(args.resource, "servo")
    except (FastPathError, OSError) as exc:
        print(f"viamlite bench: fast path at {fast_address}: {exc}\n(the default is the gRPC port + 1; pass "
              "--fastpath with the address `viamlite serve` printed)", file=sys.stderr)
        return 1
    try:
        move, get, close = grpc_calls(args.address, args.resource)
    except Exception as exc:
        fp.close()
        print(f"viamlite bench: gRPC at {args.address}: {exc}", file=sys.stderr)
        return 1
    family, floor_host = floor_family(fast_address)
    # the floor echoes a message the size of a fast-path Move request, both ways
    message = encode_stream(msgpack.packb([S.CALL, 123456, handle.number, 10, [90]]))
    try:
        floor = Floor(family, floor_host or "127.0.0.1")
    except OSError as exc:
        fp.close()
        close()
        print(f"viamlite bench: the floor's echo process: {exc}", file=sys.stderr)
        return 1
    echo = floor.timer(message)
    cpu0 = _cpu_times()
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"viamlite bench: servo {args.resource!r}, gRPC {args.address}, fast path {fast_address}, "
          f"{seconds:g} s per measurement\n")
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        for _ in range(args.rounds):  # alternate, so a noisy neighbour hurts every transport alike
            rows.append(("gRPC", sequential(move, get, seconds)))
            rows.append(("floor", sequential(lambda a: echo(), echo, seconds)))
            rows.append(("fast path", sequential(lambda a: fp.call(handle, 10, a), lambda: fp.call(handle, 11),
                                                 seconds)))
        close()
        floor.close()
        cpu1 = _cpu_times()
        print("sequential round trips (Move, GetPosition alternating; each call timed)")
        print(f"  {'transport':<10} {'calls/s':>9} {'p50 us':>8} {'p99 us':>8}")
        best: dict[str, dict[str, Any]] = {}
        by_label: dict[str, list[dict[str, Any]]] = {}
        for label, r in rows:
            print(f"  {label:<10} {r['rate']:>9,.0f} {r['p50']:>8.0f} {r['p99']:>8.0f}")
            by_label.setdefault(label, []).append(r)
            if label not in best or r["rate"] > best[label]["rate"]:
                best[label] = r
        ratio = best["fast path"]["rate"] / best["gRPC"]["rate"]
        print(f"  fast path / gRPC: {ratio:.1f}x calls/s (best round of each), p99 "
              f"{best['fast path']['p99']:.0f} us vs {best['gRPC']['p99']:.0f} us")
        print(f"  (floor: a bare blocking-socket echo of {len(message)} bytes between this process and a child, "
              f"over {'a unix socket' if family == 'unix' else 'TCP on ' + floor_host})\n")
        fl, fast = pooled(by_label["floor"]), pooled(by_label["fast path"])
        above = fast["p50"] - fl["p50"]
        times = fast["p99"] / fl["p99"] if fl["p99"] > 0 else float("nan")
        steal_seq = steal_between(cpu0, cpu1)
        rounds = "the 1 round" if args.rounds == 1 else f"the {args.rounds} rounds"
        print(f"against the floor (every call of {rounds}; host steal {steal_seq:.1%} meanwhile)")
        print(f"  {'':<10} {'p50 us':>8} {'p99 us':>8}")
        print(f"  {'floor':<10} {fl['p50']:>8.1f} {fl['p99']:>8.1f}")
        print(f"  {'fast path':<10} {fast['p50']:>8.1f} {fast['p99']:>8.1f}")
        print(f"  {'above':<10} {above:>+8.1f} {fast['p99'] - fl['p99']:>+8.1f}   (p99 {times:.1f}x the floor's)")
        print(f"  goal: p50 at most floor + {GOAL_P50_ABOVE_US:.0f} us ({'met' if above <= GOAL_P50_ABOVE_US else 'not met'}), "
              f"p99 at most {GOAL_P99_TIMES:.0f}x floor ({'met' if times <= GOAL_P99_TIMES else 'not met'})\n")
        rate = pipelined(fp, handle, seconds)
        print(f"pipelined GetPosition, 512 in flight: {rate:,.0f} calls/s = {2 * rate:,.0f} messages/s "
              "(requests + replies)\n")
        sub = subscription(fp, handle, args.subscribe_seconds)
        missed_pct = 100.0 * sub["missed"] / max(1, sub["expected"])
        print(f"1 kHz subscription to GetPosition for {sub['seconds']:.1f} s: {sub['rate']:.1f} samples/s delivered, "
              f"{sub['missed']} of {sub['expected']} missed ({missed_pct:.2f}%)")
        print(f"  sample-time jitter |interval - 1 ms|: p50 {sub['jitter_p50']:.0f} us, p99 {sub['jitter_p99']:.0f} us, "
              f"max {sub['jitter_max']:.0f} us; arrival lateness p99 {sub['arrival_p99']:.0f} us\n")
        delays = deadman(fp, handle)
        print(f"deadman, 100 ms timeout: stop reported {statistics.median(delays) * 1e3:.1f} ms after the last "
              f"setpoint (median of {len(delays)}; worst {max(delays) * 1e3:.1f} ms)")
    finally:
        fp.close()
        floor.close()
    cpu2 = _cpu_times()
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nhost: CPU steal {steal_between(cpu0, cpu2):.1%} over the whole run ({os.cpu_count()} CPUs, "
          f"load average {load0:.2f} -> {load1:.2f}); high steal or load makes every figure noisier")
    return 0
