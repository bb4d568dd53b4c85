"""``viamlite serve`` with the fast path: banner, flags, config block, same resources as gRPC, bench."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc

from viamlite.fastpath.client import FastPathClient
from viamlite.gen import servo_pb2

DEMO_SERVO = {"components": [{"name": "servo1", "api": "rdk:component:servo", "model": "fake"},
                             {"name": "motor1", "api": "rdk:component:motor", "model": "fake"}]}
_BANNER = re.compile(r"^viamlite fast path on (\S+)(?: and (unix:\S+))? ")


def _fastpath_line(proc: Any) -> str:
    line = proc.proc.stdout.readline()
    proc.banner.append(line)
    return line


def _addresses(line: str) -> tuple[str, str | None]:
    match = _BANNER.match(line)
    assert match, f"no fast-path banner line: {line!r}"
    return match.group(1), match.group(2)


def test_banner_and_same_resources_as_grpc(serve: Any) -> None:
    proc = serve(DEMO_SERVO)
    tcp, unix = _addresses(_fastpath_line(proc))
    assert unix is not None and Path(unix[5:]).exists()
    with FastPathClient.connect(tcp) as fp:
        fp.call("servo1", "move", 123)
        channel = grpc.insecure_channel(proc.address)
        get = channel.unary_unary("/viam.component.servo.v1.ServoService/GetPosition",
                                  request_serializer=servo_pb2.GetPositionRequest.SerializeToString,
                                  response_deserializer=servo_pb2.GetPositionResponse.FromString)
        assert get(servo_pb2.GetPositionRequest(name="servo1"), timeout=10).position_deg == 123
        move = channel.unary_unary("/viam.component.servo.v1.ServoService/Move",
                                   request_serializer=servo_pb2.MoveRequest.SerializeToString,
                                   response_deserializer=servo_pb2.MoveResponse.FromString)
        move(servo_pb2.MoveRequest(name="servo1", angle_deg=45), timeout=10)
        channel.close()
        with FastPathClient.connect(unix) as over_unix:
            assert over_unix.call("servo1", "get_position") == 45
    code, out, err = proc.stop()
    assert code == 0
    assert not Path(unix[5:]).exists()  # removed on stop


def test_no_fastpath_flag(serve: Any) -> None:
    proc = serve(DEMO_SERVO, "--no-fastpath")
    assert "fast path" not in _fastpath_line(proc)


def test_config_block_and_flag(serve: Any, tmp_path: Path) -> None:
    sock = tmp_path / "fp.sock"
    proc = serve({**DEMO_SERVO, "fastpath": {"address": "", "unix_socket": str(sock)}})
    line = _fastpath_line(proc)
    assert line.startswith(f"viamlite fast path on unix:{sock} ")
    with FastPathClient.connect(f"unix:{sock}") as fp:
        assert fp.call("servo1", "get_position") == 0
    proc2 = serve({**DEMO_SERVO, "fastpath": {"unix_socket": ""}}, "--fastpath", "127.0.0.1:0")
    tcp, unix = _addresses(_fastpath_line(proc2))
    assert unix is None and tcp.startswith("127.0.0.1:")


def test_bad_config_block_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"components": [], "fastpath": {"address": "nowhere"}}')
    result = subprocess.run([sys.executable, "-m", "viamlite.cli", "serve", "--config", str(path), "--bind",
                             "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "fastpath.address" in result.stderr and "HOST:PORT" in result.stderr


def test_bench_prints_every_figure(serve: Any) -> None:
    proc = serve(DEMO_SERVO)
    tcp, _ = _addresses(_fastpath_line(proc))
    result = subprocess.run([sys.executable, "-m", "viamlite.cli", "bench", "--address", proc.address, "--fastpath",
                             tcp, "--seconds", "0.2", "--subscribe-seconds", "0.5", "--rounds", "1"],
                            capture_output=True, text=True, timeout=60, env={**os.environ})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for needle in ("gRPC", "fast path / gRPC:", "pipelined GetPosition", "1 kHz subscription", "missed",
                   "jitter", "deadman, 100 ms timeout: stop reported", "steal"):
        assert needle in out, f"{needle!r} missing from:\n{out}"
