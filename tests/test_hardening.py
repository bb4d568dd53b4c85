"""Hostile input: random bytes and random well-typed messages at every served method,
oversized requests, too many streams. The server answers each and keeps serving."""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor as d
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viamlite.gen import POOL, board_pb2, robot_pb2, servo_pb2
from viamlite.transport.grpc_server import MAX_LONG_CALLS_PER_CONNECTION, MAX_MESSAGE_BYTES

NAMES = ["servo1", "motor1", "encoder1", "sensor1", "board1", "movement_sensor1", "power_sensor1", "generic1",
         "base1", "gripper1", "button1", "switch1", "camera1", "nope", ""]
#: A server that crashed, hung or stopped serving would answer these; UNKNOWN is an
#: unexpected failure, where a person gets no actionable message.
BROKEN = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


@pytest.fixture(scope="module")
def fuzz_target() -> Iterator[Any]:
    """The demo machine served in-process (no Shutdown callback): (server, channel, methods)."""
    from viamlite.machine import Machine
    from viamlite.cli.serve import demo_config
    from viamlite.adapters.serving import MachineServer

    machine = Machine(demo_config())
    server = MachineServer(machine)
    port = server.start("127.0.0.1:0")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    methods = []
    for path in server.grpc.paths:
        service, _, name = path[1:].rpartition("/")
        if "reflection" in service:
            continue
        md = POOL.FindServiceByName(service).methods_by_name[name]
        methods.append((path, md))
    yield server, channel, methods
    channel.close()
    server.stop(0)
    machine.close()


def call_raw(channel: grpc.Channel, path: str, md: Any, payload: bytes) -> grpc.StatusCode:
    """Send ``payload`` to ``path``; the status it ends with (streams are read for a moment)."""
    try:
        if md.server_streaming:
            stream = channel.unary_stream(path)(payload, timeout=0.3)
            for _ in stream:
                pass
        else:
            channel.unary_unary(path)(payload, timeout=1.0)
        return grpc.StatusCode.OK
    except grpc.RpcError as err:
        return err.code()


def still_serving(channel: grpc.Channel) -> None:
    """A normal client's calls work."""
    move = channel.unary_unary("/viam.component.servo.v1.ServoService/Move",
                               request_serializer=servo_pb2.MoveRequest.SerializeToString,
                               response_deserializer=servo_pb2.MoveResponse.FromString)
    move(servo_pb2.MoveRequest(name="servo1", angle_deg=30), timeout=5)
    names = channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames",
                                request_serializer=robot_pb2.ResourceNamesRequest.SerializeToString,
                                response_deserializer=robot_pb2.ResourceNamesResponse.FromString)
    assert len(names(robot_pb2.ResourceNamesRequest(), timeout=5).resources) == 13


# -- random well-typed messages -------------------------------------------------------

