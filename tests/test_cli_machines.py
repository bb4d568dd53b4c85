"""``viamlite machines part run/status`` against viamlite serve and a viam-sdk server."""
from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys
import time

import pytest

from .peers import SdkServer


def cli(*args: str) -> subprocess.CompletedProcess:
    """Run the command in this process (the streaming test runs a real process)."""
    from viamlite.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


MOVE = "viam.component.servo.v1.ServoService.Move"
GET = "viam.component.servo.v1.ServoService.GetPosition"


@pytest.fixture(scope="module")
def sdk_server():
    server = SdkServer()
    yield server
    server.stop()


@pytest.mark.parametrize("peer", ["viamlite", "sdk"])
def test_part_run_moves_a_servo(peer, demo_server, sdk_server) -> None:
    address = demo_server.address if peer == "viamlite" else sdk_server.address
    moved = cli("machines", "part", "run", "--address", address, "--data", '{"name": "servo1", "angle_deg": 75}', MOVE)
    assert moved.returncode == 0, moved.stderr
    assert json.loads(moved.stdout) == {}
    got = cli("robots", "part", "run", "-a", address, "-d", '{"name": "servo1"}', GET)
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout) == {"positionDeg": 75}


def test_part_run_failures_print_the_status_and_exit_1(demo_server) -> None:
    bad = cli("machines", "part", "run", "-a", demo_server.address, "-d", '{"name": "servo1", "angle_deg": 500}', MOVE)
    assert bad.returncode == 1
    assert "INVALID_ARGUMENT" in bad.stderr and "out of range" in bad.stderr and "Traceback" not in bad.stderr
    missing = cli("machines", "part", "run", "-a", demo_server.address, "viam.component.nope.v1.NopeService.Do")
    assert missing.returncode == 1
    assert "no service 'viam.component.nope.v1.NopeService'" in missing.stderr
    assert "viam.component.servo.v1.ServoService" in missing.stderr  # the services it does have
    no_method = cli("machines", "part", "run", "-a", demo_server.address, "viam.component.servo.v1.ServoService.Fly")
    assert no_method.returncode == 1 and "has no method 'Fly'" in no_method.stderr and "Move" in no_method.stderr
    bad_data = cli("machines", "part", "run", "-a", demo_server.address, "-d", '{"angle": 5}', MOVE)
    assert bad_data.returncode == 2 and "viam.component.servo.v1.MoveRequest" in bad_data.stderr


def test_part_run_streams_until_ctrl_c(demo_server) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "viamlite.cli", "machines", "part", "run", "-a",
                             demo_server.address, "--stream", "100ms", "-d", '{"name": "servo1"}', GET],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 15
    assert proc.stdout is not None
    while len(lines) < 3 and time.monotonic() < deadline:
        lines.append(proc.stdout.readline())
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert all("positionDeg" in json.loads(line) for line in lines)


def test_part_run_stream_stops_at_the_first_error(demo_server) -> None:
    result = cli("machines", "part", "run", "-a", demo_server.address, "--stream", "50ms",
                 "-d", '{"name": "servo9"}', GET)
    assert result.returncode == 1 and "NOT_FOUND" in result.stderr and result.stdout == ""


def test_part_status(demo_server, sdk_server) -> None:
    text = cli("machines", "part", "status", "--address", demo_server.address)
    assert text.returncode == 0, text.stderr
    assert "running" in text.stdout and "servo1" in text.stdout and "ready" in text.stdout
    as_json = json.loads(cli("machines", "part", "status", "-a", demo_server.address, "--json").stdout)
    assert {r["name"]: r["state"] for r in as_json["resources"]}["motor1"] == "ready"
    sdk = json.loads(cli("machines", "part", "status", "-a", sdk_server.address, "--json").stdout)
    assert sdk["version"] is None and [r["name"] for r in sdk["resources"]] == ["servo1"]


def test_version() -> None:
    from viamlite import __version__

    assert cli("version").stdout.strip() == f"viamlite {__version__}"
