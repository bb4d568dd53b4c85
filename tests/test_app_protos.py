"""Our app-API protos (viamlite.gen.app) equal the viam-sdk 0.85.1 descriptors, field by field."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from tests.wirecheck import differences, names

sdk_app = pytest.importorskip("viam.gen.app.v1.app_pb2", reason="needs the viam-sdk test dependency")
sdk_robot = pytest.importorskip("viam.gen.app.v1.robot_pb2", reason="needs the viam-sdk test dependency")

from viamlite.gen import POOL
from viamlite.gen.app import app_pb2, robot_pb2

OURS = (robot_pb2.DESCRIPTOR, app_pb2.DESCRIPTOR)
# Newer than the viam-sdk 0.85.1: the Viam API has since given ResourceName the remotes a
# resource is reached through (field 5); our common.proto carries it for remote parts.
NEWER_THAN_THE_SDK = {"field viam.common.v1.ResourceName.remote_path: not in the reference"}

APP_METHODS = {
    "ListOrganizations", "GetOrganization", "ListLocations", "GetLocation", "CreateLocation",
    "DeleteLocation", "GetOrganizationsWithAccessToLocation", "ListRobots", "GetRobot", "NewRobot",
    "UpdateRobot", "DeleteRobot", "GetRobotParts", "GetRobotPart", "NewRobotPart", "UpdateRobotPart",
    "DeleteRobotPart", "GetRobotPartHistory", "MarkPartForRestart", "GetRobotPartLogs",
    "TailRobotPartLogs", "CreateKey", "ListKeys", "DeleteKey", "GetRobotAPIKeys", "CreateModule",
    "UpdateModule", "UploadModuleFile", "GetModule", "ListModules",
}


def test_every_message_enum_and_method_equals_the_sdks() -> None:
    problems = differences(OURS, descriptor_pool.Default())
    assert set(problems) <= NEWER_THAN_THE_SDK, "\n".join(problems)


def test_the_check_covers_what_we_define() -> None:
    defined = names(OURS)
    # Every message and enum of both files is one the walk visits (so every one is compared).
    assert {"viam.app.v1.RobotConfig", "viam.app.v1.Orientation.Quaternion", "viam.app.v1.CredentialsType",
            "viam.app.v1.RobotPart", "viam.app.v1.SharedSecret.State", "viam.app.v1.AppService",
            "viam.app.v1.RobotService", "viam.app.v1.UploadModuleFileRequest"} <= defined
    assert len(defined) > 140


def test_the_services_have_the_methods_the_fleet_serves() -> None:
    app = app_pb2.DESCRIPTOR.services_by_name["AppService"]
    assert set(app.methods_by_name) == APP_METHODS
    robot = robot_pb2.DESCRIPTOR.services_by_name["RobotService"]
    assert set(robot.methods_by_name) == {"Config", "Certificate", "Log", "NeedsRestart"}
    assert app.methods_by_name["TailRobotPartLogs"].server_streaming
    assert app.methods_by_name["UploadModuleFile"].client_streaming


def test_the_app_files_live_in_the_private_pool_and_need_no_other_app_file() -> None:
    for file in OURS:
        assert file.pool is POOL
        assert {d.name for d in file.dependencies} <= {
            "common/v1/common.proto", "app/v1/robot.proto", "google/protobuf/duration.proto",
            "google/protobuf/struct.proto", "google/protobuf/timestamp.proto"}


# --- the check fails when the wire differs -----------------------------------------------

def _mutated(change: Callable[[descriptor_pb2.FileDescriptorProto], None]) -> list[str]:
    """differences() of our files after ``change`` was applied to a copy of app.proto and
    robot.proto, loaded into a pool of their own."""
    pool = descriptor_pool.DescriptorPool()
    for dependency in ("google/protobuf/descriptor.proto", "google/protobuf/struct.proto",
                       "google/protobuf/timestamp.proto", "google/protobuf/duration.proto",
                       "common/v1/common.proto"):
        proto = descriptor_pb2.FileDescriptorProto()
        POOL.FindFileByName(dependency).CopyToProto(proto)
        pool.Add(proto)
    files = []
    for ours in OURS:
        proto = descriptor_pb2.FileDescriptorProto()
        ours.CopyToProto(proto)
        change(proto)
        pool.Add(proto)
        files.append(pool.FindFileByName(ours.name))
    return [p for p in differences(files, descriptor_pool.Default()) if p not in NEWER_THAN_THE_SDK]


def _message(proto: descriptor_pb2.FileDescriptorProto, name: str) -> descriptor_pb2.DescriptorProto | None:
    return next((m for m in proto.message_type if m.name == name), None)


def _field(proto: descriptor_pb2.FileDescriptorProto, message: str, field: str) -> descriptor_pb2.FieldDescriptorProto | None:
    found = _message(proto, message)
    return next((f for f in found.field if f.name == field), None) if found else None


def test_an_unchanged_copy_has_no_differences() -> None:
    assert _mutated(lambda proto: None) == []


def test_a_renumbered_field_is_reported() -> None:
    def renumber(proto: descriptor_pb2.FileDescriptorProto) -> None:
        field = _field(proto, "RobotPart", "fqdn")
        if field is not None:
            field.number = 19
    assert _mutated(renumber) == ["field viam.app.v1.RobotPart.fqdn: number is 19, the reference's is 9"]


def test_a_field_of_another_type_label_or_presence_is_reported() -> None:
    def change(proto: descriptor_pb2.FileDescriptorProto) -> None:
        count = _field(proto, "Location", "robot_count")
        if count is not None:
            count.type = descriptor_pb2.FieldDescriptorProto.TYPE_INT64
        ips = _field(proto, "AgentInfo", "ips")
        if ips is not None:
            ips.label = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    problems = _mutated(change)
    assert "field viam.app.v1.Location.robot_count: type is 'int64', the reference's is 'int32'" in problems
    assert "field viam.app.v1.AgentInfo.ips: label is 'optional', the reference's is 'repeated'" in problems


def test_an_invented_field_message_or_method_is_reported() -> None:
    def invent(proto: descriptor_pb2.FileDescriptorProto) -> None:
        robot = _message(proto, "Robot")
        if robot is not None:
            robot.field.add(name="colour", number=40, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
                            label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL)
            proto.message_type.add(name="Gadget")
            service = proto.service[0]
            service.method.add(name="MakeGadget", input_type=".viam.app.v1.Gadget", output_type=".viam.app.v1.Gadget")
    problems = _mutated(invent)
    assert "field viam.app.v1.Robot.colour: not in the reference" in problems
    assert "message viam.app.v1.Gadget: not in the reference" in problems
    assert "method viam.app.v1.AppService/MakeGadget: not in the reference" in problems


def test_a_changed_stream_flag_method_type_or_enum_number_is_reported() -> None:
    def change(proto: descriptor_pb2.FileDescriptorProto) -> None:
        for service in proto.service:
            for method in service.method:
                if method.name == "TailRobotPartLogs":
                    method.server_streaming = False
                if method.name == "Log":
                    method.output_type = ".viam.app.v1.ConfigResponse"
        for enum in proto.enum_type:
            if enum.name == "OnlineState":
                enum.value[1].number = 7
    problems = _mutated(change)
    assert "method viam.app.v1.AppService/TailRobotPartLogs: server streaming is False, the reference's is True" in problems
    assert ("method viam.app.v1.RobotService/Log: output type is 'viam.app.v1.ConfigResponse', "
            "the reference's is 'viam.app.v1.LogResponse'") in problems
    assert "enum value viam.app.v1.OnlineState.ONLINE_STATE_ONLINE: number is 7, the reference's is 1" in problems


def test_a_field_pointing_at_another_message_is_reported() -> None:
    def change(proto: descriptor_pb2.FileDescriptorProto) -> None:
        field = _field(proto, "ComponentConfig", "frame")
        if field is not None:
            field.type_name = ".viam.app.v1.Translation"
    assert _mutated(change) == [("field viam.app.v1.ComponentConfig.frame: type name is 'viam.app.v1.Translation', "
                                 "the reference's is 'viam.app.v1.Frame'")]


# --- the bytes agree ------------------------------------------------------------------------

def test_a_full_robot_config_reads_the_same_in_the_sdk() -> None:
    from google.protobuf import json_format

    document = {
        "cloud": {"id": "p1", "fqdn": "127.0.0.1:8080", "secret": "s", "locationSecrets": [{"id": "a", "secret": "b"}],
                  "primaryOrgId": "o", "locationId": "l", "machineId": "m"},
        "components": [{"name": "s1", "api": "rdk:component:servo", "model": "rdk:builtin:fake",
                        "attributes": {"k": [1, "two", {"three": True}]}, "dependsOn": ["b"],
                        "frame": {"parent": "world", "translation": {"x": 1, "y": 2, "z": 3},
                                  "orientation": {"eulerAngles": {"roll": 0.5}}},
                        "logConfiguration": {"level": "debug"}}],
        "remotes": [{"name": "r", "address": "h:1", "connectionCheckInterval": "10s", "reconnectInterval": "1.500s",
                     "auth": {"entity": "e", "credentials": {"type": "CREDENTIALS_TYPE_API_KEY", "payload": "k"}}}],
        "modules": [{"name": "m", "path": "/x", "env": {"A": "1"}, "firstRunTimeout": "3600s", "tcpMode": True}],
        "network": {"bindAddress": "localhost:8080", "sessions": {"heartbeatWindow": "2s"}},
        "auth": {"handlers": [{"type": "CREDENTIALS_TYPE_API_KEY", "config": {"keys": ["k1"], "k1": "v"}}]},
        "debug": False,
    }
    ours = json_format.ParseDict(document, robot_pb2.RobotConfig())
    theirs = sdk_robot.RobotConfig.FromString(ours.SerializeToString())
    assert json_format.MessageToDict(theirs) == json_format.MessageToDict(ours)
    assert theirs.HasField("debug") and theirs.HasField("network")
