"""Time from exec to the REPL's first prompt, in a pseudo-terminal.

    python benchmarks/bench_repl.py [RUNS]

Measures ``viamlite repl ADDRESS`` (against a ``viamlite serve`` of the demo machine started
here) and ``viamlite repl --config demo.json`` (in-process); prints the median of RUNS.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "viamlite" / "demo.json"


def time_to_prompt(args: list[str], home: str) -> float:
    env = {**os.environ, "XDG_DATA_HOME": home, "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}
    start = time.perf_counter()
    child = pexpect.spawn(sys.executable, ["-m", "viamlite.cli", *args], env=env, encoding="utf-8", timeout=30,
                          dimensions=(40, 160))
    child.expect(">>>")
    elapsed = time.perf_counter() - start
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close(force=True)
    return elapsed


def main(runs: int) -> None:
    server = subprocess.Popen([sys.executable, "-m", "viamlite.cli", "serve", "--bind", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        match = None
        while match is None:
            line = server.stdout.readline()
            if not line:
                raise SystemExit("viamlite serve did not start")
            match = re.search(r"on (\S+):(\d+) \(gRPC", line)
        address = f"127.0.0.1:{match.group(2)}"
        with tempfile.TemporaryDirectory() as home:
            for label, args in ((f"repl {address}", ["repl", address]), ("repl --config demo.json",
                                                                          ["repl", "--config", str(DEMO)])):
                times = [time_to_prompt(args, home) for _ in range(runs)]
                print(f"viamlite {label}: exec -> prompt median {statistics.median(times):.3f} s "
                      f"(min {min(times):.3f}, max {max(times):.3f}, {runs} runs)", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
