"""The ``viamlite bench`` command, registered as a built-in plugin."""
from __future__ import annotations

import argparse

from viamlite.hookspecs import hookimpl


@hookimpl
def viamlite_register_commands(subparsers: argparse._SubParsersAction) -> None:
    bench = subparsers.add_parser(
        "bench", help="measure the msgpack fast path against gRPC and the host's floor on a running machine",
        description="Against a running `viamlite serve`: sequential servo Move + GetPosition round trips over gRPC "
                    "and over the fast path (p50, p99, calls/s, ratio) and, in the same run, a bare blocking-socket "
                    "echo between two processes on this host (the floor for any Python protocol) with the fast "
                    "path's p50 and p99 above it; pipelined fast-path throughput, a 1 kHz subscription (delivered "
                    "rate, missed samples, jitter), the setpoint deadman's stop delay, and the host's CPU steal.")
    bench.add_argument("--address", default="localhost:8080", metavar="HOST:PORT",
                       help="the machine's gRPC address (default localhost:8080)")
    bench.add_argument("--fastpath", metavar="ADDR",
                       help="fast-path address, HOST:PORT or unix:PATH (default: the gRPC host, port + 1)")
    bench.add_argument("--resource", default="servo1", help="the servo to drive (default servo1)")
    bench.add_argument("--seconds", type=float, default=3.0, help="seconds per round-trip measurement (default 3)")
    bench.add_argument("--subscribe-seconds", type=float, default=10.0,
                       help="seconds of the 1 kHz subscription (default 10)")
    bench.add_argument("--rounds", type=int, default=2, help="alternating gRPC / fast-path rounds (default 2)")
    bench.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from viamlite.fastpath.bench import run

    return run(args)
