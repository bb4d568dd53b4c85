"""Through the registry, end to end: ``viamlite module create``, ``update`` and ``upload`` of
a viam-sdk module (tests/modules/sensor_module.py, packed from a folder) to a real ``viamlite
fleet serve``; then a fleet member whose config has a ``registry`` module entry fetches the
package for its platform, runs it, and the viam-sdk client reads its sensor; a second
machine with the package cached (the fleet down) starts it from disk."""
from __future__ import annotations

import asyncio
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("viam", reason="needs the viam-sdk test dependency")

from tests.fleetpeer import FleetProcess, fleet_init
from tests.test_cloud_commands_e2e import Cli
from tests.test_cloud_member_e2e import Member, app_client, eventually, robot_at

ROOT = Path(__file__).resolve().parents[1]
MODEL = "viamlite-test:sensor:counter"
KEY_ID, KEY = "0b9e7a52-4c1f-4a57-9d0e-3f2b8c6a1d47", "offlinekey0123456789abcdefghijkl"
pytestmark = pytest.mark.timeout(300)


def _tar(files: dict[str, tuple[bytes, int]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


async def _readings(port: int, key_id: str, key: str) -> Any:
    from viam.components.sensor import Sensor

    robot = await robot_at(f"127.0.0.1:{port}", key_id, key)
    try:
        return await Sensor.from_robot(robot, "s1").get_readings()
    finally:
        await robot.close()


def test_a_module_uploaded_with_the_commands_runs_on_a_member_and_then_offline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from viamlite_plugins.cloud.member.packages import this_platform

    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    owner = fleet_init(url)
    fleet = FleetProcess(url, home=tmp_path / "fleet-home")
    member: Member | None = None
    try:
        cli = Cli(tmp_path / "cli-home", monkeypatch)
        cli("--base-url", fleet.base_url, "login", "api-key", "--key-id", owner.api_key_id, "--key", owner.api_key)
        work = tmp_path / "counter"
        work.mkdir()
        meta_path = work / "meta.json"

        # module create writes meta.json with the id the registry gave
        out = cli("module", "create", "--name", "counter", "--org-id", owner.organization_id,
                  "--output", str(meta_path)).stdout
        meta = json.loads(meta_path.read_text())
        module_id = f"{owner.organization_id}:counter"
        assert meta["module_id"] == module_id and meta["visibility"] == "private" and module_id in out
        assert "exists already" in cli.refused("module", "create", "--name", "counter", "--org-id",
                                               owner.organization_id, "--output", str(meta_path), code=2)
        # a second create of the same name is refused by the registry
        assert "already has a module named 'counter'" in cli.refused(
            "module", "create", "--name", "counter", "--org-id", owner.organization_id,
            "--output", str(tmp_path / "other.json"))

        # module update sends the models and the entrypoint
        meta.update(models=[{"api": "rdk:component:sensor", "model": MODEL}], entrypoint="sensor_module.py",
                    description="a counter sensor")
        meta_path.write_text(json.dumps(meta))
        (work / "README.md").write_text("# counter\n")
        cli("module", "update", "--module", str(meta_path))

        # the upload's checks: a package without the entrypoint, or with it not executable, is refused
        platform = this_platform()
        bad = tmp_path / "bad.tar.gz"
        bad.write_bytes(_tar({"other.py": (b"print()\n", 0o755)}))
        assert "does not hold the entrypoint 'sensor_module.py'" in cli.refused(
            "module", "upload", "--version", "1.0.0", "--platform", platform, "--module", str(meta_path), str(bad),
            code=2)
        bad.write_bytes(_tar({"sensor_module.py": (b"print()\n", 0o644)}))
        assert "is not executable" in cli.refused(
            "module", "upload", "--version", "1.0.0", "--platform", platform, "--module", str(meta_path), str(bad),
            code=2)
        assert "is not a .tar.gz or .tgz" in cli.refused(
            "module", "upload", "--version", "1.0.0", "--platform", platform, "--module", str(meta_path),
            str(meta_path), code=2)
        # a namespace that is not the organization's is refused
        assert "no organization with the public namespace 'someone-else'" in cli.refused(
            "module", "upload", "--version", "1.0.0", "--platform", platform, "--public-namespace", "someone-else",
            "--module", str(meta_path), str(bad))

        # the folder is packed and uploaded
        shutil.copy2(ROOT / "tests" / "modules" / "sensor_module.py", work / "sensor_module.py")
        out = cli("module", "upload", "--version", "1.0.0", "--platform", platform, "--module", str(meta_path),
                  str(work)).stdout
        assert f"Version 1.0.0 of {module_id} for {platform} uploaded" in out

        # a machine in the fleet whose config has the registry entry
        created = cli.json("machines", "create", "--name", "reg-bot", "--location", owner.location_id)
        machine_cfg = tmp_path / "machine.json"
        cli("machines", "part", "cloud-config", "--machine", created["id"], "--output", str(machine_cfg))
        part_id = json.loads(machine_cfg.read_text())["cloud"]["id"]
        part_config = {
            "modules": [{"type": "registry", "name": "counter", "module_id": module_id, "version": "latest"}],
            "components": [{"name": "s1", "api": "rdk:component:sensor", "model": MODEL,
                            "attributes": {"value": 42}}]}

        async def configure() -> None:
            client = await app_client(fleet, owner)
            try:
                part = await client.app_client.get_robot_part(part_id)
                await client.app_client.update_robot_part(part_id, part.name, part_config)
            finally:
                client.close()

        asyncio.run(configure())
        machine_home = tmp_path / "machine-home"
        member = Member(machine_cfg, machine_home)
        _, port, mode = member.banner()
        assert mode == "TLS, API keys", member.output()
        readings = asyncio.run(eventually("the registry module's sensor",
                                          lambda: _readings(port, owner.api_key_id, owner.api_key), timeout=60))
        assert readings["value"] == 42
        unpacked = machine_home / "packages" / module_id / "1.0.0"
        assert (unpacked / "sensor_module.py").is_file() and (unpacked / "meta.json").is_file()
        assert member.wait_line(rf"module {module_id} 1\.0\.0 \({platform}\) fetched from the fleet")
        assert member.stop() == 0
        member = None

        # the fleet goes down; a second machine with the package on disk runs it
        fleet.stop()
        offline_cfg = tmp_path / "offline.json"
        offline_cfg.write_text(json.dumps({**part_config, "modules": [
            {"type": "registry", "name": "counter", "module_id": module_id, "version": "1.0.0"}],
            "auth": {"handlers": [{"type": "api-key", "config": {"keys": [KEY_ID], KEY_ID: KEY}}]}}))
        member = Member(offline_cfg, machine_home)
        _, port, _ = member.banner()
        readings = asyncio.run(eventually("the cached module's sensor, with the fleet down",
                                          lambda: _readings(port, KEY_ID, KEY), timeout=60))
        assert readings["value"] == 42
        assert member.stop() == 0

        # the first machine again, the fleet still down: its cached config's "latest" runs the newest on disk
        member = Member(machine_cfg, machine_home)
        _, port, _ = member.banner()
        readings = asyncio.run(eventually("the member's module from disk, with the fleet down",
                                          lambda: _readings(port, owner.api_key_id, owner.api_key), timeout=60))
        assert readings["value"] == 42
        assert member.wait_line(r"the fleet is unreachable .*running version 1\.0\.0 from disk")
    finally:
        if member is not None:
            member.stop()
        if fleet.proc.poll() is None:
            fleet.stop()
