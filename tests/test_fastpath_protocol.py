"""docs/fastpath.md, rule by rule, against a running server over a raw socket.

Each test checks one rule of the document with bare msgpack frames, as a client written
from the document alone would see them: the exact message types, codes and shapes. Only
the public surface is used (FastPathServer, its listeners, the framing helpers and the
schema's numbers), so the tests hold whatever the server's insides look like.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgpack
import pytest

from tests.rawclient import WAIT, Raw
from viamlite.errors import PermissionDeniedError, UnauthenticatedError
from viamlite.fastpath import schema as S
from viamlite.fastpath.framing import encode_stream
from viamlite.fastpath.server import FastPathServer
from viamlite.machine import Machine
from viamlite.cli.serve import demo_config

E = S.Err
MAX_ID = 2**32 - 1


def goodbye_then_close(raw: Raw, code: int) -> list:
    """The next message is GOODBYE ``code`` with a text reason, and then the connection closes."""
    message = raw.recv()
    assert message[0] == S.GOODBYE and message[1] == code and isinstance(message[2], str) and message[2], message
    assert len(message) == 3
    assert raw.closed(), "the server sent more after its GOODBYE"
    return message


def error(reply: Any, rid: int, code: int) -> str:
    assert reply[0] == S.ERROR and reply[1] == rid and reply[2] == code, reply
    assert len(reply) == 4 and isinstance(reply[3], str) and reply[3]
    return reply[3]


def result(reply: Any, rid: int) -> Any:
    assert reply[0] == S.RESULT and reply[1] == rid, reply
    return reply[2]


# -- servers ---------------------------------------------------------------------------------------


class Keys:
    """Test-only authenticator: one API key; tokens are 'token-for-<key id>'."""

    keys = {"key-1": "s3cret"}

    def verify(self, token: str) -> str:
        if not token.startswith("token-for-") or token[10:] not in self.keys:
            raise UnauthenticatedError("the access token is not valid")
        return token[10:]

    def authenticate(self, key_id: str, key: str) -> str:
        if self.keys.get(key_id) != key:
            raise PermissionDeniedError(f"API key {key_id!r} is not valid")
        return f"token-for-{key_id}"


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., SimpleNamespace]]:
    """``serve(**server_options)``: a demo machine served on TCP and a unix socket."""
    started: list[SimpleNamespace] = []

    def start(**options: Any) -> SimpleNamespace:
        machine = Machine(demo_config())
        server = FastPathServer(machine, **options)
        _, port = server.listen_tcp("127.0.0.1:0")
        path = server.listen_unix(tmp_path / f"fp{len(started)}.sock")
        env = SimpleNamespace(machine=machine, server=server, tcp=f"127.0.0.1:{port}", unix=f"unix:{path}")
        started.append(env)
        return env

    yield start
    for env in started:
        env.server.stop()
        env.machine.close()


@pytest.fixture
def fast(serve: Callable[..., SimpleNamespace]) -> SimpleNamespace:
    return serve()


@pytest.fixture
def raw(fast: SimpleNamespace) -> Iterator[Raw]:
    """A connection that has said HELLO."""
    client = Raw(fast.tcp)
    client.hello()
    yield client
    client.close()


# -- §2: request ids and bad messages -------------------------------------------------------------


def test_request_ids_from_1_to_2_pow_32_minus_1_are_echoed(raw: Raw) -> None:
    for rid in (1, 7, 65536, MAX_ID):
        assert result(raw.request([S.PING, rid]), rid) > 0


@pytest.mark.parametrize("rid", [0, -1, 2**32, 2**64 - 1, "7", None, 1.0])
def test_an_invalid_request_id_is_error_0_and_the_request_is_not_carried_out(raw: Raw, rid: Any) -> None:
    servo = raw.resolve("servo1")
    raw.send([S.CALL, rid, servo, 10, [33]])  # servo1.move(33): must not happen
    message = error(raw.recv(), 0, E.INVALID_ARGUMENT)
    assert "request id" in message
    assert result(raw.request([S.CALL, 5, servo, 11, []]), 5) == 0  # not moved; the connection goes on


def test_bad_messages_after_hello_get_errors_and_the_connection_goes_on(raw: Raw) -> None:
    raw.send(b"\xc1")  # not msgpack
    error(raw.recv(), 0, E.INVALID_ARGUMENT)
    raw.send({"not": "an array"})
    error(raw.recv(), 0, E.INVALID_ARGUMENT)
    raw.send([])
    error(raw.recv(), 0, E.INVALID_ARGUMENT)
    raw.send(["x", 1])
    error(raw.recv(), 0, E.INVALID_ARGUMENT)
    raw.send([77, 5])
    error(raw.recv(), 5, E.UNIMPLEMENTED)
    raw.send([S.RESULT, 6, None])  # a server-to-client type
    error(raw.recv(), 6, E.UNIMPLEMENTED)
    raw.send([S.CALL, 8, 1])
    assert "CALL has 5 elements, got 3" in error(raw.recv(), 8, E.INVALID_ARGUMENT)
    raw.send([S.PING, 0, 1])  # too long, and its id is not valid: id 0
    error(raw.recv(), 0, E.INVALID_ARGUMENT)
    raw.send([S.SETPOINT, 4, 1])  # SETPOINT carries no request id: id 0
    error(raw.recv(), 0, E.INVALID_ARGUMENT)
    assert result(raw.request([S.PING, 9]), 9) > 0


# -- §2.1: the first message and HELLO ------------------------------------------------------------


@pytest.mark.parametrize("transport", ["tcp", "unix"])
@pytest.mark.parametrize("first", [
    [S.PING, 1],
    [S.RESOLVE, 1, "servo1", None],
    [S.SETPOINT, 1, 1, [10]],
    [77, 1],
    [S.RESULT, 1, None],
    {"not": "an array"},
    [],
    ["hello", 1, 1, {}],
    b"\xc1",  # not msgpack
    b"\x01",  # msgpack, but not an array
], ids=["ping", "resolve", "setpoint", "unknown-type", "server-type", "map", "empty", "text-type", "not-msgpack",
        "integer"])
def test_anything_but_hello_first_ends_the_connection_with_goodbye_9(fast: SimpleNamespace, transport: str,
                                                                     first: Any) -> None:
    client = Raw(getattr(fast, transport))
    client.send(first)
    goodbye_then_close(client, E.FAILED_PRECONDITION)


@pytest.mark.parametrize("hello", [
    [S.HELLO, 1, 1],
    [S.HELLO, 1, 1, {}, None],
    [S.HELLO, 0, 1, {}],
    [S.HELLO, -1, 1, {}],
    [S.HELLO, 2**32, 1, {}],
    [S.HELLO, "1", 1, {}],
    [S.HELLO, 1, 1, []],
    [S.HELLO, 1, 1, "token"],
], ids=["short", "long", "id-0", "id-negative", "id-2**32", "id-text", "options-array", "options-text"])
def test_a_malformed_hello_ends_the_connection_with_goodbye_3(fast: SimpleNamespace, hello: list) -> None:
    client = Raw(fast.tcp)
    client.send(hello)
    goodbye_then_close(client, E.INVALID_ARGUMENT)


@pytest.mark.parametrize("version", [0, -1, "1", 1.0, None])
def test_a_version_not_an_integer_of_at_least_1_is_goodbye_9(fast: SimpleNamespace, version: Any) -> None:
    client = Raw(fast.tcp)
    client.send([S.HELLO, 1, version, {}])
    assert "not supported" in goodbye_then_close(client, E.FAILED_PRECONDITION)[2]


def test_a_higher_version_gets_the_servers_and_options_may_be_nil(fast: SimpleNamespace) -> None:
    client = Raw(fast.tcp)
    info = result(client.request([S.HELLO, 1, 7, None]), 1)
    assert info["version"] == S.VERSION and "token" not in info
    assert result(client.request([S.PING, 2]), 2) > 0


@pytest.mark.parametrize("timeout_ms", [3, -5, 60001, "200", True, [200]])
def test_a_bad_session_timeout_option_is_goodbye_3(fast: SimpleNamespace, timeout_ms: Any) -> None:
    client = Raw(fast.tcp)
    client.send([S.HELLO, 1, 1, {"session_timeout_ms": timeout_ms}])
    assert "session_timeout_ms" in goodbye_then_close(client, E.INVALID_ARGUMENT)[2]


@pytest.mark.parametrize("timeout_ms", [0, 5, 200.5, 60000])
def test_session_timeout_option_values_that_are_accepted(fast: SimpleNamespace, timeout_ms: Any) -> None:
    client = Raw(fast.tcp)
    client.hello({"session_timeout_ms": timeout_ms})


def test_no_hello_in_time_is_goodbye_4(serve: Callable[..., SimpleNamespace]) -> None:
    env = serve(hello_timeout=0.2, frame_timeout=0.2)
    silent = Raw(env.tcp)
    assert "no HELLO" in goodbye_then_close(silent, E.DEADLINE_EXCEEDED)[2]
    partial = Raw(env.tcp)  # a frame begun does not count as a HELLO
    partial.sock.sendall(encode_stream(msgpack.packb([S.HELLO, 1, 1, {}]))[:-2])
    goodbye_then_close(partial, E.DEADLINE_EXCEEDED)


def test_an_oversized_frame_before_hello_is_goodbye_8(fast: SimpleNamespace) -> None:
    client = Raw(fast.tcp)
    client.sock.sendall((fast.server.max_frame + 1).to_bytes(4, "big") + b"x" * 16)
    goodbye_then_close(client, E.RESOURCE_EXHAUSTED)


def test_requests_sent_with_the_hello_are_served_after_it(fast: SimpleNamespace) -> None:
    client = Raw(fast.tcp)
    client.send([S.HELLO, 1, 1, {}], [S.PING, 2], [S.RESOLVE, 3, "servo1", None])
    result(client.recv(), 1)
    result(client.recv(), 2)
    assert result(client.recv(), 3)[1] == "rdk:component:servo"


def test_a_second_hello_is_error_9_and_the_session_goes_on(raw: Raw) -> None:
    servo = raw.resolve("servo1")
    result(raw.request([S.CALL, 3, servo, 10, [21]]), 3)
    assert "already" in error(raw.request([S.HELLO, 4, 1, {"session_timeout_ms": 50}]), 4, E.FAILED_PRECONDITION)
    assert result(raw.request([S.CALL, 5, servo, 11, []]), 5) == 21  # same session, same handles


# -- §2.1: credentials ----------------------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {"token": "anything"},
    {"key_id": "key-1", "key": "wrong"},
    {"key_id": "key-1"},
], ids=["token", "key", "key-id-alone"])
def test_credentials_sent_to_a_machine_without_keys_are_ignored(fast: SimpleNamespace, options: dict) -> None:
    client = Raw(fast.tcp)
    info = client.hello(options)
    assert "token" not in info
    assert result(client.request([S.PING, 2]), 2) > 0


def test_credentials_where_keys_are_required(serve: Callable[..., SimpleNamespace]) -> None:
    env = serve(authenticator=Keys(), force_remote=True)
    cases = [({}, E.UNAUTHENTICATED), ({"key_id": "key-1"}, E.UNAUTHENTICATED),
             ({"token": "token-for-nobody"}, E.UNAUTHENTICATED),
             ({"key_id": "key-1", "key": "wrong"}, E.PERMISSION_DENIED),
             ({"key_id": "key-2", "key": "s3cret"}, E.PERMISSION_DENIED)]
    for options, code in cases:
        client = Raw(env.tcp)
        client.send([S.HELLO, 1, 1, options])
        goodbye_then_close(client, code)
    client = Raw(env.tcp)
    assert client.hello({"key_id": "key-1", "key": "s3cret"})["token"] == "token-for-key-1"
    client = Raw(env.tcp)
    assert "token" not in client.hello({"token": "token-for-key-1"})


def test_credentials_sent_on_loopback_to_a_machine_with_keys_are_checked(serve: Callable[..., SimpleNamespace]) -> None:
    env = serve(authenticator=Keys())
    Raw(env.tcp).hello()  # none needed on loopback
    client = Raw(env.tcp)
    client.send([S.HELLO, 1, 1, {"token": "token-for-nobody"}])
    goodbye_then_close(client, E.UNAUTHENTICATED)


# -- §2.2: RESOLVE's api ------------------------------------------------------------------------


def test_resolve_api_forms_and_errors(raw: Raw) -> None:
    for rid, api in enumerate([None, "", "servo", "rdk:component:servo"], start=10):
        assert result(raw.request([S.RESOLVE, rid, "servo1", api]), rid)[:2] == [1, "rdk:component:servo"]
    for rid, api in enumerate(["a:b", "rdk::servo", "rdk:component:servo:x", ":component:servo"], start=20):
        assert "three colon-separated parts" in error(raw.request([S.RESOLVE, rid, "servo1", api]), rid,
                                                       E.INVALID_ARGUMENT)
    error(raw.request([S.RESOLVE, 30, "servo1", 7]), 30, E.INVALID_ARGUMENT)
    error(raw.request([S.RESOLVE, 31, "", None]), 31, E.INVALID_ARGUMENT)
    error(raw.request([S.RESOLVE, 32, "servo1", "rdk:component:nope"]), 32, E.NOT_FOUND)
    error(raw.request([S.RESOLVE, 33, "servo1", "nope"]), 33, E.NOT_FOUND)
    assert "motor1" in error(raw.request([S.RESOLVE, 34, "servo1", "motor"]), 34, E.NOT_FOUND)
    error(raw.request([S.RESOLVE, 35, "nothing-here", None]), 35, E.NOT_FOUND)


# -- §2.5: subscriptions ----------------------------------------------------------------------------


@pytest.mark.parametrize("resource,method", [
    ("servo1", 10), ("servo1", 4), ("motor1", 20), ("motor1", 21), ("motor1", 24), ("motor1", 1),
    ("board1", 40), ("encoder1", 61), ("switch1", 115), ("button1", 110),
], ids=["servo-move", "servo-stop", "motor-set_power", "motor-go_for", "motor-reset_zero", "do_command",
        "board-set_gpio", "encoder-reset", "switch-set_position", "button-push"])
def test_subscribing_to_a_method_that_is_not_a_read_is_error_3(raw: Raw, resource: str, method: int) -> None:
    handle = raw.resolve(resource)
    args = {10: [5], 20: [0.1], 21: [10, 1], 24: [0.0], 1: [{}], 40: ["7", True], 115: [1]}.get(method, [])
    assert "cannot be subscribed to" in error(raw.request([S.SUBSCRIBE, 7, handle, method, args, 10]), 7,
                                              E.INVALID_ARGUMENT)


def test_subscribing_to_reads_opens_channels(raw: Raw) -> None:
    reads = [("servo1", 11, []), ("servo1", 5, []), ("motor1", 27, []), ("board1", 41, ["7"]),
             ("encoder1", 60, [1]), ("sensor1", 2, []), ("switch1", 116, []), ("servo1", 3, [])]
    for rid, (name, method, args) in enumerate(reads, start=10):
        channel = result(raw.request([S.SUBSCRIBE, rid, raw.resolve(name), method, args, 1]), rid)
        assert type(channel) is int and channel > 0


def test_subscribe_checks_in_order_and_opens_no_channel_on_failure(raw: Raw) -> None:
    servo, board, encoder = raw.resolve("servo1"), raw.resolve("board1"), raw.resolve("encoder1")
    error(raw.request([S.SUBSCRIBE, 10, 99, 11, [], 10]), 10, E.NOT_FOUND)
    error(raw.request([S.SUBSCRIBE, 11, servo, 99, [], 10]), 11, E.UNIMPLEMENTED)
    error(raw.request([S.SUBSCRIBE, 12, servo, 40, [], 10]), 12, E.UNIMPLEMENTED)  # not a servo method
    error(raw.request([S.SUBSCRIBE, 13, servo, 12, [3], 10]), 13, E.UNIMPLEMENTED)  # firmware only
    error(raw.request([S.SUBSCRIBE, 14, servo, 11, "x", 10]), 14, E.INVALID_ARGUMENT)
    for rid, rate in enumerate([0, -1, 2000.5, 1e9, True, "10", None], start=20):
        assert "rate_hz" in error(raw.request([S.SUBSCRIBE, rid, servo, 11, [], rate]), rid, E.INVALID_ARGUMENT)
    # the trial call: what the CALL would get
    assert "takes no arguments" in error(raw.request([S.SUBSCRIBE, 30, servo, 11, [5], 10]), 30, E.INVALID_ARGUMENT)
    error(raw.request([S.SUBSCRIBE, 31, board, 41, [], 10]), 31, E.INVALID_ARGUMENT)
    error(raw.request([S.SUBSCRIBE, 32, board, 41, [True], 10]), 32, E.INVALID_ARGUMENT)
    error(raw.request([S.SUBSCRIBE, 33, encoder, 60, [7], 10]), 33, E.INVALID_ARGUMENT)  # refused by the encoder
    assert error(raw.request([S.CALL, 34, encoder, 60, [7]]), 34, E.INVALID_ARGUMENT)
    # none of these opened a channel: the first that opens is channel 1
    assert result(raw.request([S.SUBSCRIBE, 40, servo, 11, [], 2000]), 40) == 1


def test_the_subscribe_result_comes_before_the_channels_first_sample(raw: Raw) -> None:
    servo = raw.resolve("servo1")
    known: set[int] = set()
    first: dict[int, list] = {}  # channel -> its first message
    for i in range(20):
        rid = 100 + i
        raw.send([S.SUBSCRIBE, rid, servo, 11, [], 2000])
        reply, before = raw.recv_until(lambda m: m[0] == S.RESULT and m[1] == rid)
        assert all(m[0] in (S.SAMPLE, S.EVENT) and m[1] in known for m in before), before
        for message in before:
            first.setdefault(message[1], message)
        known.add(reply[2])
    while len(first) < len(known):
        message = raw.recv()
        assert message[1] in known
        first.setdefault(message[1], message)
    assert all(m[0] == S.SAMPLE and m[2] == 0 for m in first.values())


# -- §2.6: setpoint streams -------------------------------------------------------------------------


@pytest.mark.parametrize("resource,method", [
    ("servo1", 11), ("servo1", 4), ("motor1", 21), ("motor1", 24), ("motor1", 25), ("base1", 90),
    ("gripper1", 100), ("motor1", 1), ("board1", 40), ("switch1", 115),
], ids=["servo-get_position", "servo-stop", "motor-go_for", "motor-reset_zero", "motor-get_position",
        "base-move_straight", "gripper-open", "do_command", "board-set_gpio", "switch-set_position"])
def test_streaming_a_method_that_is_not_a_setpoint_method_is_error_3(raw: Raw, resource: str, method: int) -> None:
    handle = raw.resolve(resource)
    assert "cannot take setpoints" in error(raw.request([S.OPEN_STREAM, 7, handle, method, 100]), 7,
                                            E.INVALID_ARGUMENT)


def test_setpoint_methods_can_be_streamed_with_timeouts_5_to_60000(raw: Raw) -> None:
    streams = [("servo1", 10), ("motor1", 20), ("motor1", 23), ("base1", 92), ("base1", 93)]
    for rid, (name, method) in enumerate(streams, start=10):
        assert type(result(raw.request([S.OPEN_STREAM, rid, raw.resolve(name), method, 60000]), rid)) is int
    servo = raw.resolve("servo1")
    result(raw.request([S.OPEN_STREAM, 20, servo, 10, 5]), 20)
    for rid, timeout in enumerate([4, 60001, True, "100", None], start=30):
        assert "timeout_ms" in error(raw.request([S.OPEN_STREAM, rid, servo, 10, timeout]), rid, E.INVALID_ARGUMENT)
    error(raw.request([S.OPEN_STREAM, 40, 99, 10, 100]), 40, E.NOT_FOUND)
    error(raw.request([S.OPEN_STREAM, 41, servo, 99, 100]), 41, E.UNIMPLEMENTED)


def test_the_open_stream_result_comes_before_the_channels_first_event(raw: Raw) -> None:
    servo = raw.resolve("servo1")
    for i in range(10):
        rid = 100 + i
        raw.send([S.OPEN_STREAM, rid, servo, 10, 5])  # the deadman fires 5 ms after opening
        reply, before = raw.recv_until(lambda m: m[0] == S.RESULT and m[1] == rid)
        assert all(m[0] == S.EVENT and m[1] < reply[2] for m in before), before
        event, _ = raw.recv_until(lambda m: m[0] == S.EVENT and m[1] == reply[2])
        assert event[3] == E.DEADLINE_EXCEEDED


def test_a_deadman_that_fires_before_any_setpoint_reports_seq_0(raw: Raw) -> None:
    motor = raw.resolve("motor1")
    stream = result(raw.request([S.OPEN_STREAM, 5, motor, 20, 20]), 5)
    event, _ = raw.recv_until(lambda m: m[0] == S.EVENT)
    assert event[:4] == [S.EVENT, stream, 0, E.DEADLINE_EXCEEDED]


def test_a_setpoint_to_a_channel_that_is_not_an_open_stream_gets_event_5(raw: Raw) -> None:
    servo = raw.resolve("servo1")
    raw.send([S.SETPOINT, 99, 3, [10]])
    event = raw.recv()
    assert event[:4] == [S.EVENT, 99, 3, E.NOT_FOUND] and "OPEN_STREAM" in event[4]
    sub = result(raw.request([S.SUBSCRIBE, 5, servo, 11, [], 1]), 5)
    raw.send([S.SETPOINT, sub, 4, [10]])
    event, _ = raw.recv_until(lambda m: m[0] == S.EVENT)
    assert event[:4] == [S.EVENT, sub, 4, E.NOT_FOUND]
    stream = result(raw.request([S.OPEN_STREAM, 6, servo, 10, 60000]), 6)
    result(raw.request([S.CLOSE_STREAM, 7, stream]), 7)
    raw.send([S.SETPOINT, stream, 5, [10]])
    event, _ = raw.recv_until(lambda m: m[0] == S.EVENT)
    assert event[:4] == [S.EVENT, stream, 5, E.NOT_FOUND]
    assert result(raw.request([S.CALL, 8, servo, 11, []]), 8) == 0  # none was applied


def test_a_malformed_setpoint_gets_error_0_3(raw: Raw) -> None:
    servo = raw.resolve("servo1")
    stream = result(raw.request([S.OPEN_STREAM, 5, servo, 10, 60000]), 5)
    for bad in ([S.SETPOINT, "a", 1, [10]], [S.SETPOINT, None, 1, [10]], [S.SETPOINT, stream, "x", [10]],
                [S.SETPOINT, stream, -1, [10]], [S.SETPOINT, stream, 2**32, [10]], [S.SETPOINT, stream, 1.5, [10]],
                [S.SETPOINT, stream, 1, 10], [S.SETPOINT, stream, 1, None]):
        raw.send(bad)
        message = raw.recv()
        assert message[:3] == [S.ERROR, 0, E.INVALID_ARGUMENT], (bad, message)
    assert result(raw.request([S.CALL, 8, servo, 11, []]), 8) == 0  # none was applied


def test_setpoint_seq_may_start_at_0_and_must_increase(raw: Raw) -> None:
    servo = raw.resolve("servo1")
    stream = result(raw.request([S.OPEN_STREAM, 5, servo, 10, 60000]), 5)
    raw.send([S.SETPOINT, stream, 0, [10]])  # a stream's first setpoint may have seq 0
    assert result(raw.request([S.CALL, 6, servo, 11, []]), 6) == 10
    raw.send([S.SETPOINT, stream, 0, [15]])  # a repeat of seq 0: dropped
    assert result(raw.request([S.CALL, 9, servo, 11, []]), 9) == 10
    raw.send([S.SETPOINT, stream, 1, [20]], [S.SETPOINT, stream, 1, [30]], [S.SETPOINT, stream, 3, [40]],
             [S.SETPOINT, stream, 2, [50]])
    assert result(raw.request([S.CALL, 7, servo, 11, []]), 7) == 40
    raw.send([S.SETPOINT, stream, 4, [999]])  # fails: an EVENT with its seq, which still counts
    event = raw.recv()
    assert event[:4] == [S.EVENT, stream, 4, E.INVALID_ARGUMENT]
    raw.send([S.SETPOINT, stream, 4, [60]], [S.SETPOINT, stream, MAX_ID, [70]])
    assert result(raw.request([S.CALL, 8, servo, 11, []]), 8) == 70


def test_every_deadman_is_armed_again_by_the_next_setpoint(raw: Raw) -> None:
    motor = raw.resolve("motor1")
    stream = result(raw.request([S.OPEN_STREAM, 5, motor, 20, 30]), 5)
    for seq in range(1, 5):
        raw.send([S.SETPOINT, stream, seq, [0.4]])
        event, _ = raw.recv_until(lambda m: m[0] == S.EVENT)
        assert event[:4] == [S.EVENT, stream, seq, E.DEADLINE_EXCEEDED] and "deadman" in event[4]
        assert result(raw.request([S.CALL, 10 + seq, motor, 27, []]), 10 + seq) == [False, 0.0]


# -- §2.7: GOODBYE and PING -------------------------------------------------------------------------


def test_a_clients_goodbye_is_answered_with_goodbye_0_after_earlier_replies(raw: Raw) -> None:
    raw.send([S.PING, 5], [S.GOODBYE, 0, "done"])
    assert result(raw.recv(), 5) > 0
    goodbye_then_close(raw, E.OK)


def test_a_goodbye_before_hello_is_answered_with_goodbye_0(fast: SimpleNamespace) -> None:
    client = Raw(fast.tcp)
    client.send([S.GOODBYE, 3, "changed my mind"])
    goodbye_then_close(client, E.OK)


def test_timestamps_and_ping_results_are_uint64_past_2_pow_53(fast: SimpleNamespace) -> None:
    client = Raw(fast.tcp)
    assert client.hello()["time_ns"] > 2**53
    client.send([S.PING, 5])
    payload = client.recv_payload()
    assert payload[:3] == bytes([0x93, S.RESULT, 5]) and payload[3] == 0xCF  # msgpack uint 64
    assert msgpack.unpackb(payload)[2] > 2**53
    servo = client.resolve("servo1")
    client.send([S.SUBSCRIBE, 6, servo, 11, [], 100])
    channel = client.recv_until(lambda m: m[0] == S.RESULT and m[1] == 6)[0][2]
    payload = client.recv_payload()
    assert payload[:4] == bytes([0x95, S.SAMPLE, channel, 0]) and payload[4] == 0xCF
    assert msgpack.unpackb(payload)[3] > 2**53


# -- §2.8: channels -----------------------------------------------------------------------------------


def test_channel_ids_count_up_from_1_and_are_never_reused(raw: Raw) -> None:
    servo = raw.resolve("servo1")
    assert result(raw.request([S.SUBSCRIBE, 5, servo, 11, [], 1]), 5) == 1
    assert result(raw.request([S.OPEN_STREAM, 6, servo, 10, 60000]), 6) == 2
    result(raw.request([S.UNSUBSCRIBE, 7, 1]), 7)
    assert result(raw.request([S.SUBSCRIBE, 8, servo, 11, [], 1]), 8) == 3
    result(raw.request([S.CLOSE_STREAM, 9, 2]), 9)
    assert result(raw.request([S.OPEN_STREAM, 10, servo, 10, 60000]), 10) == 4
    error(raw.request([S.UNSUBSCRIBE, 11, 1]), 11, E.NOT_FOUND)
    error(raw.request([S.CLOSE_STREAM, 12, 2]), 12, E.NOT_FOUND)
    error(raw.request([S.UNSUBSCRIBE, 13, 4]), 13, E.NOT_FOUND)  # a stream is not a subscription
    error(raw.request([S.CLOSE_STREAM, 14, 3]), 14, E.NOT_FOUND)  # and the other way round


def test_64_channels_are_shared_by_subscriptions_and_setpoint_streams(raw: Raw) -> None:
    servo = raw.resolve("servo1")
    for i in range(32):
        result(raw.request([S.SUBSCRIBE, 100 + i, servo, 11, [], 1]), 100 + i)
        result(raw.request([S.OPEN_STREAM, 200 + i, servo, 10, 60000]), 200 + i)
    error(raw.request([S.SUBSCRIBE, 5, servo, 11, [], 1]), 5, E.RESOURCE_EXHAUSTED)
    error(raw.request([S.OPEN_STREAM, 6, servo, 10, 60000]), 6, E.RESOURCE_EXHAUSTED)
    result(raw.request([S.UNSUBSCRIBE, 7, 1]), 7)
    assert result(raw.request([S.OPEN_STREAM, 8, servo, 10, 60000]), 8) == 65
    error(raw.request([S.SUBSCRIBE, 9, servo, 11, [], 1]), 9, E.RESOURCE_EXHAUSTED)


def test_channel_0_events_count_their_seq_from_0(fast: SimpleNamespace) -> None:
    client = Raw(fast.tcp)
    client.hello({"session_timeout_ms": 20})
    for n in range(3):
        event, _ = client.recv_until(lambda m: m[0] == S.EVENT)
        assert event[:4] == [S.EVENT, 0, n, E.DEADLINE_EXCEEDED] and "session" in event[4]
        client.send([S.PING, 10 + n])  # something received: the timeout is armed again


# -- §3: the method table and arguments ----------------------------------------------------------


ANY = {"servo1": {1, 3, 4, 5, 6}, "motor1": {1, 3, 4, 5, 6}, "base1": {1, 3, 4, 5, 6}, "gripper1": {1, 3, 4, 5, 6},
       "sensor1": {1, 2, 3, 6}, "movement_sensor1": {1, 2, 3, 6}, "power_sensor1": {1, 2, 3, 6},
       "board1": {1, 3, 6}, "encoder1": {1, 3, 6}, "button1": {1, 3, 6}, "switch1": {1, 3, 6},
       "generic1": {1, 3, 6}}


def test_the_any_methods_each_resource_offers(raw: Raw) -> None:
    for rid, (name, expected) in enumerate(ANY.items(), start=10):
        handle, _, methods = result(raw.request([S.RESOLVE, rid, name, None]), rid)
        assert {m for m in methods if m < 10} == expected, name
        for rid2, method in enumerate(sorted({1, 2, 3, 4, 5, 6} - expected), start=100):
            error(raw.request([S.CALL, rid2, handle, method, []]), rid2, E.UNIMPLEMENTED)


def test_nil_stands_for_an_omitted_optional_argument(raw: Raw) -> None:
    encoder, board, servo = raw.resolve("encoder1"), raw.resolve("board1"), raw.resolve("servo1")
    assert result(raw.request([S.CALL, 5, encoder, 60, [None]]), 5)[1] == 1
    result(raw.request([S.CALL, 6, board, 49, [1, None]]), 6)
    error(raw.request([S.CALL, 7, servo, 10, [None]]), 7, E.INVALID_ARGUMENT)  # a required argument
    error(raw.request([S.CALL, 8, board, 49, [None]]), 8, E.INVALID_ARGUMENT)
    error(raw.request([S.CALL, 9, board, 49, [1, None, None]]), 9, E.INVALID_ARGUMENT)  # too many


def test_position_type_values(raw: Raw) -> None:
    encoder = raw.resolve("encoder1")
    assert result(raw.request([S.CALL, 5, encoder, 60, []]), 5)[1] == 1
    assert result(raw.request([S.CALL, 6, encoder, 60, [0]]), 6)[1] == 1
    assert result(raw.request([S.CALL, 7, encoder, 60, [1]]), 7)[1] == 1
    value, kind = result(raw.request([S.CALL, 8, encoder, 60, [2]]), 8)
    assert kind == 2 and 0.0 <= value < 360.0
    for rid, bad in enumerate([3, -1, 7], start=10):
        error(raw.request([S.CALL, rid, encoder, 60, [bad]]), rid, E.INVALID_ARGUMENT)


def test_argument_kinds_are_converted_as_documented(raw: Raw) -> None:
    servo, motor, board, base = raw.resolve("servo1"), raw.resolve("motor1"), raw.resolve("board1"), raw.resolve("base1")
    # int: 45.0 is 45; 45.5, NaN, inf and booleans are refused
    result(raw.request([S.CALL, 5, servo, 10, [45.0]]), 5)
    position = result(raw.request([S.CALL, 6, servo, 11, []]), 6)
    assert position == 45 and type(position) is int
    for rid, bad in enumerate([45.5, math.nan, math.inf, True, "45"], start=10):
        error(raw.request([S.CALL, rid, servo, 10, [bad]]), rid, E.INVALID_ARGUMENT)
    # float: an integer is taken; NaN, inf and booleans are refused
    result(raw.request([S.CALL, 20, motor, 20, [0]]), 20)
    result(raw.request([S.CALL, 21, motor, 20, [1]]), 21)
    assert result(raw.request([S.CALL, 22, motor, 27, []]), 22) == [True, 1.0]
    for rid, bad in enumerate([math.nan, math.inf, -math.inf, True, "1"], start=30):
        error(raw.request([S.CALL, rid, motor, 20, [bad]]), rid, E.INVALID_ARGUMENT)
    result(raw.request([S.CALL, 39, motor, 4, []]), 39)
    # bool: true, false, 0 and 1; a pin as an integer is its decimal name
    result(raw.request([S.CALL, 40, board, 40, [7, 1]]), 40)
    assert result(raw.request([S.CALL, 41, board, 41, ["7"]]), 41) is True
    result(raw.request([S.CALL, 42, board, 40, ["7", 0]]), 42)
    assert result(raw.request([S.CALL, 43, board, 41, [7]]), 43) is False
    result(raw.request([S.CALL, 44, board, 40, ["7", True]]), 44)
    assert result(raw.request([S.CALL, 45, board, 41, [7]]), 45) is True
    for rid, bad in enumerate([2, -1, 1.0, "true", None], start=50):
        error(raw.request([S.CALL, rid, board, 40, ["7", bad]]), rid, E.INVALID_ARGUMENT)
    error(raw.request([S.CALL, 60, board, 41, [True]]), 60, E.INVALID_ARGUMENT)  # a pin is not a boolean
    # vector3: [x, y, z] or a map, missing keys 0
    result(raw.request([S.CALL, 70, base, 92, [[0, 0.5, 0], {"z": 0.1}]]), 70)
    assert result(raw.request([S.CALL, 71, base, 5, []]), 71) is True
    for rid, bad in enumerate([[0, 1], [0, 1, True], "x", [0, 1, "z"]], start=80):
        error(raw.request([S.CALL, rid, base, 92, [bad, [0, 0, 0]]]), rid, E.INVALID_ARGUMENT)
    result(raw.request([S.CALL, 89, base, 4, []]), 89)
    # the count
    assert "takes 1 argument; got 2" in error(raw.request([S.CALL, 90, servo, 10, [1, 2]]), 90, E.INVALID_ARGUMENT)
    error(raw.request([S.CALL, 91, servo, 10, []]), 91, E.INVALID_ARGUMENT)


# -- §4.2 and §4.3: the connection limit and safety -------------------------------------------------


def test_session_timeout_is_armed_again_for_the_life_of_the_session(fast: SimpleNamespace) -> None:
    client = Raw(fast.tcp)
    client.hello({"session_timeout_ms": 30})
    motor = client.resolve("motor1")
    for n in range(3):
        result(client.request([S.CALL, 10 + n, motor, 20, [0.4]]), 10 + n)
        event, _ = client.recv_until(lambda m: m[0] == S.EVENT)
        assert event[:2] == [S.EVENT, 0] and event[3] == E.DEADLINE_EXCEEDED and "motor1" in event[4]
        assert result(client.request([S.CALL, 20 + n, motor, 27, []]), 20 + n) == [False, 0.0]


def test_a_session_that_ends_stops_only_what_it_was_the_last_to_move(fast: SimpleNamespace) -> None:
    a, b = Raw(fast.tcp), Raw(fast.tcp)
    a.hello()
    b.hello()
    a_motor, a_base = a.resolve("motor1"), a.resolve("base1")
    b_motor, b_base = b.resolve("motor1"), b.resolve("base1")
    result(a.request([S.CALL, 3, a_motor, 20, [0.5]]), 3)
    result(a.request([S.CALL, 4, a_base, 92, [[0, 0.5, 0], [0, 0, 0]]]), 4)
    result(b.request([S.CALL, 3, b_motor, 20, [0.3]]), 3)  # B moves motor1 after A: B drives it now
    a.send([S.GOODBYE, 0, "done"])
    goodbye_then_close(a, E.OK)  # once closed, A's stops are done
    assert result(b.request([S.CALL, 5, b_motor, 27, []]), 5) == [True, 0.3]
    assert result(b.request([S.CALL, 6, b_base, 5, []]), 6) is False  # A was the last to move base1


def test_a_connection_beyond_the_limit_gets_goodbye_8_and_is_closed(serve: Callable[..., SimpleNamespace]) -> None:
    env = serve(max_connections=2)
    first, second = Raw(env.tcp), Raw(env.unix)
    first.hello()
    second.hello()
    third = Raw(env.tcp)
    assert "at most 2" in goodbye_then_close(third, E.RESOURCE_EXHAUSTED)[2]
    assert result(first.request([S.PING, 5]), 5) > 0
    assert result(second.request([S.PING, 5]), 5) > 0
    first.send([S.GOODBYE, 0, "done"])
    goodbye_then_close(first, E.OK)
    deadline = time.monotonic() + WAIT  # the server forgets a closed connection soon after closing it
    while True:
        fourth = Raw(env.tcp)
        fourth.send([S.HELLO, 1, 1, {}])
        reply = fourth.recv()
        if reply[0] == S.RESULT:
            break
        assert reply[:2] == [S.GOODBYE, E.RESOURCE_EXHAUSTED] and time.monotonic() < deadline
        fourth.close()
        time.sleep(0.01)
