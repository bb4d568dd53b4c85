"""The committed generated protobuf code matches viamlite/protos."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_generated_code_is_current() -> None:
    pytest.importorskip("grpc_tools", reason="grpcio-tools is a test dependency (pip install -e .[test])")
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "genproto.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_generated_messages_live_in_the_private_pool() -> None:
    from google.protobuf import descriptor_pool

    from viamlite.gen import POOL, servo_pb2

    assert servo_pb2.DESCRIPTOR.pool is POOL
    try:
        descriptor_pool.Default().FindFileByName("component/servo/v1/servo.proto")
        in_default = True
    except KeyError:
        in_default = False
    # the viam-sdk may have registered its own copy; ours must not be that one
    assert not in_default or descriptor_pool.Default().FindFileByName("component/servo/v1/servo.proto") is not servo_pb2.DESCRIPTOR
