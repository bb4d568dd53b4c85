"""``viamlite bench``: the fast path against gRPC on a running machine, in one run.

Measures, on the servo named by ``--resource``: sequential Move + GetPosition round
trips over gRPC and over the fast path (p50, p99, calls/s, and the ratio), pipelined
fast-path throughput, a 1 kHz subscription (delivered rate, missed samples, jitter), and
how soon a setpoint stream's deadman stops the servo. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def _steal() -> tuple[int, int]:
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0, 0
    return (fields[7] if len(fields) > 7 else 0), sum(fields)


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def sequential(move: Callable[[int], Any], get: Callable[[], Any], seconds: float) -> dict[str, float]:
    """Alternate Move and GetPosition for ``seconds``; per-call latencies."""
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
            "p99": _pct(times, 0.99) * 1e6}


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


def run(args: argparse.Namespace) -> int:
    from viamlite.fastpath.client import FastPathClient
    from viamlite.fastpath.errors import FastPathError
    from viamlite.fastpath.server import split_address

    try:
        host, port = split_address(args.address)
    except ValueError as exc:
        print(f"viamlite bench: --address: {exc}", file=sys.stderr)
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
        print(f"viamlite bench: gRPC at {args.address}: {exc}", file=sys.stderr)
        return 1
    steal0 = _steal()
    print(f"viamlite bench: servo {args.resource!r}, gRPC {args.address}, fast path {fast_address}, "
          f"{seconds:g} s per measurement\n")
    rows = []
    try:
        for _ in range(args.rounds):  # alternate, so a noisy neighbour hurts both alike
            rows.append(("gRPC", sequential(move, get, seconds)))
            rows.append(("fast path", sequential(lambda a: fp.call(handle, 10, a), lambda: fp.call(handle, 11),
                                                 seconds)))
        close()
        print("sequential round trips (Move, GetPosition alternating; each call timed)")
        print(f"  {'transport':<10} {'calls/s':>9} {'p50 us':>8} {'p99 us':>8}")
        best: dict[str, dict[str, float]] = {}
        for label, r in rows:
            print(f"  {label:<10} {r['rate']:>9,.0f} {r['p50']:>8.0f} {r['p99']:>8.0f}")
            if label not in best or r["rate"] > best[label]["rate"]:
                best[label] = r
        ratio = best["fast path"]["rate"] / best["gRPC"]["rate"]
        print(f"  fast path / gRPC: {ratio:.1f}x calls/s (best round of each), p99 "
              f"{best['fast path']['p99']:.0f} us vs {best['gRPC']['p99']:.0f} us\n")
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
    steal1 = _steal()
    stolen = (steal1[0] - steal0[0]) / max(1, steal1[1] - steal0[1])
    print(f"\nCPU time taken by the host (steal) during the run: {stolen:.0%} (high values make every figure noisier)")
    return 0