_SCALARS: dict[int, st.SearchStrategy[Any]] = {
    d.FieldDescriptor.TYPE_DOUBLE: st.floats(allow_nan=True, allow_infinity=True),
    d.FieldDescriptor.TYPE_FLOAT: st.floats(width=32, allow_nan=True, allow_infinity=True),
    d.FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SINT64: st.integers(-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_UINT64: st.integers(0, 2**64 - 1),
    d.FieldDescriptor.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SINT32: st.integers(-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_UINT32: st.integers(0, 2**32 - 1),
    d.FieldDescriptor.TYPE_BOOL: st.booleans(),
    d.FieldDescriptor.TYPE_STRING: st.one_of(st.sampled_from(NAMES), st.text(max_size=20)),
    d.FieldDescriptor.TYPE_BYTES: st.binary(max_size=64),
}


def fill(draw: Any, msg: Any, depth: int = 0, resource: str = "") -> None:
    """Set a random subset of ``msg``'s fields to random values of their types."""
    for field in msg.DESCRIPTOR.fields:
        if field.name == "name" and field.type == d.FieldDescriptor.TYPE_STRING:
            # mostly the method's own resource, so calls get past the lookup
            msg.name = draw(st.sampled_from([resource] * 6 + NAMES)) if resource else draw(st.sampled_from(NAMES))
            continue
        if not draw(st.booleans()):
            continue
        count = draw(st.integers(0, 3)) if field.is_repeated else 1
        for _ in range(count):
            if field.type == d.FieldDescriptor.TYPE_MESSAGE:
                if depth > 2 or field.message_type.GetOptions().map_entry:
                    continue
                target = getattr(msg, field.name)
                child = target.add() if field.is_repeated else target
                if field.message_type.full_name == "google.protobuf.Struct":
                    child.update(draw(st.dictionaries(st.text(max_size=5), st.integers(-5, 5), max_size=3)))
                else:
                    fill(draw, child, depth + 1)
            elif field.type == d.FieldDescriptor.TYPE_ENUM:
                value = draw(st.integers(-3, 8))
                if field.is_repeated:
                    getattr(msg, field.name).append(value)
                else:
                    setattr(msg, field.name, value)
            elif field.type in _SCALARS:
                value = draw(_SCALARS[field.type])
                if field.is_repeated:
                    getattr(msg, field.name).append(value)
                else:
                    setattr(msg, field.name, value)


VOLUME: Counter[str] = Counter()
CODES: Counter[tuple[str, str]] = Counter()


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_well_typed_messages_at_every_method(fuzz_target: Any, data: Any) -> None:
    from google.protobuf import message_factory

    server, channel, methods = fuzz_target
    path, md = data.draw(st.sampled_from(methods))
    request = message_factory.GetMessageClass(md.input_type)()
    subtype = path.split(".")[2] if path.startswith("/viam.component.") else ""
    fill(data.draw, request, resource=f"{subtype}1" if subtype else "")
    code = call_raw(channel, path, md, request.SerializeToString())
    VOLUME["typed"] += 1
    CODES[(path, code.name)] += 1
    assert code not in BROKEN, f"{path} answered {code} to {request}"
    if VOLUME["typed"] % 50 == 0:
        still_serving(channel)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(data=st.data(), payload=st.binary(max_size=256))
def test_random_bytes_at_every_method(fuzz_target: Any, data: Any, payload: bytes) -> None:
    server, channel, methods = fuzz_target
    path, md = data.draw(st.sampled_from(methods))
    code = call_raw(channel, path, md, payload)
    VOLUME["bytes"] += 1
    assert code not in BROKEN, f"{path} answered {code} to {payload!r}"
    if VOLUME["bytes"] % 50 == 0:
        still_serving(channel)


def test_fuzz_volume_and_the_server_still_serves(fuzz_target: Any) -> None:
    server, channel, methods = fuzz_target
    still_serving(channel)
    print(f"\nfuzzed {len(methods)} methods: {VOLUME['typed']} random well-typed messages, "
          f"{VOLUME['bytes']} random byte strings")
    print("status codes:", dict(Counter(code for _, code in CODES.elements())))
    print("UNKNOWN from:", sorted({p for (p, c) in CODES if c == "UNKNOWN"}))
    assert VOLUME["typed"] >= 100 and VOLUME["bytes"] >= 100


# -- oversized requests, too many streams --------------------------------------------


def test_oversized_request_is_resource_exhausted_and_others_keep_working(fuzz_target: Any) -> None:
    server, channel, _ = fuzz_target
    huge = servo_pb2.MoveRequest(name="x" * (MAX_MESSAGE_BYTES + 1024), angle_deg=1).SerializeToString()
    with pytest.raises(grpc.RpcError) as info:
        channel.unary_unary("/viam.component.servo.v1.ServoService/Move")(huge, timeout=5)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    still_serving(channel)


def test_streams_per_connection_are_bounded_and_other_clients_unaffected(fuzz_target: Any) -> None:
    server, _, _ = fuzz_target
    port = server.port
    own_connection = [("grpc.use_local_subchannel_pool", 1)]  # channels otherwise share one connection
    greedy = grpc.insecure_channel(f"127.0.0.1:{port}", options=own_connection)
    other = grpc.insecure_channel(f"127.0.0.1:{port}", options=own_connection)
    stream_ticks = "/viam.component.board.v1.BoardService/StreamTicks"
    request = board_pb2.StreamTicksRequest(name="board1", pin_names=["8"])
    opened = [greedy.unary_stream(stream_ticks, request_serializer=board_pb2.StreamTicksRequest.SerializeToString,
                                  response_deserializer=board_pb2.StreamTicksResponse.FromString)(request, timeout=20)
              for _ in range(MAX_LONG_CALLS_PER_CONNECTION)]
    ops = greedy.unary_unary("/viam.robot.v1.RobotService/GetOperations",
                             request_serializer=robot_pb2.GetOperationsRequest.SerializeToString,
                             response_deserializer=robot_pb2.GetOperationsResponse.FromString)
    deadline = time.monotonic() + 10
    while len(ops(robot_pb2.GetOperationsRequest(), timeout=5).operations) < MAX_LONG_CALLS_PER_CONNECTION:
        assert time.monotonic() < deadline, "the streams did not start"
        time.sleep(0.02)
    extra = greedy.unary_stream(stream_ticks, request_serializer=board_pb2.StreamTicksRequest.SerializeToString,
                                response_deserializer=board_pb2.StreamTicksResponse.FromString)(request, timeout=5)
    with pytest.raises(grpc.RpcError) as info:
        next(iter(extra))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "another connection" in info.value.details()
    # Another client is not affected: it may stream, and call.
    result: list[Any] = []
    mine = other.unary_stream(stream_ticks, request_serializer=board_pb2.StreamTicksRequest.SerializeToString,
                              response_deserializer=board_pb2.StreamTicksResponse.FromString)(request, timeout=5)
    threading.Thread(target=lambda: result.append(_first_or_code(mine)), daemon=True).start()
    still_serving(other)
    set_gpio = other.unary_unary("/viam.component.board.v1.BoardService/SetGPIO",
                                 request_serializer=board_pb2.SetGPIORequest.SerializeToString,
                                 response_deserializer=board_pb2.SetGPIOResponse.FromString)
    set_gpio(board_pb2.SetGPIORequest(name="board1", pin="8", high=True), timeout=5)
    deadline = time.monotonic() + 5
    while not result and time.monotonic() < deadline:
        time.sleep(0.02)
    assert result and result[0] == "8", result
    for call in opened:
        call.cancel()
    mine.cancel()
    greedy.close()
    other.close()


def _first_or_code(stream: Any) -> Any:
    try:
        return next(iter(stream)).pin_name
    except grpc.RpcError as err:
        return err.code()
