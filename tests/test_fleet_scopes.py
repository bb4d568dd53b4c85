"""The scope matrix: every kind of credential against every kind of call, on a real fleet.

Organization A has locations L1 (machines R1, R2) and L2 (machine R3); organization B has
machine RB. Each row is a call; each column a principal; each cell the status expected.
Calls that change things get a fresh target per cell, made by A's owner.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.fleetpeer import FleetProcess, fleet_init
from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)

PRINCIPALS = ["org_owner", "org_operator", "loc_owner", "loc_operator", "robot_owner", "robot_operator",
              "part_secret", "revoked", "none"]
OK, NF, PD, UA = "OK", "NOT_FOUND", "PERMISSION_DENIED", "UNAUTHENTICATED"


def _row(org_owner: str, org_operator: str, loc_owner: str, loc_operator: str, robot_owner: str,
         robot_operator: str, part_secret: str) -> dict[str, str]:
    return {"org_owner": org_owner, "org_operator": org_operator, "loc_owner": loc_owner,
            "loc_operator": loc_operator, "robot_owner": robot_owner, "robot_operator": robot_operator,
            "part_secret": part_secret, "revoked": UA, "none": UA}


#: call name -> expected status per principal
MATRIX: dict[str, dict[str, str]] = {
    "list_organizations":      _row(OK, OK, OK, OK, OK, OK, PD),
    "get_organization_b":      _row(NF, NF, NF, NF, NF, NF, PD),
    "list_locations_a":        _row(OK, OK, OK, OK, OK, OK, PD),
    "get_location_l2":         _row(OK, OK, NF, NF, NF, NF, PD),
    "create_location":         _row(OK, PD, PD, PD, PD, PD, PD),
    "list_robots_l1":          _row(OK, OK, OK, OK, OK, OK, PD),
    "get_robot_r1":            _row(OK, OK, OK, OK, OK, OK, PD),
    "get_robot_r2":            _row(OK, OK, OK, OK, NF, NF, PD),
    "get_robot_r3":            _row(OK, OK, NF, NF, NF, NF, PD),
    "get_robot_rb":            _row(NF, NF, NF, NF, NF, NF, PD),
    "new_robot_l1":            _row(OK, PD, OK, PD, PD, PD, PD),
    "new_robot_l2":            _row(OK, PD, NF, NF, NF, NF, PD),
    "update_part_r1":          _row(OK, PD, OK, PD, OK, PD, PD),
    "part_logs_r1":            _row(OK, OK, OK, OK, OK, OK, PD),
    "part_logs_rb":            _row(NF, NF, NF, NF, NF, NF, PD),
    "restart_r1":              _row(OK, OK, OK, OK, OK, OK, PD),
    "delete_fresh_robot_l1":   _row(OK, PD, OK, PD, NF, NF, PD),
    "create_key_r1":           _row(OK, PD, OK, PD, OK, PD, PD),
    "create_key_org":          _row(OK, PD, PD, PD, PD, PD, PD),
    "list_keys_a":             _row(OK, PD, OK, PD, OK, PD, PD),
    "delete_fresh_key_r1":     _row(OK, PD, OK, PD, OK, PD, PD),
    "robot_api_keys_r1":       _row(OK, PD, OK, PD, OK, PD, PD),
    "config_own_part":         _row(OK, OK, OK, OK, OK, OK, OK),
    "config_other_part":       _row(OK, OK, NF, NF, NF, NF, PD),
}


@dataclass
class World:
    a: Any
    b: Any
    l2: str = ""
    r1: str = ""
    r2: str = ""
    r3: str = ""
    rb: str = ""
    r1_part: Any = None
    r3_part: Any = None
    rb_part: str = ""
    tokens: dict[str, str] = field(default_factory=dict)


class Wire:
    """The viam-sdk's generated stubs on one channel; calls report their status name."""

    def __init__(self, address: str) -> None:
        from grpclib.client import Channel
        from viam.gen.app.v1 import app_pb2, robot_pb2  # noqa: F401  (the stubs need them loaded)
        from viam.gen.proto.rpc.v1 import auth_pb2  # noqa: F401
        from viam.gen.app.v1.app_grpc import AppServiceStub
        from viam.gen.app.v1.robot_grpc import RobotServiceStub
        from viam.gen.proto.rpc.v1.auth_grpc import AuthServiceStub

        host, port = address.rsplit(":", 1)
        self.channel = Channel(host, int(port))
        self.app = AppServiceStub(self.channel)
        self.robot = RobotServiceStub(self.channel)
        self.auth = AuthServiceStub(self.channel)

    async def token(self, entity: str, kind: str, payload: str) -> str:
        from viam.gen.proto.rpc.v1.auth_pb2 import AuthenticateRequest, Credentials

        return (await self.auth.Authenticate(AuthenticateRequest(
            entity=entity, credentials=Credentials(type=kind, payload=payload)))).access_token

    async def call(self, stub: Any, method: str, request: Any, token: str | None) -> tuple[str, Any]:
        from grpclib.exceptions import GRPCError

        metadata = {"authorization": f"Bearer {token}"} if token else None
        try:
            return OK, await getattr(stub, method)(request, metadata=metadata)
        except GRPCError as err:
            return err.status.name, err.message


