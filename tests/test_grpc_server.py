"""The gRPC transport: unknown methods, malformed requests, reflection, errors, operations."""
from __future__ import annotations

import threading
import time
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from viamlite.gen import motor_pb2, robot_pb2, servo_pb2


@pytest.fixture
def demo(served_machine: Any) -> tuple[Any, grpc.Channel]:
    """The demo machine served on loopback (viamlite.testing's ``served_machine``): (machine, channel)."""
    served = served_machine()
    return served.machine, served.channel


def unary(channel: grpc.Channel, path: str, request: bytes, timeout: float = 5) -> bytes:
    return channel.unary_unary(path)(request, timeout=timeout)


def test_unknown_method_is_unimplemented_with_its_name(demo: Any) -> None:
    _, channel = demo
    for path in ("/viam.robot.v1.RobotService/SendTraces", "/acme.Nope/Frobnicate"):
        with pytest.raises(grpc.RpcError) as info:
            unary(channel, path, b"")
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert path in info.value.details()


def test_malformed_request_is_invalid_argument_and_server_keeps_serving(demo: Any) -> None:
    _, channel = demo
    with pytest.raises(grpc.RpcError) as info:
        unary(channel, "/viam.component.servo.v1.ServoService/Move", b"\xff\xff\xff\xff")
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "MoveRequest" in info.value.details()
    reply = unary(channel, "/viam.component.servo.v1.ServoService/GetPosition",
                  servo_pb2.GetPositionRequest(name="servo1").SerializeToString())
    assert servo_pb2.GetPositionResponse.FromString(reply).position_deg == 0


def test_driver_errors_and_not_found(demo: Any) -> None:
    _, channel = demo
    with pytest.raises(grpc.RpcError) as info:
        unary(channel, "/viam.component.servo.v1.ServoService/Move",
              servo_pb2.MoveRequest(name="nope", angle_deg=1).SerializeToString())
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "'nope'" in info.value.details() and "servo1" in info.value.details()
    with pytest.raises(grpc.RpcError) as info:
        unary(channel, "/viam.component.servo.v1.ServoService/Move",
              servo_pb2.MoveRequest(name="servo1", angle_deg=500).SerializeToString())
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_operations_listed_and_cancelled(demo: Any) -> None:
    machine, channel = demo
    errors: list[grpc.RpcError] = []

    def go() -> None:
        try:
            unary(channel, "/viam.component.motor.v1.MotorService/GoFor",
                  motor_pb2.GoForRequest(name="motor1", rpm=60, revolutions=50).SerializeToString(), timeout=30)
        except grpc.RpcError as exc:
            errors.append(exc)

    thread = threading.Thread(target=go)
    thread.start()
    deadline = time.monotonic() + 5
    ops: list[Any] = []
    while time.monotonic() < deadline and not ops:
        ops = [op for op in robot_pb2.GetOperationsResponse.FromString(
            unary(channel, "/viam.robot.v1.RobotService/GetOperations", b"")).operations if op.method.endswith("GoFor")]
    assert ops and ops[0].arguments.fields["rpm"].number_value == 60
    unary(channel, "/viam.robot.v1.RobotService/CancelOperation", robot_pb2.CancelOperationRequest(id=ops[0].id).SerializeToString())
    unary(channel, "/viam.robot.v1.RobotService/BlockForOperation", robot_pb2.BlockForOperationRequest(id=ops[0].id).SerializeToString())
    thread.join(5)
    assert errors and errors[0].code() == grpc.StatusCode.CANCELLED
    assert machine["motor1"].is_moving() is False


def _reflect(channel: grpc.Channel, version: str, request: dict[str, Any]) -> Any:
    from grpc_reflection.v1alpha import reflection_pb2 as r

    call = channel.stream_stream(f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
                                 request_serializer=r.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=r.ServerReflectionResponse.FromString)
    return next(iter(call(iter([r.ServerReflectionRequest(**request)]), timeout=5)))


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
def test_reflection_lists_services_and_gives_complete_descriptors(demo: Any, version: str) -> None:
    _, channel = demo
    services = {s.name for s in _reflect(channel, version, {"list_services": ""}).list_services_response.service}
    assert {"viam.robot.v1.RobotService", "viam.component.servo.v1.ServoService",
            "viam.component.board.v1.BoardService", f"grpc.reflection.{version}.ServerReflection"} <= services
    reply = _reflect(channel, version, {"file_containing_symbol": "viam.component.servo.v1.ServoService"})
    pool = descriptor_pool.DescriptorPool()
    protos = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in reply.file_descriptor_response.file_descriptor_proto]
    by_name = {p.name: p for p in protos}

    def add(name: str) -> None:
        if name in added:
            return
        for dep in by_name[name].dependency:
            add(dep)
        pool.Add(by_name[name])
        added.add(name)

    added: set[str] = set()
    for name in by_name:
        add(name)
    method = pool.FindMethodByName("viam.component.servo.v1.ServoService.Move")
    assert method.input_type.fields_by_name["angle_deg"].number == 2


def test_long_calls_do_not_starve_quick_ones() -> None:
    """More long-running calls than quick workers: quick calls are still answered."""
    from viamlite.machine import Machine
    from viamlite.adapters.serving import MachineServer

    motors = [{"name": f"m{i}", "api": "rdk:component:motor", "model": "fake"} for i in range(8)]
    machine = Machine.from_config({"components": [*motors, {"name": "s", "api": "rdk:component:servo", "model": "fake"}]})
    server = MachineServer(machine, quick_workers=2)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.start('127.0.0.1:0')}")
    go_for = channel.unary_unary("/viam.component.motor.v1.MotorService/GoFor")
    calls = [go_for.future(motor_pb2.GoForRequest(name=f"m{i}", rpm=60, revolutions=1000).SerializeToString(), timeout=60)
             for i in range(8)]
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(machine[f"m{i}"].is_moving() for i in range(8)):
            time.sleep(0.01)
        assert all(machine[f"m{i}"].is_moving() for i in range(8)), "all eight GoFor calls run at once"
        reply = unary(channel, "/viam.component.servo.v1.ServoService/GetPosition",
                      servo_pb2.GetPositionRequest(name="s").SerializeToString(), timeout=5)
        assert servo_pb2.GetPositionResponse.FromString(reply).position_deg == 0
    finally:
        unary(channel, "/viam.robot.v1.RobotService/StopAll", b"")
        for call in calls:
            call.cancel()
        channel.close()
        server.stop(0)
        machine.close()


def test_a_routers_refusal_keeps_its_status_code() -> None:
    from viamlite.gen import POOL
    from viamlite.rpc import Code, RpcError
    from viamlite.transport.grpc_server import GrpcServer

    def router(path: str, first: bytes, call: Any) -> Any:
        raise RpcError(Code.FAILED_PRECONDITION, f"{path} would loop back to this machine")

    server = GrpcServer([], pool=POOL, router=router)
    port = server.add_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        with pytest.raises(grpc.RpcError) as info:
            unary(channel, "/acme.Arm/Move", b"\x0a\x01a")
        assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "loop back" in info.value.details()
    finally:
        channel.close()
        server.stop(0)
