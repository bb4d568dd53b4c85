"""The ``data`` and ``dataset`` commands, typed as a user types them, against a real
``viamlite fleet serve`` on SQLite and on PostgreSQL, in both spellings (the seed's and
today's Viam CLI's): exports as the Viam CLI writes them (resumed, nothing fetched twice),
datasets, deletes; and on PostgreSQL ``data database configure``'s role reading only its
organization's rows through ``psql`` (row-level security), on SQLite a refusal saying why."""
from __future__ import annotations

import asyncio
import datetime
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fleetpeer import FleetProcess, fleet_init
from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)
from tests.datacli import Cli

UTC = datetime.timezone.utc
JPEGS = [b"\xff\xd8" + bytes([i]) * (1000 + i) + b"\xff\xd9" for i in range(3)]


def _at(seconds: float) -> datetime.datetime:
    return datetime.datetime(2026, 11, 30, 8, 0, tzinfo=UTC) + datetime.timedelta(seconds=seconds)


async def _seed(fleet: FleetProcess, owner: Any, other: Any) -> dict[str, Any]:
    """Three readings and three images on a part of ``owner``'s; one reading of ``other``'s."""
    out: dict[str, Any] = {}
    for who, rows in ((owner, 3), (other, 1)):
        client = await fleet.viam_client(who.api_key_id, who.api_key)
        try:
            app, data = client.app_client, client.data_client
            robot_id = await app.new_robot("rover", who.location_id)
            part = (await app.get_robot_parts(robot_id))[0]
            await data.tabular_data_capture_upload([{"readings": {"t": i}} for i in range(rows)], part.id,
                                                   "rdk:component:sensor", "sensor1", "Readings",
                                                   [(_at(i), _at(i)) for i in range(rows)])
            if who is owner:
                out["part_id"] = part.id
                out["binary_ids"] = [await data.binary_data_capture_upload(
                    jpeg, part.id, "rdk:component:camera", "camera1", "GetImages", ".jpeg", mime_type="image/jpeg",
                    data_request_times=(_at(i), _at(i))) for i, jpeg in enumerate(JPEGS)]
        finally:
            client.close()
    return out


async def _in_dataset(fleet: FleetProcess, owner: Any, dataset_id: str) -> int:
    from viam.proto.app.data import Filter

    client = await fleet.viam_client(owner.api_key_id, owner.api_key)
    try:
        return (await client.data_client.binary_data_by_filter(Filter(dataset_id=dataset_id), count_only=True))[1]
    finally:
        client.close()


