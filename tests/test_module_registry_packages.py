"""A machine's packages on disk: checked before they run (checksum, members inside the
folder, an executable entrypoint), unpacked whole or not at all, and found again offline."""
from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from viamlite.config import ModuleConfig


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return out.getvalue()


def _file(name: str, data: bytes = b"#!/bin/sh\n", mode: int = 0o755) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mode = mode
    return info, data


def _link(name: str, target: str) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info, b""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIAMLITE_HOME", str(tmp_path))
    return tmp_path


def test_a_good_package_is_unpacked_and_found_again(home: Path) -> None:
    from viamlite_plugins.cloud.member import packages

    data = _tar([_file("bin/run"), _file("lib/x.py", b"x = 1\n", 0o644)])
    path = packages.unpack(data, "acme:sensors", "1.0.0", "bin/run",
                           checksum="sha256:" + hashlib.sha256(data).hexdigest(), platform="linux/amd64")
    assert path == (home / "packages" / "acme:sensors" / "1.0.0" / "bin" / "run").resolve()
    assert os.access(path, os.X_OK)
    assert packages.on_disk("acme:sensors", "1.0.0") == path
    packages.unpack(_tar([_file("bin/run")]), "acme:sensors", "1.10.0", "bin/run")
    packages.unpack(_tar([_file("bin/run")]), "acme:sensors", "1.9.0", "bin/run")
    assert packages.on_disk("acme:sensors", "latest").parts[-3] == "1.10.0"  # semantic order, not text order
    assert packages.on_disk("acme:sensors", "2.0.0") is None
    # nothing half-unpacked is left beside the versions
    assert sorted(p.name for p in (home / "packages" / "acme:sensors").iterdir()) == ["1.0.0", "1.10.0", "1.9.0"]


@pytest.mark.parametrize("members, entrypoint, refusal", [
    ([_file("../escape")], "run", "is refused"),
    ([_file("/abs/run")], "run", "is refused"),
    ([_file("run"), _link("out", "/etc/passwd")], "run", "is refused"),
    ([_file("run", mode=0o644)], "run", "is not executable"),
    ([_file("other")], "run", "has no entrypoint 'run'"),
    ([_file("run")], "../run", "outside the package"),
    ([_file("run")], "", "names no entrypoint"),
])
def test_a_bad_package_is_refused_and_leaves_nothing(home: Path, members: list, entrypoint: str,
                                                     refusal: str) -> None:
    from viamlite_plugins.cloud.member import packages

    with pytest.raises(packages.PackageError, match=refusal):
        packages.unpack(_tar(members), "acme:bad", "1.0.0", entrypoint)
    assert not (home / "escape").exists()
    assert list((home / "packages" / "acme:bad").iterdir()) == []


def test_a_damaged_or_unreadable_package_is_refused(home: Path) -> None:
    from viamlite_plugins.cloud.member import packages

    data = _tar([_file("run")])
    with pytest.raises(packages.PackageError, match="does not match its checksum"):
        packages.unpack(data, "acme:s", "1.0.0", "run", checksum="sha256:" + "0" * 64)
    with pytest.raises(packages.PackageError, match="not a .tar.gz"):
        packages.unpack(b"not a tar", "acme:s", "1.0.0", "run")
    with pytest.raises(packages.PackageError, match="cannot name a folder"):
        packages.unpack(data, "acme/../s", "1.0.0", "run")


def test_the_hook_runs_a_package_from_disk_and_says_what_is_missing(home: Path) -> None:
    from viamlite_plugins.cloud.member import packages

    class NoFleet:
        config = type("C", (), {"cloud": None})()

    entry = ModuleConfig(name="s", type="registry", module_id="acme:s", version="1.0.0")
    with pytest.raises(RuntimeError, match="not on this machine .* no fleet to fetch it from"):
        packages.executable(entry, NoFleet())
    packages.unpack(_tar([_file("run")]), "acme:s", "1.0.0", "run")
    assert packages.executable(entry, NoFleet()).endswith("1.0.0/run")
    latest = ModuleConfig(name="s", type="registry", module_id="acme:s", version="")
    assert packages.executable(latest, NoFleet()).endswith("1.0.0/run")
    assert packages.executable(ModuleConfig(name="l", executable_path="/bin/true"), NoFleet()) is None


def test_the_platform_is_spelled_as_the_registry_spells_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from viamlite_plugins.cloud.member import packages

    for machine, want in (("x86_64", "linux/amd64"), ("aarch64", "linux/arm64"), ("armv7l", "linux/arm"),
                          ("armv6l", "linux/arm")):
        monkeypatch.setattr(packages._platform, "machine", lambda m=machine: m)
        monkeypatch.setattr(packages._platform, "system", lambda: "Linux")
        assert packages.this_platform() == want
