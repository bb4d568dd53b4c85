"""The simavr harness (firmware/sim) with its own small AVR programs (firmware/sim/tests)."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import threading
import time

import pytest

from hil.build import BuildError, build_sim, sim_test_program, toolchain_missing
from hil.sim import Simulator, SimulatorError

serial = pytest.importorskip("serial", reason="pyserial is not installed")

_MISSING = toolchain_missing()
if _MISSING and os.environ.get("VIAMLITE_REQUIRE_TOOLCHAIN") != "1":
    pytest.skip(f"AVR toolchain/simavr missing: {_MISSING}", allow_module_level=True)


@pytest.fixture(scope="module")
def programs():
    if _MISSING:
        pytest.fail(f"VIAMLITE_REQUIRE_TOOLCHAIN=1 but {_MISSING}")
    build_sim()
    return {name: sim_test_program(name) for name in ("echo-115200", "echo-1m", "pulses", "probe")}


def _ask(port, request: bytes) -> str:
    """Send a one-byte request to the probe program; its one-line answer."""
    port.write(request)
    line = port.readline()
    assert line.endswith(b"\n"), f"no answer to {request!r} (got {line!r})"
    return line.decode().strip()


def _open_probe(sim):
    """The probe's serial port with its boot banner (printed at start-up) drained."""
    port = serial.Serial(sim.pty, 115200, timeout=2)
    time.sleep(0.05)
    port.reset_input_buffer()
    return port


def _fields(line: str) -> dict[str, int]:
    return {k: int(v) for k, v in (part.split("=") for part in line.split()[1:])}


@pytest.mark.parametrize("baud", [115200, 1000000])
def test_uart_burst_round_trips_without_loss(programs, baud):
    elf = programs["echo-115200" if baud == 115200 else "echo-1m"]
    data = os.urandom(6 * 1024)
    with Simulator(elf) as sim, serial.Serial(sim.pty, baud, timeout=0.05) as port:
        rtts = []
        for i in range(30):
            t = time.perf_counter()
            port.write(bytes([i]))
            got = b""
            deadline = time.monotonic() + 2
            while not got and time.monotonic() < deadline:
                got = port.read(1)
            rtts.append(time.perf_counter() - t)
            assert got == bytes([i])
        received = bytearray()

        def reader():
            deadline = time.monotonic() + 20
            while len(received) < len(data) and time.monotonic() < deadline:
                received.extend(port.read(4096))

        thread = threading.Thread(target=reader)
        thread.start()
        t = time.perf_counter()
        port.write(data)
        thread.join()
        burst_s = time.perf_counter() - t
        pace = sim.pace()
    assert bytes(received) == data
    print(f"\nUART {baud} baud: 1-byte echo round trip median {statistics.median(rtts) * 1e6:.0f} us "
          f"(max {max(rtts) * 1e6:.0f} us); {len(data)} B burst echoed in {burst_s * 1e3:.0f} ms; pace {pace}")


def test_trace_pulse_widths_match_the_program(programs):
    with Simulator(programs["pulses"]) as sim:
        d9 = sim.wait_pulses(9, 7, timeout=10)
        d10 = sim.wait_pulses(10, 5, timeout=10)
        rises = [e for e in sim.edges(9) if e["level"] == 1 and "period_us" in e]
        later = sim.pulses(9, since_t_us=d9[3][0])
    widths = [w for _, w in d9]
    # The program cycles 1000, 1500, 2000 us, one pulse per 20 ms frame.
    start = widths.index(min(widths, key=lambda w: abs(w - 1000)))
    for i, width in enumerate(widths[start:]):
        assert abs(width - (1000, 1500, 2000)[i % 3]) <= 1.0, widths
    assert all(abs(e["period_us"] - 20000) <= 1.0 for e in rises)
    assert all(abs(w - 300) <= 1.0 for _, w in d10)
    assert all(abs((b[0] - b[1]) - (a[0] - a[1]) - 5000) <= 1.0 for a, b in zip(d10, d10[1:]))
    assert later and all(t - w >= d9[3][0] for t, w in later)


def test_injected_millivolts_are_read_by_the_adc(programs):
    with Simulator(programs["probe"]) as sim, _open_probe(sim) as port:
        for channel, mv in ((0, 2500), (3, 1234), (5, 5000), (0, 0)):
            sim.inject_analog(channel, mv)
            value = int(_ask(port, str(channel).encode()).split("=")[1])
            assert abs(value - mv * 1023 / 5000) <= 2, (channel, mv, value)
        with pytest.raises(SimulatorError, match="MILLIVOLTS 0..5000"):
            sim.inject_analog(0, 6000)
        with pytest.raises(SimulatorError, match="CH 0..7"):
            sim.inject_analog(8, 100)