def test_data_and_dataset_commands(fleet_db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:  # noqa: F811
    owner = fleet_init(fleet_db_url)
    other = fleet_init(fleet_db_url, "--organization", "other")
    fleet = FleetProcess(fleet_db_url, home=tmp_path / "fleet")
    try:
        seeded = asyncio.run(_seed(fleet, owner, other))
        part_id = seeded["part_id"]
        cli = Cli(tmp_path / "cli")
        cli("--base-url", fleet.base_url, "login", "api-key", "--key-id", owner.api_key_id, "--key", owner.api_key)

        # -- tabular: today's spelling, then the seed's ------------------------------------------
        out = cli("data", "export", "tabular", "--destination", str(tmp_path / "t1"), "--part-id", part_id,
                  "--resource-name", "sensor1", "--resource-subtype", "rdk:component:sensor", "--method", "Readings")
        assert "Exported 3 rows" in out.stdout and out.stderr == "", "no progress bar on a pipe"
        lines = [json.loads(line) for line in (tmp_path / "t1" / "data.ndjson").read_text().splitlines()]
        assert [line["payload"] for line in lines] == [{"readings": {"t": i}} for i in range(3)]
        assert lines[0]["timeCaptured"] == "2026-11-30T08:00:00Z" and lines[0]["robotName"] == "rover"
        cli("data", "export", "--destination", str(tmp_path / "t2"), "--data-type", "tabular", "--part-id", part_id)
        seed_lines = [json.loads(line) for line in (tmp_path / "t2" / "data.ndjson").read_text().splitlines()]
        assert [line["payload"] for line in seed_lines] == [line["payload"] for line in lines]

        # -- binary: filter, resumed; ids; the seed's spelling ------------------------------------
        dest = tmp_path / "b1"
        out = cli("data", "export", "binary", "filter", "--destination", str(dest), "--part-id", part_id,
                  "--component-name", "camera1")
        assert "Exported 3 files" in out.stdout and "3 fetched" in out.stdout
        files = sorted((dest / "data").iterdir())
        assert [f.read_bytes() for f in files] == JPEGS
        assert files[0].name == f"2026-11-30T08_00_00Z_{seeded['binary_ids'][0]}.jpeg"  # as the Viam CLI names it
        meta = json.loads((dest / "metadata" / f"{files[0].name}.json").read_text())
        assert meta["binaryDataId"] == seeded["binary_ids"][0] and meta["captureMetadata"]["mimeType"] == "image/jpeg"
        files[1].unlink()
        out = cli("data", "export", "binary", "filter", "--destination", str(dest), "--part-id", part_id)
        assert "1 fetched, 2 already there" in out.stdout
        assert sorted(f.read_bytes() for f in (dest / "data").iterdir()) == JPEGS
        cli("data", "export", "binary", "ids", "--destination", str(tmp_path / "b2"), "--binary-data-ids",
            seeded["binary_ids"][2])
        assert [f.read_bytes() for f in (tmp_path / "b2" / "data").iterdir()] == [JPEGS[2]]
        cli("data", "export", "--destination", str(tmp_path / "b3"), "--data-type", "binary", "--mime-types",
            "image/jpeg")
        assert len(list((tmp_path / "b3" / "data").iterdir())) == 3
        _progress_on_a_terminal(cli, tmp_path / "b4", seeded["binary_ids"])

        # -- datasets: both spellings -------------------------------------------------------------
        created = cli.json("dataset", "create", "--org-id", owner.organization_id, "--name", "cats")
        dataset_id = created["id"]
        listed = cli.json("dataset", "list", "--org-id", owner.organization_id)
        assert [d["name"] for d in listed] == ["cats"]
        cli("dataset", "data", "add", "ids", "--dataset-id", dataset_id, "--binary-data-ids",
            ",".join(seeded["binary_ids"][:2]))
        assert asyncio.run(_in_dataset(fleet, owner, dataset_id)) == 2
        cli("data", "dataset", "add", "filter", "--dataset-id", dataset_id, "--component-name", "camera1")
        assert asyncio.run(_in_dataset(fleet, owner, dataset_id)) == 3
        cli("data", "dataset", "remove", "ids", "--dataset-id", dataset_id, "--binary-data-ids", seeded["binary_ids"][0])
        cli("dataset", "data", "remove", "filter", "--dataset-id", dataset_id, "--part-id", part_id)
        assert asyncio.run(_in_dataset(fleet, owner, dataset_id)) == 0
        cli("dataset", "rename", "--dataset-id", dataset_id, "--name", "dogs")
        assert [d["name"] for d in cli.json("dataset", "list", "--dataset-ids", dataset_id)] == ["dogs"]
        cli("dataset", "delete", "--dataset-id", dataset_id)
        assert cli.json("dataset", "list", "--org-id", owner.organization_id) == []

        # -- direct database access -----------------------------------------------------------------
        if fleet_db_url.startswith("sqlite"):
            line = cli.refused("data", "database", "hostname", "--org-id", owner.organization_id)
            assert "needs the fleet on PostgreSQL" in line
            line = cli.refused("data", "database", "configure", "--org-id", owner.organization_id, "--password",
                               "s3cret-pass")
            assert "needs the fleet on PostgreSQL" in line
        else:
            _check_database_roles(cli, request.getfixturevalue("postgres"), owner, other, fleet_db_url)

        # -- deletes ------------------------------------------------------------------------------
        line = cli.refused("data", "export", "--destination", str(tmp_path / "x"), "--data-type", "binary",
                           "--component-model", "rdk:builtin:fake", code=2)
        assert "--component-model" in line
        assert "Deleted 3 binary" in cli("data", "delete", "binary", "--part-id", part_id).stdout
        assert "Deleted 3 tabular" in cli("data", "delete", "tabular", "--org-id", owner.organization_id,
                                          "--delete-older-than-days", "0").stdout
        line = cli.refused("data", "delete", "tabular", "--org-id", other.organization_id, "--delete-older-than-days",
                           "0")
        assert "not found" in line
    finally:
        fleet.stop()


def _progress_on_a_terminal(cli: Cli, dest: Path, ids: list[str]) -> None:
    import sys

    import pexpect

    from tests.datacli import ROOT

    child = pexpect.spawn(sys.executable, ["-m", "viamlite.cli", "data", "export", "binary", "ids", "--destination",
                                           str(dest), "--binary-data-ids", ",".join(ids)],
                          env=cli.env, cwd=str(ROOT), timeout=60, encoding="utf-8")
    child.expect(r"files: 3/3")
    child.expect("Exported 3 files")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def _psql(server: Any, uri: str, password: str, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(server.bin / "psql"), uri, "-XAtc", sql], capture_output=True, text=True, timeout=30,
                          env={"PGPASSWORD": password, "PATH": "/usr/bin:/bin"})


