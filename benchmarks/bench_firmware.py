"""The firmware in the simulator: the 1 kHz control loop, pipelined calls, pulse widths under load.

    python benchmarks/bench_firmware.py [--baud 500000] [--rate 1000] [--seconds 3] [--calls 1000]

Prints one JSON line per measurement. Needs the AVR toolchain and simavr (hil.build says
what is missing). Figures are simulated time unless named wall; the simulator is paced to
the wall clock, so a loaded host shows up as bursts (see the pace line).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baud", type=int, default=500000, choices=(115200, 500000, 1000000))
    parser.add_argument("--rate", type=float, default=1000.0, help="loop rate, Hz")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--calls", type=int, default=1000, help="pipelined get_position calls")
    parser.add_argument("--window", type=int, default=8)
    args = parser.parse_args()

    from hil.build import build_firmware
    from hil.loop import run_loop
    from hil.sim import Simulator
    from viamlite.fastpath.serialport import open_serial

    def emit(**fields: object) -> None:
        print(json.dumps(fields), flush=True)

    with Simulator(build_firmware(args.baud), report_every=3600) as sim:
        fw = open_serial(sim.link or sim.pty, args.baud, timeout=5.0)
        try:
            servo = fw.resolve("servo0")
            fw.call(servo, "attach", 9)
            fw.call(servo, "move", 90)
            fw.call("board", "get_status")  # resets loop_max_us

            start = sim.now_us()
            wall = time.perf_counter()
            fw.pipeline(servo, "get_position", [[]] * args.calls, window=args.window)
            wall = time.perf_counter() - wall
            sim_s = (sim.now_us() - start) / 1e6
            widths = [w for _, w in sim.pulses(9, since_t_us=start)]
            status = fw.call("board", "get_status")
            emit(test="pipelined calls", baud=args.baud, calls=args.calls, window=args.window,
                 calls_per_s=round(args.calls / sim_s), wall_s=round(wall, 3),
                 pulses=len(widths), pulse_min_us=min(widths, default=None), pulse_max_us=max(widths, default=None),
                 **{k: status[k] for k in ("rx_overruns", "rx_dropped", "loop_max_us")})

            fw.call(servo, "move", 0)
            figures = run_loop(fw, "servo0", rate_hz=args.rate, seconds=args.seconds)
            status = fw.call("board", "get_status")
            emit(test="control loop", baud=args.baud, **figures,
                 **{k: status[k] for k in ("rx_overruns", "rx_dropped", "tx_dropped", "samples_skipped",
                                           "loop_max_us")})
            emit(test="pace", **sim.pace())
        finally:
            fw.close()


if __name__ == "__main__":
    main()
