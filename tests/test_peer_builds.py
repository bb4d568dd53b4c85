"""The real Viam peers are built from the pinned rdk (``tools/build_peers.py``): both binaries
exist, are current for ``tests/peers/go.mod``, and report that version.

They run here with no network at all (``unshare --net``): the CLI and viam-server reach for the
internet on their own, and these checks need none of it. Skipped when the peers are not built
(or not root); in CI (``VIAMLITE_REQUIRE_TOOLCHAIN=1``) that is a failure instead.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from . import rdk_peers


def offline(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(["unshare", "--net", *argv], capture_output=True, text=True, timeout=60, check=False)


def test_the_build_is_current_for_the_pinned_rdk() -> None:
    rdk_peers.require("viam")
    rdk_peers.require("viam-server")
    check = subprocess.run([sys.executable, str(rdk_peers.ROOT / "tools" / "build_peers.py"), "--check"], check=False)
    assert check.returncode == 0, "the peers were built from another go.mod, go.sum, Go or flags: rebuild them"
    assert rdk_peers.build_tool.peer_dir().name == f"rdk-{rdk_peers.build_tool.rdk_version()}"


def test_the_viam_cli_and_viam_server_report_the_pinned_version() -> None:
    rdk_peers.require("viam")
    rdk_peers.require("viam-server")
    version = rdk_peers.build_tool.rdk_version()
    cli = offline([str(rdk_peers.binary("viam")), "version"])
    assert cli.returncode == 0, cli.stderr
    assert f"Version {version}" in cli.stdout
    server = offline([str(rdk_peers.binary("viam-server")), "-version"])
    assert server.returncode == 0, server.stderr
    assert f'"version":"{version}"' in server.stdout + server.stderr


def test_a_missing_build_is_a_skip_with_its_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("VIAMLITE_PEERS_DIR", str(tmp_path))
    reason = rdk_peers.missing("viam")
    assert reason is not None and "tools/build_peers.py" in reason
