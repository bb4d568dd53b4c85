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
    from viamlite.gen import POOL, servo_pb2

    assert servo_pb2.DESCRIPTOR.pool is POOL


def test_viam_sdk_and_viamlite_messages_coexist_in_one_process() -> None:
    """The viam-sdk registers the same file names and message names in the default pool."""
    sdk = pytest.importorskip("viam.gen.component.servo.v1.servo_pb2", reason="needs the viam-sdk test dependency")
    from viamlite.gen import servo_pb2

    ours = servo_pb2.MoveRequest(name="s", angle_deg=42)
    theirs = sdk.MoveRequest.FromString(ours.SerializeToString())
    assert (theirs.name, theirs.angle_deg) == ("s", 42)
    assert type(theirs) is not type(ours)
