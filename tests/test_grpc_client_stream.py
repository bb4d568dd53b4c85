"""The gRPC transport serves client-streaming methods: the handler reads the caller's
messages as they arrive and answers once; a malformed message or a refusal is a status."""
from __future__ import annotations

import grpc
import pytest
from google.protobuf import struct_pb2 as default_struct

from viamlite.gen import POOL, struct_pb2_of_pool
from viamlite.rpc import Code, Method, RpcError
from viamlite.transport.grpc_server import GrpcServer

Struct, Value, _ = struct_pb2_of_pool()
PATH = "/test.Summer/Sum"


def _sum(requests, call):  # type: ignore[no-untyped-def]
    total, count = 0.0, 0
    for request in requests:
        if "stop" in request.fields:
            raise RpcError(Code.INVALID_ARGUMENT, f"message {count} says stop")
        total += request.fields["n"].number_value
        count += 1
    out = Struct()
    out.fields["total"].number_value = total
    out.fields["count"].number_value = count
    return out


@pytest.fixture
def channel():  # type: ignore[no-untyped-def]
    server = GrpcServer([Method(PATH, Struct, Struct, _sum, client_streaming=True)], pool=POOL)
    port = server.add_port("127.0.0.1:0")
    server.start()
    ch = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield ch
    ch.close()
    server.stop(0)


def _messages(*values: dict) -> list[bytes]:
    out = []
    for v in values:
        s = default_struct.Struct()
        s.update(v)
        out.append(s.SerializeToString())
    return out


def test_the_handler_reads_every_message_and_answers_once(channel) -> None:  # type: ignore[no-untyped-def]
    call = channel.stream_unary(PATH)
    reply = default_struct.Struct.FromString(call(iter(_messages({"n": 1}, {"n": 2}, {"n": 3.5})), timeout=5))
    assert (reply["total"], reply["count"]) == (6.5, 3)
    empty = default_struct.Struct.FromString(call(iter([]), timeout=5))
    assert empty["count"] == 0


def test_a_refusal_and_a_malformed_message_are_statuses_and_the_server_goes_on(channel) -> None:  # type: ignore[no-untyped-def]
    call = channel.stream_unary(PATH)
    with pytest.raises(grpc.RpcError) as info:
        call(iter(_messages({"n": 1}, {"stop": True})), timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "message 1 says stop" in info.value.details()
    with pytest.raises(grpc.RpcError) as info:
        call(iter([_messages({"n": 1})[0], b"\xff\xff\xff"]), timeout=5)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "Struct" in info.value.details()
    reply = default_struct.Struct.FromString(call(iter(_messages({"n": 4})), timeout=5))
    assert reply["total"] == 4


def test_a_malformed_message_reaches_a_wrapping_handler_as_invalid_argument() -> None:
    def wrapped(requests, call):  # type: ignore[no-untyped-def]  # as the fleet's handlers map every failure
        try:
            return _sum(requests, call)
        except RpcError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise RpcError(Code.INTERNAL, f"failed: {exc!r}") from None

    server = GrpcServer([Method(PATH, Struct, Struct, wrapped, client_streaming=True)], pool=POOL)
    port = server.add_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            with pytest.raises(grpc.RpcError) as info:
                ch.stream_unary(PATH)(iter([_messages({"n": 1})[0], b"\xff\xff\xff"]), timeout=5)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "Struct" in info.value.details()
    finally:
        server.stop(0)
