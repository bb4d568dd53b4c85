"""``module build``: ``build local`` runs meta.json's steps here; ``build start|list|logs``
through BuildService on a real ``viamlite fleet serve``: refused unless it runs with
``--build-runner``, and with it the module's repository is cloned, built on the fleet host and
the artifact uploaded as the version."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")

from tests.fleetpeer import FleetProcess, fleet_init
from tests.test_cloud_commands_e2e import Cli

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.timeout(240),
              pytest.mark.skipif(shutil.which("git") is None or shutil.which("bash") is None,
                                 reason="needs git and bash")]


def _repo(path: Path, meta: dict) -> None:
    path.mkdir()
    shutil.copy2(ROOT / "tests" / "modules" / "sensor_module.py", path / "sensor_module.py")
    (path / "meta.json").write_text(json.dumps(meta))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=path, check=True)
    subprocess.run([*git, "add", "."], cwd=path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "module"], cwd=path, check=True)


@pytest.mark.parametrize("runner", [False, True], ids=["off", "build-runner"])
def test_module_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: bool) -> None:
    from viamlite_plugins.fleet.service.builds import host_platform

    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    owner = fleet_init(url)
    fleet = FleetProcess(url, home=tmp_path / "fleet-home", extra=("--build-runner",) if runner else ())
    try:
        cli = Cli(tmp_path / "cli-home", monkeypatch)
        cli("--base-url", fleet.base_url, "login", "api-key", "--key-id", owner.api_key_id, "--key", owner.api_key)
        draft = tmp_path / "draft.json"
        cli("module", "create", "--name", "built", "--org-id", owner.organization_id, "--output", str(draft))
        meta = json.loads(draft.read_text())
        repo = tmp_path / "repo"
        meta.update(url=str(repo), entrypoint="sensor_module.py",
                    models=[{"api": "rdk:component:sensor", "model": "viamlite-test:sensor:counter"}],
                    build={"setup": "echo setting up", "build": "tar czf module.tar.gz sensor_module.py",
                           "path": "module.tar.gz"})
        _repo(repo, meta)
        meta_path = str(repo / "meta.json")
        cli("module", "update", "--module", meta_path)

        # build local: the steps, here
        out = cli("module", "build", "local", "--module", meta_path).stdout
        assert "Running: echo setting up" in out and (repo / "module.tar.gz").is_file()

        if not runner:
            line = cli.refused("module", "build", "start", "--module", meta_path, "--version", "1.1.0")
            assert "runs no builds" in line and "--build-runner" in line
            return
        out = cli("module", "build", "start", "--module", meta_path, "--version", "1.1.0", "--wait").stdout
        assert "setting up" in out and f"{host_platform()}: done" in out, out
        build_id = out.splitlines()[0].split(": ")[1]
        jobs = cli.json("module", "build", "list", "--module", meta_path)
        assert [(j["id"], j["version"], j["status"], j["platform"]) for j in jobs] == [
            (build_id, "1.1.0", "done", host_platform())]
        logs = cli("module", "build", "logs", "--id", build_id).stdout
        assert "uploaded module.tar.gz" in logs
        # a platform the host cannot build for fails, saying so
        out = cli("module", "build", "start", "--module", meta_path, "--version", "1.2.0", "--platforms",
                  "plan9/mips", "--wait", ok=False)
        assert out.returncode == 1 and "builds for" in out.stdout and "failed" in out.stderr
        # what the build made is the module's version 1.1.0
        listed = cli("module", "upload", "--version", "1.1.0", "--platform", host_platform(), "--module", meta_path,
                     str(repo / "module.tar.gz"), ok=False)
        assert "uploaded already" in listed.stderr
    finally:
        fleet.stop()
