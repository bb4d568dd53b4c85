"""The official viam-sdk's ViamClient and AppClient drive a real ``viamlite fleet serve``,
on SQLite and on PostgreSQL."""
from __future__ import annotations

import asyncio
import datetime
import json

import pytest

from tests.fleetpeer import FleetProcess, fleet_init
from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)


@pytest.fixture
def fleet(fleet_db_url: str, tmp_path):  # noqa: F811
    owner = fleet_init(fleet_db_url)
    process = FleetProcess(fleet_db_url, home=tmp_path)
    yield process, owner
    process.stop()


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_the_sdk_drives_organizations_machines_parts_logs_and_keys(fleet) -> None:
    from viam.app.app_client import APIKeyAuthorization

    process, owner = fleet

    async def scenario() -> None:
        client = await process.viam_client(owner.api_key_id, owner.api_key)
        app = client.app_client
        try:
            organizations = await app.list_organizations()
            assert [o.id for o in organizations] == [owner.organization_id]
            locations = await app.list_locations(owner.organization_id)
            assert [loc.id for loc in locations] == [owner.location_id]
            assert locations[0].robot_count == 0

            robot_id = await app.new_robot("arm-1", owner.location_id)
            robots = await app.list_robots(owner.location_id)
            assert [(r.id, r.name) for r in robots] == [(robot_id, "arm-1")]
            assert (await app.list_locations(owner.organization_id))[0].robot_count == 1
            parts = await app.get_robot_parts(robot_id)
            assert len(parts) == 1 and parts[0].main_part and parts[0].name == "arm-1-main"
            main = parts[0]
            assert main.secret and main.created_on is not None and main.last_access is None

            config = {"components": [{"name": "servo1", "api": "rdk:component:servo", "model": "rdk:builtin:fake"}]}
            updated = await app.update_robot_part(main.id, main.name, config)
            assert updated.robot_config == config
            again = await app.get_robot_part(main.id)
            assert json.loads(again.robot_config_json) == config

            # No machine has sent logs yet: an empty first page.
            assert await app.get_robot_part_logs(main.id) == []

            key, key_id = await app.create_key(owner.organization_id, [
                APIKeyAuthorization(role="operator", resource_type="robot", resource_id=robot_id)], "arm-1-operator")
            assert len(key) == 32 and key_id
            listed = {k.api_key.id: k for k in await app.list_keys(owner.organization_id)}
            assert set(listed) == {owner.api_key_id, key_id}
            details = listed[key_id].authorizations[0]
            assert (details.authorization_id, details.resource_type, details.resource_id) == (
                "robot_operator", "robot", robot_id)
            assert listed[key_id].api_key.key == ""  # keys are kept only as hashes
            await app.delete_key(key_id)
            assert {k.api_key.id for k in await app.list_keys(owner.organization_id)} == {owner.api_key_id}
        finally:
            client.close()

    _run(scenario())


def test_logs_read_newest_first_filter_page_and_tail(fleet) -> None:
    """Logs stored through RobotService.Log (as a member sends them) come back through the
    SDK's get_robot_part_logs, paged and filtered, and its tail."""
    from tests.fleetlogs import send_logs

    process, owner = fleet

    async def scenario() -> None:
        client = await process.viam_client(owner.api_key_id, owner.api_key)
        app = client.app_client
        try:
            robot_id = await app.new_robot("logger", owner.location_id)
            part = (await app.get_robot_parts(robot_id))[0]
            start = datetime.datetime.now(datetime.timezone.utc)
            await send_logs(process, part.id, part.secret,
                            [("info" if i % 10 else "error", f"line {i} {'needle' if i % 7 == 0 else 'hay'}")
                             for i in range(250)], start)
            every = await app.get_robot_part_logs(part.id, num_log_entries=250)
            assert [e.message for e in every][:2] == ["line 249 hay", "line 248 hay"]  # newest first
            assert len(every) == 250
            needles = await app.get_robot_part_logs(part.id, filter="NEEDLE", num_log_entries=1000)
            assert [e.message for e in needles] == [f"line {i} needle" for i in range(245, -1, -7)]
            errors = await app.get_robot_part_logs(part.id, log_levels=["error"], num_log_entries=1000)
            assert len(errors) == 25 and {e.level for e in errors} == {"error"}
            assert errors[0].caller["File"] == "member.py"

            tail = await app.tail_robot_part_logs(part.id, errors_only=False)
            reader = asyncio.ensure_future(tail.__anext__())
            await asyncio.sleep(0.5)
            await send_logs(process, part.id, part.secret, [("warn", "tailed one"), ("info", "tailed two")], start)
            first = await asyncio.wait_for(reader, 15)
            assert [e.message for e in first] == ["tailed one", "tailed two"]
        finally:
            client.close()

    _run(scenario())