def test_driven_pins_and_wires_are_seen(programs):
    with Simulator(programs["probe"], wires=["13:4", "13:A1"]) as sim, \
            _open_probe(sim) as port:
        sim.drive_pin(5, 1)
        assert _fields(_ask(port, b"p"))["D"] & (1 << 5)
        sim.drive_pin(5, 0)
        assert not _fields(_ask(port, b"p"))["D"] & (1 << 5)
        sim.drive_pin(5, None)
        # D13 (PB5) is wired to D4 (PD4, pin-change counted) and to A1 (ADC channel 1).
        assert _ask(port, b"h") == "D13=1"
        assert _fields(_ask(port, b"p"))["D"] & (1 << 4)
        assert _ask(port, b"1") == "A1=1023"
        assert _ask(port, b"c") == "C=1"
        assert _ask(port, b"l") == "D13=0"
        assert not _fields(_ask(port, b"p"))["D"] & (1 << 4)
        assert _ask(port, b"1") == "A1=0"
        assert _ask(port, b"c") == "C=2"
        with pytest.raises(SimulatorError, match="output of the firmware"):
            sim.drive_pin(13, 1)
        with pytest.raises(SimulatorError, match="wired from pin 13"):
            sim.drive_pin(4, 1)
        with pytest.raises(SimulatorError, match="UART"):
            sim.drive_pin(0, 1)


def test_quadrature_counts_in_both_directions(programs):
    with Simulator(programs["probe"]) as sim, _open_probe(sim) as port:
        sim.drive_pin(2, 0)
        sim.drive_pin(3, 0)
        assert _ask(port, b"q") == "Q=0"
        sim.quadrature(2, 3, 400, 20000)
        assert _ask(port, b"q") == "Q=400"
        sim.quadrature(2, 3, -150, 20000)
        assert _ask(port, b"q") == "Q=250"
        with pytest.raises(SimulatorError, match="non-zero"):
            sim.quadrature(2, 3, 0, 1000)


def test_reset_restarts_the_program_and_keeps_driven_inputs(programs):
    with Simulator(programs["probe"]) as sim, _open_probe(sim) as port:
        sim.drive_pin(6, 1)
        assert _ask(port, b"h") == "D13=1"
        port.reset_input_buffer()
        sim.reset()
        assert port.readline() == b"BOOT mcusr=2\n"  # EXTRF: external reset
        fields = _fields(_ask(port, b"p"))
        assert fields["D"] & (1 << 6) and not fields["B"] & (1 << 5)
        deadline = time.monotonic() + 5.0
        while len(d13 := sim.edges(13)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)  # the trace reaches its file after the next slices run
    # D13 was high when the reset tri-stated it: the trace ends that pulse.
    assert [e["level"] for e in d13] == [1, 0]


def test_pacing_tracks_wall_time(programs):
    with Simulator(programs["pulses"], report_every=0.25) as sim:
        time.sleep(1.0)
        mid = sim.pace()
        t0 = sim.now_us()
        time.sleep(0.3)
        t1 = sim.now_us()
        final = sim.stop()
    print(f"\npace after ~1 s: {mid}\nfinal: {final}")
    assert final["sim_s"] >= mid["sim_s"] > 0
    # Paced, the program (which runs ~4x real time unpaced) never gets ahead of the wall
    # clock; how far a busy host lets it fall behind is a figure, not a check.
    assert final["sim_s"] <= final["wall_s"] + 0.05
    assert t1 > t0


def test_unpaced_run_reports_and_stops_on_stdin_eof(programs):
    binary = build_sim()
    proc = subprocess.run([str(binary), "--speed", "0", "--report-every", "0", str(programs["pulses"])],
                          input="", capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[0]["event"] == "ready" and lines[0]["speed"] == 0 and lines[0]["link"] is None
    assert lines[-1]["event"] == "pace"


def test_bad_arguments_and_commands_get_clear_errors(programs, tmp_path):
    binary = build_sim()
    cases = [
        (["--trace", "-", str(programs["pulses"])], "needs a file path"),
        (["--wire", "13", str(programs["pulses"])], "OUT:IN"),
        (["--wire", "1:5", str(programs["pulses"])], "UART"),
        ([str(tmp_path / "missing.elf")], "make -C firmware"),
    ]
    for args, message in cases:
        proc = subprocess.run([str(binary), *args], input="", capture_output=True, text=True, timeout=10)
        assert proc.returncode != 0 and message in proc.stderr, (args, proc.stderr)
        assert proc.stdout == ""
    with Simulator(programs["pulses"]) as sim:
        with pytest.raises(SimulatorError, match="unknown command"):
            sim._command("fly 3")
        assert os.path.realpath(sim.link) == sim.pty
        with pytest.raises(SimulatorError, match="A leads B"):
            sim._command("quad 2 3 x 100")


def test_build_errors_carry_make_output(monkeypatch, tmp_path):
    import hil.build as build

    (tmp_path / "Makefile").write_text("all:\n\t@echo broken-on-purpose >&2; false\n")
    monkeypatch.setattr(build, "SIM_DIR", tmp_path)
    with pytest.raises(BuildError, match="broken-on-purpose"):
        build.build_sim()