async def _build(wire: Wire, fleet: FleetProcess, a: Any, b: Any) -> World:
    from viam.gen.app.v1 import app_pb2 as app

    world = World(a, b)
    admin = await wire.token(a.api_key_id, "api-key", a.api_key)
    admin_b = await wire.token(b.api_key_id, "api-key", b.api_key)

    async def ok(stub: Any, method: str, request: Any, token: str = admin) -> Any:
        status, reply = await wire.call(stub, method, request, token)
        assert status == OK, (method, reply)
        return reply

    world.l2 = (await ok(wire.app, "CreateLocation", app.CreateLocationRequest(organization_id=a.organization_id,
                                                                                name="l2"))).location.id
    world.r1 = (await ok(wire.app, "NewRobot", app.NewRobotRequest(name="r1", location=a.location_id))).id
    world.r2 = (await ok(wire.app, "NewRobot", app.NewRobotRequest(name="r2", location=a.location_id))).id
    world.r3 = (await ok(wire.app, "NewRobot", app.NewRobotRequest(name="r3", location=world.l2))).id
    world.rb = (await ok(wire.app, "NewRobot", app.NewRobotRequest(name="rb", location=b.location_id), admin_b)).id
    world.r1_part = (await ok(wire.app, "GetRobotParts", app.GetRobotPartsRequest(robot_id=world.r1))).parts[0]
    world.r3_part = (await ok(wire.app, "GetRobotParts", app.GetRobotPartsRequest(robot_id=world.r3))).parts[0]
    world.rb_part = (await ok(wire.app, "GetRobotParts", app.GetRobotPartsRequest(robot_id=world.rb),
                              admin_b)).parts[0].id

    async def key(authorization_id: str, resource_type: str, resource_id: str) -> str:
        reply = await ok(wire.app, "CreateKey", app.CreateKeyRequest(name=authorization_id, authorizations=[
            app.Authorization(authorization_type="role", authorization_id=authorization_id, resource_type=resource_type,
                              resource_id=resource_id, organization_id=a.organization_id, identity_type="api-key")]))
        return await wire.token(reply.id, "api-key", reply.key)

    world.tokens = {
        "org_owner": admin,
        "org_operator": await key("organization_operator", "organization", a.organization_id),
        "loc_owner": await key("location_owner", "location", a.location_id),
        "loc_operator": await key("location_operator", "location", a.location_id),
        "robot_owner": await key("robot_owner", "robot", world.r1),
        "robot_operator": await key("robot_operator", "robot", world.r1),
        "part_secret": await wire.token(world.r1_part.id, "robot-secret", world.r1_part.secret),
        "none": "",
    }
    revoked = await ok(wire.app, "CreateKey", app.CreateKeyRequest(name="revoked", authorizations=[
        app.Authorization(authorization_type="role", authorization_id="organization_owner",
                          resource_type="organization", resource_id=a.organization_id)]))
    world.tokens["revoked"] = await wire.token(revoked.id, "api-key", revoked.key)
    await ok(wire.app, "DeleteKey", app.DeleteKeyRequest(id=revoked.id))
    return world