def _check_database_roles(cli: Cli, server: Any, owner: Any, other: Any, url: str) -> None:
    out = cli("data", "database", "configure", "--org-id", owner.organization_id, "--password", "s3cret-pass")
    uri = out.stdout.split("psql '", 1)[1].split("'", 1)[0]
    assert uri.startswith("postgresql://viamlite_org_") and uri.endswith("/" + url.rsplit("/", 1)[1])
    host = cli("data", "database", "hostname", "--org-id", owner.organization_id).stdout
    assert f"127.0.0.1:{server.port}" in host and uri in host
    # A second configure asks first (no: nothing changes), or replaces with --yes.
    again = cli("data", "database", "configure", "--org-id", owner.organization_id, "--password", "other-pass",
                stdin="n\n")
    assert "Left the database user as it was" in again.stdout
    seen = _psql(server, uri, "s3cret-pass", "SELECT count(*), count(DISTINCT organization_id) FROM tabular_data")
    assert seen.stdout.strip() == "3|1", seen.stderr
    assert _psql(server, uri, "s3cret-pass", f"SELECT count(*) FROM tabular_data WHERE organization_id = "
                                             f"'{other.organization_id}'").stdout.strip() == "0"
    assert _psql(server, uri, "s3cret-pass", "SELECT count(*) FROM binary_data").stdout.strip() == "3"
    denied = _psql(server, uri, "s3cret-pass", "SELECT count(*) FROM api_keys")
    assert denied.returncode != 0 and "permission denied" in denied.stderr
    denied = _psql(server, uri, "s3cret-pass", "DELETE FROM tabular_data")
    assert denied.returncode != 0 and "permission denied" in denied.stderr
    # The other organization's own role sees its one row.
    theirs = Cli(cli.home.parent / "cli-other")
    theirs("--base-url", _base(cli), "login", "api-key", "--key-id",
           other.api_key_id, "--key", other.api_key)
    out = theirs("data", "database", "configure", "--org-id", other.organization_id, "--password", "their-pass",
                 "--yes")
    their_uri = out.stdout.split("psql '", 1)[1].split("'", 1)[0]
    assert _psql(server, their_uri, "their-pass", "SELECT count(*) FROM tabular_data").stdout.strip() == "1"
    assert _psql(server, uri, "s3cret-pass", "SELECT count(*) FROM tabular_data").stdout.strip() == "3"


def _base(cli: Cli) -> str:
    return json.loads((cli.home / "cli.json").read_text())["base_url"]
