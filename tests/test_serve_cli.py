"""``viamlite serve`` as users run it: exit codes, one-line errors, signals, live config edits."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc

from viamlite.gen import motor_pb2, robot_pb2

from .conftest import ServeProcess, write_config


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "viamlite.cli", *args], capture_output=True, text=True, timeout=timeout)


def names(address: str) -> set[str]:
    with grpc.insecure_channel(address) as channel:
        reply = channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames")(b"", timeout=5)
    return {r.name for r in robot_pb2.ResourceNamesResponse.FromString(reply).resources}


def test_version() -> None:
    out = run_cli("version")
    assert out.returncode == 0 and out.stdout.startswith("viamlite ")


def test_config_error_exits_2_with_one_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"components": [{"name": "s1", "api": "rdk:component:servo", "model": "warp-drive"}]})
    out = run_cli("serve", "--config", str(path), "--bind", "127.0.0.1:0")
    assert out.returncode == 2
    lines = [line for line in out.stderr.splitlines() if "config error" in line]
    assert len(lines) == 1 and "Traceback" not in out.stderr
    line = lines[0]
    assert str(path) in line and "components[0].model" in line and "warp-drive" in line
    assert "fake" in line, "an unknown model lists the models available for its API"


def test_invalid_json_and_missing_file_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    out = run_cli("serve", "--config", str(bad))
    assert out.returncode == 2 and "invalid JSON" in out.stderr
    out = run_cli("serve", "--config", str(tmp_path / "nope.json"))
    assert out.returncode == 2 and "file not found" in out.stderr
    out = run_cli("serve", "--bind", "nonsense")
    assert out.returncode == 2 and "--bind" in out.stderr


def test_port_in_use_exits_1(demo_server: ServeProcess) -> None:
    out = run_cli("serve", "--bind", demo_server.address)
    assert out.returncode == 1
    assert demo_server.address in out.stderr and "in use" in out.stderr


def test_banner_lists_resources(demo_server: ServeProcess) -> None:
    banner = "".join(demo_server.banner)
    assert "embedded demo machine" in banner and demo_server.address in banner


def test_sigterm_stops_actuators_then_closes(tmp_path: Path) -> None:
    config = {"components": [{"name": "m1", "api": "rdk:component:motor", "model": "fake"}]}
    proc = ServeProcess(["--bind", "127.0.0.1:0", "--config", str(write_config(tmp_path, config))])
    with grpc.insecure_channel(proc.address) as channel:
        channel.unary_unary("/viam.component.motor.v1.MotorService/SetRPM")(
            motor_pb2.SetRPMRequest(name="m1", rpm=30).SerializeToString(), timeout=5)
    code, out, err = proc.stop(signal.SIGTERM)
    assert code == 0
    assert "every actuator stopped and every resource closed" in out
    stopped, closed = err.find("stopped rdk:component:motor/m1"), err.find("closed rdk:component:motor/m1")
    assert 0 <= stopped < closed


def test_config_edits_apply_live_and_bad_edits_keep_last_good(tmp_path: Path) -> None:
    servo = {"name": "s1", "api": "rdk:component:servo", "model": "fake"}
    path = write_config(tmp_path, {"components": [servo]})
    proc = ServeProcess(["--bind", "127.0.0.1:0", "--config", str(path)])
    try:
        assert names(proc.address) == {"s1"}
        path.write_text(json.dumps({"components": [servo, {**servo, "name": "s2"}]}))
        assert _eventually(lambda: names(proc.address) == {"s1", "s2"})
        path.write_text(json.dumps({"components": [{**servo, "model": "nope"}]}))
        time.sleep(2.5)
        assert names(proc.address) == {"s1", "s2"}
        path.write_text(json.dumps({"components": [{**servo, "name": "s3"}]}))
        assert _eventually(lambda: names(proc.address) == {"s3"})
    finally:
        code, _, err = proc.stop()
    assert code == 0
    assert "config change not applied" in err and "unknown model 'rdk:builtin:nope'" in err


def _eventually(check: Any, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def test_unreadable_tls_files_exit_2(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"network": {"tls_cert_file": str(tmp_path / "no.pem"), "tls_key_file": str(tmp_path / "no.key")}})
    out = run_cli("serve", "--config", str(path), "--bind", "127.0.0.1:0")
    assert out.returncode == 2
    assert "network.tls_cert_file" in out.stderr and "no.pem" in out.stderr
