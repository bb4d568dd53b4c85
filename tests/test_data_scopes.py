"""Every data call is scoped by the caller's key, cell by cell, on SQLite and PostgreSQL:
organization, location and machine keys (owner and operator) against reads, deletes,
datasets and uploads; another organization's data is not there; a part's secret uploads
only its own part's data and reads nothing."""
from __future__ import annotations

from typing import Any

import grpc
import pytest

from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)
from viamlite.gen import auth_pb2
from viamlite.gen.app import data_pb2, data_sync_pb2, dataset_pb2


@pytest.fixture
def fleet(fleet_db_url: str):  # type: ignore[no-untyped-def]  # noqa: F811
    from viamlite_plugins.fleet.db import open_database
    from viamlite_plugins.fleet.server import FleetServer
    from viamlite_plugins.fleet.store import keys, orgs, robots
    from viamlite_plugins.fleet.store.keys import Grant

    db = open_database(fleet_db_url)
    world: dict[str, Any] = {}
    with db.write() as conn:
        org = orgs.create_organization(conn, "o")
        other = orgs.create_organization(conn, "other")
        loc_a, loc_b = orgs.create_location(conn, org, "a"), orgs.create_location(conn, org, "b")
        loc_x = orgs.create_location(conn, other, "x")
        robot_a, part_a = robots.new_robot(conn, loc_a, "ra")
        _, part_b = robots.new_robot(conn, loc_b, "rb")
        _, part_x = robots.new_robot(conn, loc_x, "rx")
        world.update(org=org, other=other, parts={"a": part_a, "b": part_b, "x": part_x},
                     secret_a=robots.get_part(conn, part_a).secret)
        for name, grant in {"org_owner": Grant(org, "owner", "organization", org),
                            "org_operator": Grant(org, "operator", "organization", org),
                            "loc_owner": Grant(org, "owner", "location", loc_a),
                            "robot_operator": Grant(org, "operator", "robot", robot_a),
                            "other_owner": Grant(other, "owner", "organization", other)}.items():
            world[name] = keys.create_key(conn, name, [grant])
    server = FleetServer(db)
    port = server.start("127.0.0.1:0")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    world["channel"] = channel
    yield world
    channel.close()
    server.stop(0)


def _token(ch: Any, entity: str, kind: str, payload: str) -> str:
    auth = ch.unary_unary("/proto.rpc.v1.AuthService/Authenticate",
                          request_serializer=auth_pb2.AuthenticateRequest.SerializeToString,
                          response_deserializer=auth_pb2.AuthenticateResponse.FromString)
    return auth(auth_pb2.AuthenticateRequest(entity=entity, credentials=auth_pb2.Credentials(
        type=kind, payload=payload))).access_token


def _call(ch: Any, token: str, service: str, method: str, request: Any, module: Any) -> Any:
    stub = ch.unary_unary(f"/{service}/{method}", request_serializer=type(request).SerializeToString,
                          response_deserializer=getattr(module, f"{method}Response").FromString)
    return stub(request, metadata=(("authorization", f"Bearer {token}"),), timeout=10)


def _upload(world: Any, token: str, part: str, binary: bool = False) -> Any:
    pb = data_sync_pb2
    meta = pb.UploadMetadata(part_id=part, component_type="rdk:component:sensor", component_name="s",
                             method_name="Readings",
                             type=pb.DATA_TYPE_BINARY_SENSOR if binary else pb.DATA_TYPE_TABULAR_SENSOR)
    request = pb.DataCaptureUploadRequest(metadata=meta)
    reading = request.sensor_contents.add()
    if binary:
        reading.binary = b"image"
    else:
        reading.struct.update({"readings": {"part": part}})
    return _call(world["channel"], token, "viam.app.datasync.v1.DataSyncService", "DataCaptureUpload", request, pb)


def _code(fn: Any) -> str:
    try:
        fn()
    except grpc.RpcError as err:
        return err.code().name
    return "OK"


