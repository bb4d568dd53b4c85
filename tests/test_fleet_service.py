"""The fleet's commands, bad input, and several fleet processes on one PostgreSQL."""
from __future__ import annotations

import asyncio
import datetime
import json
import os
import sqlite3

import pytest

from tests.fleetlogs import send_logs
from tests.fleetpeer import FleetProcess, fleet_command, fleet_init
from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)
from tests.test_fleet_scopes import OK, Wire


def test_init_prints_exactly_the_ids_and_the_key_and_adds_organizations(fleet_db_url: str) -> None:  # noqa: F811
    first = fleet_command("init", "--db", fleet_db_url, "--json", "--organization", "acme", "--location", "lab")
    assert first.returncode == 0, first.stderr
    printed = json.loads(first.stdout)
    assert set(printed) == {"organization_id", "location_id", "api_key_id", "api_key"}
    second = fleet_init(fleet_db_url, "--organization", "beta")
    assert second.organization_id != printed["organization_id"]
    plain = fleet_command("init", "--db", fleet_db_url)
    assert plain.returncode == 0 and "owner API key" in plain.stdout


def test_the_default_database_is_under_viamlite_home(tmp_path) -> None:
    result = fleet_command("init", "--json", env={"VIAMLITE_HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "fleet.db") as conn:
        assert conn.execute("SELECT count(*) FROM organizations").fetchone() == (1,)
        # The key is kept only as its hash.
        key = json.loads(result.stdout)["api_key"]
        stored = conn.execute("SELECT key_hash FROM api_keys").fetchone()[0]
        assert key not in stored and stored.startswith("sha256:")


@pytest.mark.parametrize("url, code, words", [
    ("mysql://somewhere/db", 2, "SQLite or PostgreSQL"),
    ("not a url", 2, "not a database URL"),
    ("sqlite://", 2, "names no file"),
    ("postgresql://postgres@127.0.0.1:1/none", 1, "check that the server is running"),
])
def test_a_bad_database_url_is_one_clear_line(url: str, code: int, words: str) -> None:
    result = fleet_command("init", "--db", url)
    assert result.returncode == code
    assert words in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_a_bad_bind_and_a_port_in_use(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    assert fleet_command("serve", "--db", url, "--bind", "nonsense").returncode == 2
    fleet = FleetProcess(url, home=tmp_path)
    try:
        clash = fleet_command("serve", "--db", url, "--bind", fleet.address, "--no-tls", timeout=30)
        assert clash.returncode == 1 and "cannot listen" in clash.stderr
    finally:
        fleet.stop()


def test_tls_by_default_with_the_sdk(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    owner = fleet_init(url)
    fleet = FleetProcess(url, tls=True, home=tmp_path)
    try:
        assert fleet.base_url.startswith("https://")

        async def scenario() -> list:
            client = await fleet.viam_client(owner.api_key_id, owner.api_key)
            try:
                return await client.app_client.list_organizations()
            finally:
                client.close()

        assert [o.id for o in asyncio.run(asyncio.wait_for(scenario(), 60))] == [owner.organization_id]
    finally:
        fleet.stop()


def test_bad_requests_name_the_field_and_the_fleet_keeps_serving(fleet_db_url: str, tmp_path) -> None:  # noqa: F811
    from viam.gen.app.v1 import app_pb2 as app
    from viam.gen.app.v1 import robot_pb2 as robot
    from viam.gen.common.v1.common_pb2 import LogEntry

    owner = fleet_init(fleet_db_url)
    fleet = FleetProcess(fleet_db_url, home=tmp_path)

    async def scenario() -> list[tuple[str, str, str]]:
        wire = Wire(fleet.address)
        try:
            admin = await wire.token(owner.api_key_id, "api-key", owner.api_key)
            robot_id = (await wire.call(wire.app, "NewRobot", app.NewRobotRequest(name="m", location=owner.location_id),
                                        admin))[1].id
            part = (await wire.call(wire.app, "GetRobotParts", app.GetRobotPartsRequest(robot_id=robot_id), admin))[1].parts[0]
            part_token = await wire.token(part.id, "robot-secret", part.secret)
            unknown = "00000000-0000-4000-8000-000000000000"
            cases = [
                ("NewRobot", app.NewRobotRequest(name="", location=owner.location_id), "INVALID_ARGUMENT", "name"),
                ("NewRobot", app.NewRobotRequest(name="x" * 300, location=owner.location_id), "INVALID_ARGUMENT", "name"),
                ("NewRobot", app.NewRobotRequest(name="m", location=owner.location_id), "FAILED_PRECONDITION", "already"),
                ("NewRobot", app.NewRobotRequest(name="n", location="nope"), "INVALID_ARGUMENT", "location"),
                ("NewRobot", app.NewRobotRequest(name="n", location=unknown), "NOT_FOUND", "location"),
                ("GetRobot", app.GetRobotRequest(id=""), "NOT_FOUND", "id"),
                ("GetRobot", app.GetRobotRequest(id=unknown), "NOT_FOUND", unknown),
                ("GetRobotPart", app.GetRobotPartRequest(id="12"), "INVALID_ARGUMENT", "id"),
                ("UpdateRobotPart", app.UpdateRobotPartRequest(id=part.id, name=part.name, robot_config_json="{nope"),
                 "INVALID_ARGUMENT", "robot_config_json"),
                ("UpdateRobotPart", app.UpdateRobotPartRequest(id=part.id, name=part.name, robot_config_json="[1]"),
                 "INVALID_ARGUMENT", "JSON object"),
                ("UpdateRobotPart", app.UpdateRobotPartRequest(id=part.id, name=part.name,
                                                               robot_config_json='{"components": {}}'),
                 "INVALID_ARGUMENT", "robot_config.components"),
                ("UpdateRobotPart", app.UpdateRobotPartRequest(
                    id=part.id, name=part.name, robot_config_json='{"a": "' + "x" * (1 << 20) + '"}'),
                 "INVALID_ARGUMENT", "bytes"),
                ("GetRobotPartLogs", app.GetRobotPartLogsRequest(id=part.id, limit=5000), "INVALID_ARGUMENT", "limit"),
                ("GetRobotPartLogs", app.GetRobotPartLogsRequest(id=part.id, page_token="!!"), "INVALID_ARGUMENT",
                 "page_token"),
                ("GetRobotPartLogs", app.GetRobotPartLogsRequest(id=part.id, levels=["loud"]), "INVALID_ARGUMENT", "levels"),
                ("DeleteRobotPart", app.DeleteRobotPartRequest(part_id=part.id), "FAILED_PRECONDITION", "main part"),
                ("DeleteLocation", app.DeleteLocationRequest(location_id=owner.location_id), "FAILED_PRECONDITION",
                 "machines"),
                ("CreateKey", app.CreateKeyRequest(authorizations=[]), "INVALID_ARGUMENT", "authorizations"),
                ("CreateKey", app.CreateKeyRequest(authorizations=[app.Authorization(
                    authorization_type="role", authorization_id="robot_admin", resource_type="robot",
                    resource_id=robot_id)]), "INVALID_ARGUMENT", "authorizations[0].authorization_id"),
                ("CreateKey", app.CreateKeyRequest(authorizations=[app.Authorization(
                    authorization_type="role", authorization_id="location_owner", resource_type="robot",
                    resource_id=robot_id)]), "INVALID_ARGUMENT", "authorizations[0].resource_type"),
                ("DeleteKey", app.DeleteKeyRequest(id=unknown), "NOT_FOUND", unknown),
            ]
            out = []
            for method, request, code, words in cases:
                status, message = await wire.call(wire.app, method, request, admin)
                out.append((f"{method} {code}", status, str(message)))
                assert words in str(message), (method, message)
            many = robot.LogRequest(id=part.id, logs=[LogEntry(level="info", message="x")] * 101)
            status, message = await wire.call(wire.robot, "Log", many, part_token)
            out.append(("Log INVALID_ARGUMENT", status, str(message)))
            assert "100" in str(message)
            # A malformed message (not a protobuf) is answered, and the fleet still serves.
            import grpc

            with grpc.insecure_channel(fleet.address) as raw:
                try:
                    raw.unary_unary("/viam.app.v1.AppService/ListRobots")(
                        b"\xff\xff\xff", metadata=(("authorization", f"Bearer {admin}"),), timeout=10)
                    out.append(("malformed INVALID_ARGUMENT", "OK", ""))
                except grpc.RpcError as exc:
                    out.append(("malformed INVALID_ARGUMENT", exc.code().name, exc.details()))
            status, reply = await wire.call(wire.app, "ListRobots", app.ListRobotsRequest(location_id=owner.location_id),
                                            admin)
            assert status == OK and [r.name for r in reply.robots] == ["m"]  # nothing half-made by the failures
            return out
        finally:
            wire.channel.close()

    try:
        results = asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        fleet.stop()
    wrong = [f"{case}: got {status} ({message})" for case, status, message in results if not case.endswith(status)]
    assert not wrong, "\n".join(wrong)


def test_two_fleet_processes_on_one_postgresql_are_one_fleet(postgres, tmp_path) -> None:  # noqa: F811
    """A machine made through one process is seen through the other, a token from one works
    at the other, and a log sent to one reaches a tail opened on the other."""
    url = postgres.new_database()
    owner = fleet_init(url)
    one, two = FleetProcess(url, home=tmp_path), FleetProcess(url, home=tmp_path)

    async def scenario() -> list[str]:
        c1 = await one.viam_client(owner.api_key_id, owner.api_key)
        c2 = await two.viam_client(owner.api_key_id, owner.api_key)
        try:
            robot_id = await c1.app_client.new_robot("shared", owner.location_id)
            part = (await c2.app_client.get_robot_parts(robot_id))[0]
            tail = await c2.app_client.tail_robot_part_logs(part.id, errors_only=False)
            reader = asyncio.ensure_future(tail.__anext__())
            await asyncio.sleep(0.5)
            await send_logs(one, part.id, part.secret, [("info", "through process one")],
                            datetime.datetime.now(datetime.timezone.utc))
            return [e.message for e in await asyncio.wait_for(reader, 15)]
        finally:
            c1.close()
            c2.close()

    try:
        assert asyncio.run(asyncio.wait_for(scenario(), 60)) == ["through process one"]
    finally:
        one.stop()
        two.stop()


def test_the_serve_command_of_the_demo_machine_loads_no_fleet_code() -> None:
    # tests/test_layers.py checks the imports; here: the fleet plugin is found through its entry point.
    from importlib.metadata import entry_points

    assert "viamlite_plugins.fleet" in {ep.value for ep in entry_points(group="viamlite")}
    assert os.path.exists(os.path.join(os.path.dirname(__file__), "..", "plugins", "fleet", "db", "migrations",
                                       "versions", "0001_initial.py"))


def test_a_log_batch_sent_again_under_its_id_is_stored_once(fleet_db_url: str, tmp_path) -> None:  # noqa: F811
    """A member whose Log answer was lost sends the batch again with the same
    viamlite-log-batch id: the fleet acknowledges it and stores nothing twice."""
    from viam.gen.app.v1 import app_pb2 as app
    from viam.gen.app.v1 import robot_pb2 as robot
    from viam.gen.common.v1.common_pb2 import LogEntry

    owner = fleet_init(fleet_db_url)
    fleet = FleetProcess(fleet_db_url, home=tmp_path)

    async def scenario() -> list[str]:
        wire = Wire(fleet.address)
        try:
            admin = await wire.token(owner.api_key_id, "api-key", owner.api_key)
            robot_id = (await wire.call(wire.app, "NewRobot", app.NewRobotRequest(name="m", location=owner.location_id),
                                        admin))[1].id
            part = (await wire.call(wire.app, "GetRobotParts", app.GetRobotPartsRequest(robot_id=robot_id),
                                    admin))[1].parts[0]
            token = await wire.token(part.id, "robot-secret", part.secret)
            request = robot.LogRequest(id=part.id, logs=[LogEntry(level="info", message=f"once {i}") for i in range(3)])
            for batch in ("batch-a", "batch-a", "batch-b"):
                reply = await wire.robot.Log(request, metadata={"authorization": f"Bearer {token}",
                                                                "viamlite-log-batch": batch})
                assert reply is not None
            status, logs = await wire.call(wire.app, "GetRobotPartLogs",
                                           app.GetRobotPartLogsRequest(id=part.id, limit=100), admin)
            assert status == OK
            return [e.message for e in logs.logs]
        finally:
            wire.channel.close()

    try:
        messages = asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        fleet.stop()
    assert sorted(messages) == sorted([f"once {i}" for i in range(3)] * 2)  # batch-a once, batch-b once
