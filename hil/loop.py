"""The control-loop scenario: setpoints out and samples back at a fixed rate.

Each period the host sends one servo setpoint (a fresh sequence number) on a setpoint
stream, and the firmware samples the servo's ``get_state`` (angle, pulse, the last applied
setpoint's sequence number, setpoints applied) at the same rate. From that:

* missed setpoints: sent but never applied (the firmware counts what it applied);
* missed samples: gaps in the samples' sequence numbers;
* latency of setpoint k: from sending it to receiving the first sample that shows a
  setpoint at or after k applied. It spans the serial line both ways, the firmware's
  handling and up to one sampling period.
* send lateness: how late the host's own sends were against their deadlines.
"""
from __future__ import annotations

import math
import statistics
import threading
import time
from typing import Any


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = math.ceil(q / 100.0 * len(ordered))
    return ordered[max(0, min(len(ordered), rank) - 1)]


def run_loop(fw: Any, servo: str, *, rate_hz: float = 1000.0, seconds: float = 5.0,
             deadman_ms: int = 250) -> dict[str, Any]:
    """Run the loop on ``servo`` (attached already) and return its figures."""
    handle = fw.resolve(servo, "servo")
    period = 1.0 / rate_hz
    count = int(rate_hz * seconds)
    sent_at = [0.0] * (count + 1)
    samples: list[tuple[float, int, int]] = []  # (received, sample seq, applied setpoint seq)
    lock = threading.Lock()

    def on_sample(sample: Any) -> None:
        now = time.perf_counter()
        with lock:
            samples.append((now, sample.seq, sample.value[2]))

    lateness: list[float] = []
    with fw.setpoints(handle, "move", timeout=deadman_ms / 1000.0) as stream:
        sub = fw.subscribe(handle, "get_state", rate_hz=rate_hz, callback=on_sample)
        time.sleep(0.05)
        start = time.perf_counter()
        for k in range(1, count + 1):
            due = start + k * period
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            now = time.perf_counter()
            lateness.append(now - due)
            sent_at[k] = now
            stream.send(k % 181)
        time.sleep(max(0.05, 20 * period))
        sub.close()
        events = list(stream.events)
    state = fw.call(handle, "get_state")
    with lock:
        got = list(samples)

    latencies = []
    k = 1
    for received, _, applied in got:
        while k <= count and applied >= k:
            if received >= sent_at[k] > 0:
                latencies.append((received - sent_at[k]) * 1e3)
            k += 1
    seqs = sorted(seq for _, seq, _ in got)
    missed_samples = (seqs[-1] - seqs[0] + 1 - len(set(seqs))) if seqs else 0
    return {
        "rate_hz": rate_hz,
        "seconds": seconds,
        "setpoints_sent": count,
        "setpoints_applied": state[3],   # the firmware counts them per stream
        "missed_setpoints": count - state[3],
        "samples_received": len(got),
        "samples_expected": (seqs[-1] - seqs[0] + 1) if seqs else 0,
        "missed_samples": missed_samples,
        "deadman_ms": deadman_ms,
        "deadman_events": len(events),
        "latency_ms": {
            "p50": round(percentile(latencies, 50), 3),
            "p90": round(percentile(latencies, 90), 3),
            "p99": round(percentile(latencies, 99), 3),
            "max": round(max(latencies), 3) if latencies else 0.0,
            "mean": round(statistics.fmean(latencies), 3) if latencies else 0.0,
            "count": len(latencies),
        },
        "send_late_ms": {"p50": round(percentile(lateness, 50) * 1e3, 3),
                         "p99": round(percentile(lateness, 99) * 1e3, 3),
                         "max": round(max(lateness) * 1e3, 3) if lateness else 0.0},
    }
