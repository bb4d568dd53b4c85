"""Run a firmware ELF in viamlite-sim: its pty, control commands, pace and pin trace."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from hil.build import build_sim


class SimulatorError(RuntimeError):
    """The harness refused a command, failed to start, or its MCU crashed."""


class Simulator:
    """viamlite-sim running one firmware; a context manager.

    `pty` is the serial device the firmware's UART0 is on. Edges of output pins go to a
    trace file in a temp dir, read back by `pulses()`/`wait_pulses()`.
    """

    def __init__(self, elf, *, speed: float = 1.0, wires=(), report_every: float = 1.0,
                 trace: bool = True, pty_link=None, binary=None, startup_timeout: float = 15.0):
        self.elf = Path(elf)
        self.speed = speed
        self.wires = [w if isinstance(w, str) else f"{w[0]}:{w[1]}" for w in wires]
        self.report_every = report_every
        self.trace = trace
        self.pty_link = pty_link
        self.binary = Path(binary) if binary else None
        self.startup_timeout = startup_timeout
        self.ready: dict | None = None
        self.pty: str | None = None
        self.link: str | None = None
        self.trace_path: Path | None = None
        self.returncode: int | None = None
        self.final_pace: dict | None = None
        self._proc: subprocess.Popen | None = None
        self._tmp: str | None = None
        self._replies: queue.Queue = queue.Queue()
        self._cond = threading.Condition()
        self._paces: list[dict] = []
        self._quads_done: list[dict] = []
        self._reader: threading.Thread | None = None
        self._cmd_lock = threading.Lock()
        self._trace_pos = 0
        self._trace_partial = b""
        self._edges: list[dict] = []
        self._stderr_path: Path | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> "Simulator":
        if self._proc:
            return self
        binary = self.binary or build_sim()
        if not self.elf.exists():
            raise SimulatorError(f"firmware {self.elf} does not exist; build it first (hil.build.build_firmware)")
        self._tmp = tempfile.mkdtemp(prefix="viamlite-sim-")
        cmd = [str(binary), "--speed", str(self.speed), "--report-every", str(self.report_every)]
        if self.trace:
            self.trace_path = Path(self._tmp) / "trace.jsonl"
            cmd += ["--trace", str(self.trace_path)]
        cmd += ["--pty-link", str(self.pty_link or Path(self._tmp) / "uart0")]
        for wire in self.wires:
            cmd += ["--wire", wire]
        cmd.append(str(self.elf))
        self._stderr_path = Path(self._tmp) / "stderr.log"
        with open(self._stderr_path, "wb") as err:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                          stderr=err, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read_stdout, name="viamlite-sim-stdout", daemon=True)
        self._reader.start()
        deadline = time.monotonic() + self.startup_timeout
        with self._cond:
            while self.ready is None and self._proc.poll() is None and time.monotonic() < deadline:
                self._cond.wait(0.05)
        if self.ready is None:
            self._kill()
            reason = self._stderr_tail() or "no output"
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise SimulatorError(f"viamlite-sim did not become ready: {reason}")
        self.pty = self.ready["pty"]
        self.link = self.ready.get("link")
        return self

    def stop(self, timeout: float = 10.0) -> dict | None:
        """Quit the harness and return its final pace report; raises if the MCU crashed."""
        proc = self._proc
        if proc is None or self.returncode is not None:
            return self.final_pace
        try:
            proc.stdin.write("quit\n")
            proc.stdin.flush()
            proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
        if self._reader:
            self._reader.join(5)
        self.returncode = proc.returncode
        with self._cond:
            self.final_pace = self._paces[-1] if self._paces else None
        stderr = self._stderr_tail()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
        if self.returncode not in (0, None):
            raise SimulatorError(f"viamlite-sim exited with {self.returncode}: {stderr or 'no reason given'}")
        return self.final_pace

    def _kill(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.stop()
        except SimulatorError:
            if exc_type is None:
                raise

    # -- stdout events and commands ----------------------------------------------------

    def _read_stdout(self) -> None:
        for line in self._proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.get("event")
            with self._cond:
                if kind == "ready":
                    self.ready = event
                elif kind == "pace":
                    self._paces.append(event)
                    if "cmd" in event:  # the answer to a `pace` command, not a periodic report
                        self._replies.put(event)
                elif kind in ("ok", "error"):
                    self._replies.put(event)
                elif kind == "quad_done":
                    self._quads_done.append(event)
                self._cond.notify_all()
        with self._cond:
            self._replies.put(None)
            self._cond.notify_all()

    def _stderr_tail(self) -> str:
        try:
            text = self._stderr_path.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""
        lines = [ln for ln in text.splitlines() if ln.startswith("viamlite-sim")] or text.splitlines()
        return "\n".join(lines[-5:])

    def _command(self, line: str, timeout: float = 10.0) -> dict:
        if self._proc is None or self._proc.poll() is not None:
            raise SimulatorError(f"simulator is not running: {self._stderr_tail() or 'not started'}")
        with self._cmd_lock:
            try:
                self._proc.stdin.write(line + "\n")
                self._proc.stdin.flush()
            except (BrokenPipeError, OSError) as e:
                raise SimulatorError(f"simulator stopped: {self._stderr_tail() or e}") from e
            try:
                reply = self._replies.get(timeout=timeout)
            except queue.Empty:
                raise SimulatorError(f"no reply from viamlite-sim to {line!r} within {timeout} s") from None
        if reply is None:
            raise SimulatorError(f"simulator stopped: {self._stderr_tail() or 'exited'}")
        if reply.get("event") == "error":
            raise SimulatorError(reply.get("error", "error"))
        return reply

    def inject_analog(self, channel: int, millivolts: int) -> None:
        """Set the voltage the ADC reads on channel 0..7 (A0..A5 = 0..5)."""
        self._command(f"adc {int(channel)} {int(millivolts)}")

    def drive_pin(self, pin: int, level) -> None:
        """Drive input pin 2..19 high/low from outside; None releases it."""
        value = "z" if level is None else ("1" if level else "0")
        self._command(f"pin {int(pin)} {value}")

    def quadrature(self, pin_a: int, pin_b: int, steps: int, rate_hz: float, *,
                   wait: bool = True, timeout: float | None = None) -> None:
        """Feed |steps| quadrature transitions (x4 counts; + means A leads B) at rate_hz."""
        with self._cond:
            done_before = len(self._quads_done)
        self._command(f"quad {int(pin_a)} {int(pin_b)} {int(steps)} {float(rate_hz)}")
        if not wait:
            return
        limit = timeout if timeout is not None else 5.0 + 3.0 * abs(steps) / rate_hz / max(self.speed, 0.01)
        deadline = time.monotonic() + limit
        with self._cond:
            while not any(q["pin_a"] == pin_a and q["pin_b"] == pin_b
                          for q in self._quads_done[done_before:]):
                left = deadline - time.monotonic()
                if left <= 0 or self._proc.poll() is not None:
                    raise SimulatorError(f"quadrature on pins {pin_a},{pin_b} did not finish within {limit:.1f} s")
                self._cond.wait(min(left, 0.1))

    def reset(self) -> None:
        """External reset of the MCU (the reset button)."""
        self._command("reset")

    def pace(self) -> dict:
        """A pace report now: sim_s, wall_s, ratio, lag_max_us, lag_p99_us, behind_ms, t_us."""
        return self._command("pace")

    def now_us(self) -> float:
        """Current simulated time in microseconds (latest known once stopped)."""
        if self._proc is not None and self._proc.poll() is None:
            return float(self.pace()["t_us"])
        with self._cond:
            times = [p["t_us"] for p in self._paces]
        edges = self.edges()
        if edges:
            times.append(edges[-1]["t_us"])
        return max(times, default=0.0)

    # -- trace -----------------------------------------------------------------------

    def edges(self, pin: int | None = None) -> list[dict]:
        """Edges from the trace so far (all pins or one), oldest first."""
        if self.trace_path is None:
            raise SimulatorError("this Simulator was started with trace=False")
        try:
            with open(self.trace_path, "rb") as f:
                f.seek(self._trace_pos)
                chunk = f.read()
        except FileNotFoundError:
            chunk = b""
        self._trace_pos += len(chunk)
        data = self._trace_partial + chunk
        lines = data.split(b"\n")
        self._trace_partial = lines.pop()
        self._edges.extend(json.loads(line) for line in lines if line.strip())
        if pin is None:
            return list(self._edges)
        return [e for e in self._edges if e["pin"] == pin]

    def pulses(self, pin: int, since_t_us: float | None = None) -> list[tuple[float, float]]:
        """Complete HIGH pulses on an output pin: (t_us of the falling edge, pulse_us)."""
        return [(e["t_us"], e["pulse_us"]) for e in self.edges(pin)
                if e["level"] == 0 and "pulse_us" in e
                and (since_t_us is None or e["t_us"] - e["pulse_us"] >= since_t_us)]

    def wait_pulses(self, pin: int, count: int, timeout: float = 5.0,
                    since_t_us: float | None = None) -> list[tuple[float, float]]:
        """Wait until `count` pulses (since since_t_us) were traced on pin; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.pulses(pin, since_t_us)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise SimulatorError(f"saw {len(found)} of {count} pulses on pin {pin} within {timeout} s")
            if self._proc is not None and self._proc.poll() is not None:
                raise SimulatorError(f"simulator stopped: {self._stderr_tail() or 'exited'}")
            time.sleep(0.02)
