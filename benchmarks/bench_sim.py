"""viamlite-sim figures: UART echo round trips through the pty, and pacing.

    python benchmarks/bench_sim.py [ROUND_TRIPS]

For each baud (115200 and 1000000, the harness's echo test programs) prints the median
and p90 round trip of a 1-byte and a 16-byte echo, then the harness's pace report
(ratio of simulated to wall time, lag max/p99, how far behind). Then 2 s of the
timer-ISR pulse program, paced, and the same program unpaced (--speed 0) to show the
headroom this machine has.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import serial  # noqa: E402

from hil.build import build_sim, sim_test_program  # noqa: E402
from hil.sim import Simulator  # noqa: E402


def round_trips(port, size: int, runs: int) -> list[float]:
    times = []
    for i in range(runs):
        data = bytes((i + k) & 0xFF for k in range(size))
        t = time.perf_counter()
        port.write(data)
        got = b""
        while len(got) < size:
            got += port.read(size - len(got))
        times.append(time.perf_counter() - t)
        assert got == data
    return times


def fmt(times: list[float]) -> str:
    times = sorted(times)
    return f"median {statistics.median(times) * 1e6:6.0f} us  p90 {times[int(len(times) * 0.9)] * 1e6:6.0f} us"


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for baud, name in ((115200, "echo-115200"), (1000000, "echo-1m")):
        with Simulator(sim_test_program(name)) as sim, serial.Serial(sim.pty, baud, timeout=2) as port:
            one = round_trips(port, 1, runs)
            sixteen = round_trips(port, 16, runs)
            pace = sim.pace()
        print(f"{baud:>7} baud  1 B: {fmt(one)}   16 B: {fmt(sixteen)}")
        print(f"{'':>13}pace {pace}")
    with Simulator(sim_test_program("pulses")) as sim:
        time.sleep(2)
        print(f"pulses, paced 2 s: {sim.stop()}")
    proc = subprocess.Popen([str(build_sim()), "--speed", "0", "--report-every", "0",
                             str(sim_test_program("pulses"))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    time.sleep(2)
    out, _ = proc.communicate("quit\n", timeout=30)
    print(f"pulses, unpaced 2 s: {out.splitlines()[-1]}")


if __name__ == "__main__":
    main()
