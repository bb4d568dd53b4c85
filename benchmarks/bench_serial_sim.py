"""The serial plugin on the firmware in the simulator: call latency, pulse accuracy, recovery.

    python benchmarks/bench_serial_sim.py [--baud 115200] [--calls 200]

Builds the firmware and viamlite-sim (hil.build), runs a machine in this process whose
servo and board are the serial models on the simulator's pty, and prints: servo move and
get_position round trips (p50/p99), the traced pulse widths at 0/90/180 degrees against
the expected ones, how long after a board reset the servo pulses again at its last angle
(no call made: the link's keeper does it), and how long after the host stops pinging the
watchdog releases the servo (simulated time, from the trace). Needs the AVR toolchain.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hil.build import build_firmware, toolchain_missing  # noqa: E402
from hil.sim import Simulator  # noqa: E402
from viamlite.components.servo import Servo  # noqa: E402
from viamlite.machine import Machine  # noqa: E402

PIN = 9


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def last_width(sim: Simulator) -> float:
    return statistics.median(w for _, w in sim.pulses(PIN)[-3:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baud", type=int, default=115200, choices=(115200, 500000, 1000000))
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    missing = toolchain_missing()
    if missing:
        sys.exit(f"cannot run the simulator: {missing}")
    with Simulator(build_firmware(args.baud)) as sim:
        attrs = {"port": sim.link or sim.pty, "baud": args.baud, "watchdog_ms": 300}
        config = {"components": [
            {"name": "pan", "api": "rdk:component:servo", "model": "viamlite:serial:servo",
             "attributes": {**attrs, "pin": PIN}},
            {"name": "uno", "api": "rdk:component:board", "model": "viamlite:serial:board", "attributes": attrs}]}
        with Machine.from_config(config) as machine:
            servo = Servo.from_robot(machine, "pan")
            for name, call in (("move", lambda i: servo.move(i % 181)), ("get_position", lambda i: servo.get_position())):
                times = []
                for i in range(args.calls):
                    t0 = time.perf_counter()
                    call(i)
                    times.append(time.perf_counter() - t0)
                times.sort()
                print(f"{name:13s} at {args.baud} baud: p50 {ms(times[len(times) // 2])}, "
                      f"p99 {ms(times[int(len(times) * 0.99)])} ({args.calls} calls)")
            for angle in (0, 90, 180):
                servo.move(angle)
                time.sleep(0.3)
                width = last_width(sim)
                print(f"pulse at {angle:3d} deg: {width:7.2f} us (expected {500 + 2000 * angle / 180:.0f})")
            servo.move(120)
            time.sleep(0.3)
            link = machine["pan"].link
            t0 = time.monotonic()
            sim.reset()
            while link.resets < 1 or link.state != "up":  # no call made: the keeper notices and restores
                if time.monotonic() - t0 > 10:
                    sys.exit("the link did not recover from the reset within 10 s")
                time.sleep(0.001)
            recovered = time.monotonic() - t0
            time.sleep(0.3)
            print(f"board reset -> HELLO again, servo re-attached at 120 deg: {ms(recovered)} wall; "
                  f"pulse then {last_width(sim):.2f} us (expected {500 + 2000 * 120 / 180:.0f})")
            link._stop.set()  # silence the keeper, as a stopped host would be
            link._wake.set()
            link._keeper.join(timeout=2)
            last_call = sim.pulses(PIN)[-1][0]
            time.sleep(1.0)
            pulses = sim.pulses(PIN)
            print(f"watchdog_ms 300: pulses went on for {(pulses[-1][0] - last_call) / 1000:.1f} ms (simulated) "
                  "after the last pulse traced when the keeper stopped (the trace lags up to 50 ms)")


if __name__ == "__main__":
    main()