async def _cell(wire: Wire, world: World, name: str, token: str) -> str:
    from viam.gen.app.v1 import app_pb2 as app
    from viam.gen.app.v1 import robot_pb2 as robot

    a, admin = world.a, world.tokens["org_owner"]
    A = wire.app

    async def fresh_robot() -> str:
        return (await wire.call(A, "NewRobot", app.NewRobotRequest(name=f"fresh-{time.monotonic_ns()}",
                                                                     location=a.location_id), admin))[1].id

    async def fresh_key() -> str:
        return (await wire.call(A, "CreateKey", app.CreateKeyRequest(name="fresh", authorizations=[
            app.Authorization(authorization_type="role", authorization_id="robot_operator", resource_type="robot",
                              resource_id=world.r1)]), admin))[1].id

    def auth(kind: str, resource_type: str, resource_id: str) -> Any:
        return app.CreateKeyRequest(name="made", authorizations=[app.Authorization(
            authorization_type="role", authorization_id=f"{resource_type}_{kind}", resource_type=resource_type,
            resource_id=resource_id)])

    calls = {
        "list_organizations": (A, "ListOrganizations", lambda: app.ListOrganizationsRequest()),
        "get_organization_b": (A, "GetOrganization", lambda: app.GetOrganizationRequest(organization_id=world.b.organization_id)),
        "list_locations_a": (A, "ListLocations", lambda: app.ListLocationsRequest(organization_id=a.organization_id)),
        "get_location_l2": (A, "GetLocation", lambda: app.GetLocationRequest(location_id=world.l2)),
        "create_location": (A, "CreateLocation", lambda: app.CreateLocationRequest(organization_id=a.organization_id, name="x")),
        "list_robots_l1": (A, "ListRobots", lambda: app.ListRobotsRequest(location_id=a.location_id)),
        "get_robot_r1": (A, "GetRobot", lambda: app.GetRobotRequest(id=world.r1)),
        "get_robot_r2": (A, "GetRobot", lambda: app.GetRobotRequest(id=world.r2)),
        "get_robot_r3": (A, "GetRobot", lambda: app.GetRobotRequest(id=world.r3)),
        "get_robot_rb": (A, "GetRobot", lambda: app.GetRobotRequest(id=world.rb)),
        "new_robot_l1": (A, "NewRobot", lambda: app.NewRobotRequest(name=f"n-{time.monotonic_ns()}", location=a.location_id)),
        "new_robot_l2": (A, "NewRobot", lambda: app.NewRobotRequest(name=f"n-{time.monotonic_ns()}", location=world.l2)),
        "update_part_r1": (A, "UpdateRobotPart", lambda: app.UpdateRobotPartRequest(
            id=world.r1_part.id, name=world.r1_part.name, robot_config_json='{"components": []}')),
        "part_logs_r1": (A, "GetRobotPartLogs", lambda: app.GetRobotPartLogsRequest(id=world.r1_part.id)),
        "part_logs_rb": (A, "GetRobotPartLogs", lambda: app.GetRobotPartLogsRequest(id=world.rb_part)),
        "restart_r1": (A, "MarkPartForRestart", lambda: app.MarkPartForRestartRequest(part_id=world.r1_part.id)),
        "create_key_r1": (A, "CreateKey", lambda: auth("operator", "robot", world.r1)),
        "create_key_org": (A, "CreateKey", lambda: auth("operator", "organization", a.organization_id)),
        "list_keys_a": (A, "ListKeys", lambda: app.ListKeysRequest(org_id=a.organization_id)),
        "robot_api_keys_r1": (A, "GetRobotAPIKeys", lambda: app.GetRobotAPIKeysRequest(robot_id=world.r1)),
        "config_own_part": (wire.robot, "Config", lambda: robot.ConfigRequest(id=world.r1_part.id)),
        "config_other_part": (wire.robot, "Config", lambda: robot.ConfigRequest(id=world.r3_part.id)),
    }
    if name == "delete_fresh_robot_l1":
        robot_id = await fresh_robot()
        return (await wire.call(A, "DeleteRobot", app.DeleteRobotRequest(id=robot_id), token))[0]
    if name == "delete_fresh_key_r1":
        key_id = await fresh_key()
        return (await wire.call(A, "DeleteKey", app.DeleteKeyRequest(id=key_id), token))[0]
    stub, method, request = calls[name]
    return (await wire.call(stub, method, request(), token))[0]


def test_every_cell_of_the_scope_matrix(fleet_db_url: str, tmp_path) -> None:  # noqa: F811
    a = fleet_init(fleet_db_url, "--organization", "a")
    b = fleet_init(fleet_db_url, "--organization", "b")
    fleet = FleetProcess(fleet_db_url, home=tmp_path)

    async def scenario() -> dict[tuple[str, str], str]:
        wire = Wire(fleet.address)
        try:
            world = await _build(wire, fleet, a, b)
            await asyncio.sleep(1.0)  # DeleteKey revokes its tokens within a second
            got = {}
            for name, row in MATRIX.items():
                for principal in PRINCIPALS:
                    got[(name, principal)] = await _cell(wire, world, name, world.tokens[principal])
            return got
        finally:
            wire.channel.close()

    try:
        got = asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        fleet.stop()
    wrong = [f"{name} as {who}: expected {MATRIX[name][who]}, got {status}"
             for (name, who), status in got.items() if status != MATRIX[name][who]]
    assert not wrong, "\n".join(wrong)
    assert len(got) == len(MATRIX) * len(PRINCIPALS)


def test_a_deleted_keys_tokens_stop_working_within_a_second(fleet_db_url: str, tmp_path) -> None:  # noqa: F811
    from viam.gen.app.v1 import app_pb2 as app

    owner = fleet_init(fleet_db_url)
    fleet = FleetProcess(fleet_db_url, home=tmp_path)

    async def scenario() -> tuple[str, str, float]:
        wire = Wire(fleet.address)
        try:
            admin = await wire.token(owner.api_key_id, "api-key", owner.api_key)
            made = (await wire.call(wire.app, "CreateKey", app.CreateKeyRequest(name="short", authorizations=[
                app.Authorization(authorization_type="role", authorization_id="organization_operator",
                                  resource_type="organization", resource_id=owner.organization_id)]), admin))[1]
            token = await wire.token(made.id, "api-key", made.key)
            before = (await wire.call(wire.app, "ListOrganizations", app.ListOrganizationsRequest(), token))[0]
            await wire.call(wire.app, "DeleteKey", app.DeleteKeyRequest(id=made.id), admin)
            deleted = time.monotonic()
            status = OK
            while status == OK and time.monotonic() - deleted < 5:
                status = (await wire.call(wire.app, "ListOrganizations", app.ListOrganizationsRequest(), token))[0]
                await asyncio.sleep(0.05)
            return before, status, time.monotonic() - deleted
        finally:
            wire.channel.close()

    try:
        before, after, took = asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        fleet.stop()
    assert before == OK
    assert after == UA
    assert took < 1.0, f"the deleted key's token still worked {took:.2f} s after DeleteKey"
