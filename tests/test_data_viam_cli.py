"""The real Viam CLI (built from rdk, see README 'Real Viam peers') against the fleet's data
API: data export tabular and binary (filter, ids), dataset create and list, data delete
tabular, and data database hostname's refusal on SQLite; what it writes is what
``viamlite data export`` writes."""
from __future__ import annotations

import asyncio
import datetime
import json
import os
import subprocess
from pathlib import Path

from tests import rdk_peers
from tests.datacli import Cli
from tests.fleetpeer import FleetProcess, fleet_init

UTC = datetime.timezone.utc


def test_the_viam_cli_exports_and_manages_data_on_the_fleet(tmp_path: Path) -> None:
    rdk_peers.require("viam")
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    owner = fleet_init(url)
    fleet = FleetProcess(url, home=tmp_path / "fleet")
    when = datetime.datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    image = b"\xff\xd8" + b"pixels" * 100 + b"\xff\xd9"

    async def seed() -> tuple[str, str]:
        client = await fleet.viam_client(owner.api_key_id, owner.api_key)
        try:
            robot_id = await client.app_client.new_robot("rover", owner.location_id)
            part = (await client.app_client.get_robot_parts(robot_id))[0]
            await client.data_client.tabular_data_capture_upload(
                [{"readings": {"t": i}} for i in range(3)], part.id, "rdk:component:sensor", "sensor1", "Readings",
                [(when + datetime.timedelta(seconds=i),) * 2 for i in range(3)])
            binary_id = await client.data_client.binary_data_capture_upload(
                image, part.id, "rdk:component:camera", "camera1", "GetImages", ".jpeg", mime_type="image/jpeg",
                data_request_times=(when, when))
            return part.id, binary_id
        finally:
            client.close()

    env = {**os.environ, "HOME": str(tmp_path / "home")}

    def viam(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(rdk_peers.binary("viam")), *args], capture_output=True, text=True, env=env,
                                timeout=120)
        if ok:
            assert result.returncode == 0, f"viam {' '.join(args)} -> {result.returncode}:\n{result.stderr}"
        return result

    try:
        part_id, binary_id = asyncio.run(seed())
        viam("--base-url", fleet.base_url, "login", "api-key", "--key-id", owner.api_key_id, "--key", owner.api_key)
        tabular = ("--part-id", part_id, "--resource-name", "sensor1", "--resource-subtype", "rdk:component:sensor",
                   "--method", "Readings")
        viam("data", "export", "tabular", "--destination", str(tmp_path / "go-t"), *tabular)
        theirs = [json.loads(line) for line in (tmp_path / "go-t" / "data.ndjson").read_text().splitlines()]
        assert [line["payload"] for line in theirs] == [{"readings": {"t": i}} for i in range(3)]
        viam("data", "export", "binary", "filter", "--destination", str(tmp_path / "go-b"), "--part-id", part_id)
        viam("data", "export", "binary", "ids", "--destination", str(tmp_path / "go-i"), "--binary-data-ids",
             binary_id)
        cli = Cli(tmp_path / "viamlite")
        cli("--base-url", fleet.base_url, "login", "api-key", "--key-id", owner.api_key_id, "--key", owner.api_key)
        cli("data", "export", "tabular", "--destination", str(tmp_path / "our-t"), *tabular)
        cli("data", "export", "binary", "filter", "--destination", str(tmp_path / "our-b"), "--part-id", part_id)
        ours = [json.loads(line) for line in (tmp_path / "our-t" / "data.ndjson").read_text().splitlines()]
        assert ours == theirs

        def tree(root: Path) -> dict[str, bytes]:
            return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

        go_binary, our_binary = tree(tmp_path / "go-b"), tree(tmp_path / "our-b")
        assert sorted(go_binary) == sorted(our_binary) == sorted(tree(tmp_path / "go-i"))
        name = f"data/2026-12-01T09_30_00Z_{binary_id}.jpeg"
        assert go_binary[name] == our_binary[name] == image
        assert json.loads(go_binary[f"metadata/{name[5:]}.json"])["binaryDataId"] == binary_id

        out = viam("dataset", "create", "--org-id", owner.organization_id, "--name", "cats").stdout
        assert "Created dataset cats" in out
        assert "cats" in viam("dataset", "list", "--org-id", owner.organization_id).stdout
        refused = viam("data", "database", "hostname", "--org-id", owner.organization_id, ok=False)
        assert refused.returncode != 0 and "needs the fleet on PostgreSQL" in refused.stderr
        assert "Deleted 3" in viam("data", "delete", "tabular", "--org-id", owner.organization_id,
                                   "--delete-older-than-days", "0").stdout
    finally:
        fleet.stop()