def test_the_data_scope_matrix(fleet: Any) -> None:
    world, ch = fleet, fleet["channel"]
    tokens = {name: _token(ch, world[name][0], "api-key", world[name][1])
              for name in ("org_owner", "org_operator", "loc_owner", "robot_operator", "other_owner")}
    binaries = {}
    for where in ("a", "b"):
        _upload(world, tokens["org_owner"], world["parts"][where])
        binaries[where] = _upload(world, tokens["org_owner"], world["parts"][where], binary=True).binary_data_id
    _upload(world, tokens["other_owner"], world["parts"]["x"])

    def seen(name: str) -> set[str]:
        reply = _call(ch, tokens[name], "viam.app.data.v1.DataService", "TabularDataByFilter",
                      data_pb2.TabularDataByFilterRequest(), data_pb2)
        return {reply.metadata[d.metadata_index].part_id for d in reply.data}

    parts = world["parts"]
    assert seen("org_owner") == seen("org_operator") == {parts["a"], parts["b"]}
    assert seen("loc_owner") == seen("robot_operator") == {parts["a"]}
    assert seen("other_owner") == {parts["x"]}

    def by_id(name: str, where: str) -> str:
        return _code(lambda: _call(ch, tokens[name], "viam.app.data.v1.DataService", "BinaryDataByIDs",
                                   data_pb2.BinaryDataByIDsRequest(binary_data_ids=[binaries[where]]), data_pb2))

    assert [by_id(n, "b") for n in ("org_operator", "loc_owner", "robot_operator", "other_owner")] == [
        "OK", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]

    # Uploads need an owner of the part (or the part's own secret, for its own part only).
    assert _code(lambda: _upload(world, tokens["org_operator"], parts["a"])) == "PERMISSION_DENIED"
    assert _code(lambda: _upload(world, tokens["loc_owner"], parts["b"])) == "NOT_FOUND"
    assert _code(lambda: _upload(world, tokens["other_owner"], parts["a"])) == "NOT_FOUND"
    part_token = _token(ch, parts["a"], "robot-secret", world["secret_a"])
    assert _code(lambda: _upload(world, part_token, parts["a"])) == "OK"
    assert _code(lambda: _upload(world, part_token, parts["b"])) == "PERMISSION_DENIED"
    assert _code(lambda: _call(ch, part_token, "viam.app.data.v1.DataService", "TabularDataByFilter",
                               data_pb2.TabularDataByFilterRequest(), data_pb2)) == "PERMISSION_DENIED"

    # Deleting takes owner grants: an operator deletes nothing; a location owner only its location's.
    def delete(name: str) -> int:
        return _call(ch, tokens[name], "viam.app.data.v1.DataService", "DeleteBinaryDataByFilter",
                     data_pb2.DeleteBinaryDataByFilterRequest(), data_pb2).deleted_count

    assert delete("org_operator") == 0 and delete("other_owner") == 0
    assert delete("loc_owner") == 1
    assert by_id("org_operator", "b") == "OK"
    assert _code(lambda: _call(ch, tokens["org_operator"], "viam.app.data.v1.DataService", "DeleteTabularData",
                               data_pb2.DeleteTabularDataRequest(organization_id=world["org"]), data_pb2)) == \
        "PERMISSION_DENIED"
    assert _code(lambda: _call(ch, tokens["other_owner"], "viam.app.data.v1.DataService", "DeleteTabularData",
                               data_pb2.DeleteTabularDataRequest(organization_id=world["org"]), data_pb2)) == \
        "NOT_FOUND"

    # Datasets: created by an organization owner, seen by its keys only.
    create = dataset_pb2.CreateDatasetRequest(name="d", organization_id=world["org"])
    assert _code(lambda: _call(ch, tokens["org_operator"], "viam.app.dataset.v1.DatasetService", "CreateDataset",
                               create, dataset_pb2)) == "PERMISSION_DENIED"
    dataset_id = _call(ch, tokens["org_owner"], "viam.app.dataset.v1.DatasetService", "CreateDataset", create,
                       dataset_pb2).id
    listed = _call(ch, tokens["other_owner"], "viam.app.dataset.v1.DatasetService", "ListDatasetsByIDs",
                   dataset_pb2.ListDatasetsByIDsRequest(ids=[dataset_id]), dataset_pb2)
    assert list(listed.datasets) == []
    add = data_pb2.AddBinaryDataToDatasetByIDsRequest(dataset_id=dataset_id, binary_data_ids=[binaries["b"]])
    assert _code(lambda: _call(ch, tokens["other_owner"], "viam.app.data.v1.DataService",
                               "AddBinaryDataToDatasetByIDs", add, data_pb2)) == "NOT_FOUND"
    assert _code(lambda: _call(ch, tokens["org_owner"], "viam.app.data.v1.DataService",
                               "AddBinaryDataToDatasetByIDs", add, data_pb2)) == "OK"
    bad = data_pb2.TabularDataByFilterRequest(data_request=data_pb2.DataRequest(limit=5000))
    with pytest.raises(grpc.RpcError) as info:
        _call(ch, tokens["org_owner"], "viam.app.data.v1.DataService", "TabularDataByFilter", bad, data_pb2)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "limit" in info.value.details()
