"""The real Viam CLI (built from rdk, see README 'Real Viam peers') against ``viamlite fleet
serve`` and a ``viamlite serve`` member, command by command as a user types them: login, organizations, locations, machines list and
status, part status and logs, part run, and the module commands (create, update, upload).

The part serves plaintext (the CLI downgrades to plaintext only with an http:// base URL)
and answers the signaling service UNIMPLEMENTED, so ``machines part run`` falls back to
direct gRPC and finds the method by reflection (v1alpha).
"""
from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

from tests import rdk_peers
from tests.fleetpeer import FleetProcess, fleet_init
from tests.test_cloud_member_e2e import SERVO, Member, app_client, eventually, write_member_config


def test_the_viam_cli_drives_the_fleet_and_a_member_part(tmp_path: Path) -> None:
    rdk_peers.require("viam")
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    owner = fleet_init(url, "--organization", "Viam Lab", "--location", "bench")
    fleet = FleetProcess(url, home=tmp_path / "fleet")
    member: Member | None = None
    env = {**os.environ, "HOME": str(tmp_path / "home")}

    def viam(*args: str, cwd: Path | None = None) -> str:
        result = subprocess.run([str(rdk_peers.binary("viam")), *args], capture_output=True, text=True, env=env,
                                timeout=120, cwd=cwd)
        assert result.returncode == 0, f"viam {' '.join(args)} -> {result.returncode}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    async def setup() -> tuple[str, object]:
        viam_client = await app_client(fleet, owner)
        try:
            app = viam_client.app_client
            robot_id = await app.new_robot("rover", owner.location_id)
            part = (await app.get_robot_parts(robot_id))[0]
            await app.update_robot_part(part.id, part.name, {"components": [SERVO]})
            return robot_id, part
        finally:
            viam_client.close()

    async def online(part_id: str) -> str:
        viam_client = await app_client(fleet, owner)
        try:
            async def fqdn() -> str:
                part = await viam_client.app_client.get_robot_part(part_id)
                return part.fqdn

            return await eventually("the member's address on the fleet", fqdn, timeout=60)
        finally:
            viam_client.close()

    try:
        robot_id, part = asyncio.run(asyncio.wait_for(setup(), 60))
        config = tmp_path / "machine.json"
        write_member_config(config, part, fleet)
        member = Member(config, tmp_path / "machine", extra=("--no-tls",))
        member.wait_line(r"built rdk:component:servo/servo1", timeout=60)
        address = asyncio.run(asyncio.wait_for(online(part.id), 90))
        assert address.startswith("127.0.0.1:")

        login = viam("--base-url", fleet.base_url, "login", "api-key", "--key-id", owner.api_key_id,
                     "--key", owner.api_key)
        assert owner.api_key_id in login or "Successfully" in login or login == ""
        assert owner.organization_id in viam("organizations", "list")
        assert owner.location_id in viam("locations", "list")
        machines = viam("machines", "list")
        assert "rover" in machines and robot_id in machines and part.id in machines
        assert part.name in viam("machines", "status", "--machine", robot_id)
        assert part.id in viam("machines", "part", "status", "--part", part.id)
        logs = viam("machines", "part", "logs", "--part", part.id)
        assert "servo1" in logs, logs

        viam("machines", "part", "run", "--part", part.id, "--data", json.dumps({"name": "servo1", "angle_deg": 75}),
             "viam.component.servo.v1.ServoService.Move")
        position = viam("machines", "part", "run", "--part", part.id, "--data", json.dumps({"name": "servo1"}),
                        "viam.component.servo.v1.ServoService.GetPosition")
        assert json.loads(position[position.index("{"):])["position_deg"] == 75, position  # the CLI prints proto names

        # A module: create (writes meta.json), update (models, entrypoint), upload (a package).
        work = tmp_path / "counter"
        work.mkdir()
        viam("module", "create", "--name", "counter", "--org-id", owner.organization_id, cwd=work)
        meta = json.loads((work / "meta.json").read_text())
        assert meta["module_id"].endswith(":counter")
        meta.update(entrypoint="run.sh", models=[{"api": "rdk:component:sensor", "model": "acme:demo:counter"}])
        (work / "meta.json").write_text(json.dumps(meta))
        viam("module", "update", "--module", "meta.json", cwd=work)
        package = tmp_path / "counter.tar.gz"
        with tarfile.open(package, "w:gz") as tar:
            for name, body in (("run.sh", b"#!/bin/sh\nexit 0\n"), ("meta.json", json.dumps(meta).encode())):
                info = tarfile.TarInfo(name)
                info.size, info.mode = len(body), 0o755
                tar.addfile(info, io.BytesIO(body))
        viam("module", "upload", "--version", "1.0.0", "--platform", "linux/amd64", "--module", "meta.json",
             str(package), cwd=work)

        async def versions() -> list[str]:
            viam_client = await app_client(fleet, owner)
            try:
                module = await viam_client.app_client.get_module(meta["module_id"])
                return [v.version for v in module.versions]
            finally:
                viam_client.close()

        assert asyncio.run(asyncio.wait_for(versions(), 30)) == ["1.0.0"]
    finally:
        if member is not None:
            member.stop()
        fleet.stop()
