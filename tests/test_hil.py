"""The HIL rig: rig files, the loop's statistics, and the scenarios run on the simulator.

The scenario runs start ``python -m pytest -p hil.plugin hil/scenarios --rig ...`` as a
HIL rig user would, then check its JSON record and JUnit XML.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from hil.build import toolchain_missing
from hil.loop import percentile
from hil.rig import RigError, load_rig

ROOT = Path(__file__).resolve().parent.parent
RIGS = ROOT / "hil" / "rigs"


def _needs_toolchain() -> None:
    missing = toolchain_missing()
    if missing:
        if os.environ.get("VIAMLITE_REQUIRE_TOOLCHAIN") == "1":
            pytest.fail(f"the AVR toolchain is required here: {missing}")
        pytest.skip(missing)


def test_bundled_rig_files_load() -> None:
    names = {load_rig(path).name for path in RIGS.glob("*.json")}
    assert {"sim", "serial", "serial-sim"} <= names
    serial = load_rig(RIGS / "serial.json")
    assert serial.kind == "serial" and serial.port.startswith("/dev/")
    assert serial["wires"]["pulse_probe"] == [9, 8]


@pytest.mark.parametrize("body, words", [
    ({"kind": "board"}, '"kind" must be "sim" or "serial"'),
    ({"kind": "serial"}, 'a serial rig needs "port"'),
    ({"kind": "serial", "port": "/dev/ttyACM0"}, "needs wires.pulse_probe"),
    ({"kind": "sim", "servos": {}}, "unknown keys servos"),
])
def test_bad_rig_files_say_what_is_wrong(tmp_path: Path, body: dict, words: str) -> None:
    path = tmp_path / "rig.json"
    path.write_text(json.dumps(body))
    with pytest.raises(RigError, match=words):
        load_rig(path)


def test_percentile_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([], 50) == 0.0


def _run_rig(rig: str, out: Path) -> tuple[dict, ET.Element, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "hil.plugin", "hil/scenarios", "--rig", str(RIGS / rig),
         "--hil-out", str(out), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=540)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    record = json.loads((out / "record.json").read_text())
    junit = ET.parse(out / "junit.xml").getroot()
    return record, junit, output


@pytest.mark.timeout(600)
@pytest.mark.parametrize("rig", ["sim.json", "serial-sim.json"])
def test_scenarios_on_the_simulator(tmp_path: Path, rig: str) -> None:
    _needs_toolchain()
    record, junit, output = _run_rig(rig, tmp_path)
    scenarios = record["scenarios"]
    assert record["summary"]["failed"] == 0 and record["summary"]["passed"] == len(scenarios) >= 9, output[-3000:]
    suite = junit if junit.tag == "testsuite" else junit.find("testsuite")
    assert int(suite.get("tests")) == len(scenarios) and int(suite.get("failures")) == 0
    loop = next(s["figures"] for name, s in scenarios.items() if "loop_1khz" in name)
    sweep = next(s["figures"] for name, s in scenarios.items() if "servo_sweep" in name)
    assert sweep["worst_error_us"] <= 10.0
    assert record["firmware"]["version"] == 1
    if rig == "sim.json":
        pace = record["rig"]["simulator"]
        assert pace["sim_s"] <= pace["wall_s"] + 0.05  # paced: never ahead of the wall clock
    print(f"\n{rig}: loop {json.dumps(loop)}\nsweep {json.dumps(sweep)}\nrig {json.dumps(record['rig'])}")
