"""The client's sans-I/O protocol alone: no socket, no thread, no event loop.

Bytes are fed whole and one byte at a time, as the framing tests do; what comes out (the
replies, the samples and events routed to channels, the connection state) must not depend
on how the bytes were split.
"""
from __future__ import annotations

import itertools
from typing import Any

import msgpack
import pytest

from viamlite.fastpath import schema as S
from viamlite.fastpath.clientprotocol import (
    MAX_REQUEST_ID,
    ClientChannel,
    ClientProtocol,
    SampledChannel,
    hello_options,
    hello_refused,
    result_of,
)
from viamlite.fastpath.errors import AuthError, ConnectionClosedError, InvalidArgument, NotFound
from viamlite.fastpath.framing import SerialDecoder, StreamDecoder, encode_serial, encode_stream
from viamlite.fastpath.proxy import Event, Sample
from viamlite.state import ConnectionState


class Collected(SampledChannel):
    """A subscription that keeps what it is given."""

    def __init__(self, callback: Any = None) -> None:
        super().__init__()
        self.samples: list[Sample] = []
        self.callback = callback

    def _deliver(self, sample: Sample) -> None:
        self.samples.append(sample)


class Stream(ClientChannel):
    def __init__(self) -> None:
        super().__init__()
        self.seq = 0


def frames(messages: list, serial: bool = False) -> bytes:
    frame = encode_serial if serial else encode_stream
    return b"".join(frame(msgpack.packb(m)) for m in messages)


def feed(proto: ClientProtocol, data: bytes, bytewise: bool) -> list[list]:
    if not bytewise:
        return proto.receive(data)
    out: list[list] = []
    for i in range(len(data)):
        out += proto.receive(data[i:i + 1])
    return out


def sent(proto: ClientProtocol, data: bytes) -> list:
    decoder = SerialDecoder(proto.max_frame) if proto.serial else StreamDecoder()
    return [msgpack.unpackb(p) for p in decoder.feed(data)]


@pytest.fixture
def proto() -> ClientProtocol:
    p = ClientProtocol()
    p.connection_made()
    return p


# -- ids and what goes out ---------------------------------------------------------------------


def test_request_ids_count_from_1_and_wrap_after_2_pow_32_minus_1() -> None:
    proto = ClientProtocol()
    assert [proto.next_id() for _ in range(3)] == [1, 2, 3]
    proto._ids = itertools.count(MAX_REQUEST_ID - 1)  # two ids before the end
    ids = []
    for _ in range(4):
        message = [S.PING, None]
        proto.send(message)
        ids.append(message[1])
    assert ids == [MAX_REQUEST_ID - 1, MAX_REQUEST_ID, 1, 2]
    assert MAX_REQUEST_ID == 4294967295


def test_pipelined_ids_wrap_too() -> None:
    proto = ClientProtocol()
    proto._ids = itertools.count(MAX_REQUEST_ID)
    messages = [[S.CALL, None, 1, 11, []] for _ in range(3)]
    data = proto.send_many(messages)
    assert [m[1] for m in messages] == [MAX_REQUEST_ID, 1, 2]
    assert sent(proto, data) == messages


def test_a_given_id_is_kept_and_messages_are_framed_for_the_transport() -> None:
    for serial in (False, True):
        proto = ClientProtocol(serial=serial)
        data = proto.send([S.CALL, 77, 1, 10, (90,)])  # a tuple goes as an array
        assert sent(proto, data) == [[S.CALL, 77, 1, 10, [90]]]
        assert data.endswith(b"\x00") == serial


def test_hello_request_carries_the_options() -> None:
    hello = ClientProtocol.hello_request("tok", "kid", None, 0.2, "loop", on_timeout="hold")
    assert hello == [S.HELLO, None, S.VERSION, {"client": "loop", "token": "tok", "key_id": "kid", "key": "",
                                                 "session_timeout_ms": 200, "on_timeout": "hold"}]
    assert hello_options(None, None, None, None, "x") == {"client": "x"}


def test_setpoints_count_their_sequence_numbers(proto: ClientProtocol) -> None:
    stream = Stream()
    stream.channel = 4
    data = proto.setpoint(stream, (10,)) + proto.setpoint(stream, (20,))
    assert sent(proto, data) == [[S.SETPOINT, 4, 1, [10]], [S.SETPOINT, 4, 2, [20]]]
    assert stream.seq == 2


# -- the connection's state --------------------------------------------------------------------


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_states_from_connecting_to_closed(bytewise: bool) -> None:
    proto = ClientProtocol()
    assert proto.state is ConnectionState.CONNECTING and not proto.closed
    proto.connection_made()
    assert proto.state is ConnectionState.HANDSHAKE
    hello = proto.hello_request(client_name="t")
    proto.send(hello)
    info = {"version": 1, "session": 7}
    assert feed(proto, frames([[S.RESULT, hello[1], info]]), bytewise) == [[S.RESULT, hello[1], info]]
    assert proto.state is ConnectionState.CONNECTED and proto.info == info
    feed(proto, frames([[S.GOODBYE, S.Err.DEADLINE_EXCEEDED, "session timed out"]]), bytewise)
    assert proto.state is ConnectionState.DISCONNECTED and proto.closed
    assert proto.close_code == S.Err.DEADLINE_EXCEEDED and "session timed out" in proto.close_reason
    error = proto.closed_error()
    assert isinstance(error, ConnectionClosedError) and error.code == S.Err.DEADLINE_EXCEEDED
    proto.close()
    assert proto.state is ConnectionState.CLOSED and "session timed out" in proto.close_reason  # the first reason


def test_a_refused_hello_is_an_auth_error(proto: ClientProtocol) -> None:
    hello = proto.hello_request(token="bad")
    proto.send(hello)
    proto.receive(frames([[S.GOODBYE, S.Err.UNAUTHENTICATED, "token refused"]]))
    assert proto.state is ConnectionState.DISCONNECTED and proto.info == {}
    assert isinstance(hello_refused(proto.closed_error()), AuthError)
    other = ConnectionClosedError("gone", S.Err.UNAVAILABLE)
    assert hello_refused(other) is other


def test_an_error_to_a_second_hello_leaves_the_session_as_it_was(proto: ClientProtocol) -> None:
    first = proto.hello_request()
    proto.send(first)
    proto.receive(frames([[S.RESULT, first[1], {"version": 1}]]))
    second = proto.hello_request()
    proto.send(second)
    replies = proto.receive(frames([[S.ERROR, second[1], 9, "HELLO was already accepted"]]))
    assert proto.state is ConnectionState.CONNECTED and proto.info == {"version": 1}
    with pytest.raises(Exception, match="already accepted"):
        result_of(replies[0])


def test_the_end_of_the_stream_disconnects(proto: ClientProtocol) -> None:
    sub = Collected()
    proto.channels[3] = sub
    assert proto.receive(b"") == []
    assert proto.state is ConnectionState.DISCONNECTED and proto.close_reason == "the server closed the connection"
    assert sub.closed
    assert proto.receive(frames([[S.RESULT, 1, 0]])) == []  # nothing after


def test_a_lost_transport_keeps_its_reason(proto: ClientProtocol) -> None:
    proto.connection_lost("connection error: reset")
    proto.connection_lost("later")
    assert proto.close_reason == "connection error: reset" and proto.close_code == S.Err.UNAVAILABLE


# -- what comes in -----------------------------------------------------------------------------

MIXED = [
    [S.RESULT, 1, 90],
    [S.SAMPLE, 3, 1, 1000, 10],
    [S.ERROR, 2, S.Err.NOT_FOUND, "no resource nope"],
    [S.SAMPLE, 3, 2, 2000, 11],
    [S.EVENT, 3, 3, S.Err.INVALID_ARGUMENT, "sample failed"],
    [S.SAMPLE, 3, 5, 3000, 12],  # 3 and 4 never came
    [S.EVENT, 0, 0, S.Err.DEADLINE_EXCEEDED, "session event"],
    [S.SAMPLE, 9, 1, 1, 1],  # a channel nobody has: dropped
    [S.RESULT, 4, {"x": [1, 2]}],
]


@pytest.mark.parametrize("serial", [False, True], ids=["stream", "serial"])
@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_replies_samples_and_events_whole_or_byte_by_byte(serial: bool, bytewise: bool) -> None:
    proto = ClientProtocol(serial=serial)
    proto.connection_made()
    sub = Collected()
    proto.channels[3] = sub
    replies = feed(proto, frames(MIXED, serial), bytewise)
    assert replies == [MIXED[0], MIXED[2], MIXED[8]]
    assert result_of(replies[0]) == 90 and result_of(replies[2]) == {"x": [1, 2]}
    with pytest.raises(NotFound, match="no resource nope"):
        result_of(replies[1])
    assert sub.samples == [Sample(1, 1000, 10), Sample(2, 2000, 11), Sample(5, 3000, 12)]
    assert (sub.received, sub.missed, sub.last_seq) == (3, 2, 5)
    assert sub.events == [Event(3, 3, S.Err.INVALID_ARGUMENT, "sample failed")]
    assert proto.events == [Event(0, 0, S.Err.DEADLINE_EXCEEDED, "session event")]
    assert proto.state is ConnectionState.HANDSHAKE and not proto.closed
    assert proto.decoder.pending == 0


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_a_subscription_gets_the_samples_that_come_with_its_result(proto: ClientProtocol, bytewise: bool) -> None:
    sub, refused = Collected(), Collected()
    message = [S.SUBSCRIBE, None, 1, 11, [], 100.0]
    proto.send(message, channel=sub)
    other = [S.SUBSCRIBE, None, 1, 99, [], 100.0]
    proto.send(other, channel=refused)
    rid = message[1]
    data = frames([[S.RESULT, rid, 6], [S.SAMPLE, 6, 1, 5, 42], [S.ERROR, other[1], 12, "no such method"]])
    replies = feed(proto, data, bytewise)
    assert [r[1] for r in replies] == [rid, other[1]]
    assert sub.channel == 6 and proto.channels == {6: sub}
    assert sub.samples == [Sample(1, 5, 42)]
    assert refused.channel == 0 and not proto.pending
    proto.forget(sub)
    proto.receive(frames([[S.SAMPLE, 6, 2, 6, 43]]))
    assert len(sub.samples) == 1


def test_a_stream_opened_gets_its_first_event(proto: ClientProtocol) -> None:
    stream = Stream()
    message = [S.OPEN_STREAM, None, 1, 10, 50]
    proto.send(message, channel=stream)
    proto.receive(frames([[S.RESULT, message[1], 2], [S.EVENT, 2, 0, S.Err.DEADLINE_EXCEEDED, "deadman"]]))
    assert stream.channel == 2 and [e.message for e in stream.events] == ["deadman"]
    assert proto.events == []


def test_an_abandoned_request_registers_no_channel(proto: ClientProtocol) -> None:
    sub = Collected()
    message = [S.SUBSCRIBE, None, 1, 11, [], 10.0]
    proto.send(message, channel=sub)
    proto.abandon(message[1])  # timed out
    proto.receive(frames([[S.RESULT, message[1], 5], [S.SAMPLE, 5, 1, 1, 1]]))
    assert proto.channels == {} and sub.samples == []


def test_callbacks_are_queued_for_the_client_to_call(proto: ClientProtocol) -> None:
    got: list[Sample] = []
    sub = Collected(callback=got.append)
    proto.channels[1] = sub
    proto.receive(frames([[S.SAMPLE, 1, 1, 1, "a"], [S.SAMPLE, 1, 2, 2, "b"]]))
    assert got == []  # not called inside the protocol
    due = proto.take_callbacks()
    assert [s.value for _, s in due] == ["a", "b"] and proto.callbacks == []
    for fn, sample in due:
        fn(sample)
    assert [s.value for s in got] == ["a", "b"]


def test_errors_per_code() -> None:
    with pytest.raises(InvalidArgument):
        result_of([S.ERROR, 1, S.Err.INVALID_ARGUMENT, "angle 999 is out of range"])
    assert result_of([S.RESULT, 1, None]) is None


# -- what a client cannot read -------------------------------------------------------------------


@pytest.mark.parametrize("bad", [b"\xc1", msgpack.packb({"a": 1}), msgpack.packb([]), msgpack.packb([S.ERROR, 1]),
                                 msgpack.packb([S.SAMPLE, 1, 2]), msgpack.packb([S.ERROR, 1, "x", "y"])],
                         ids=["not-msgpack", "a-map", "empty", "short-error", "short-sample", "error-code-not-int"])
def test_a_bad_message_ends_a_stream_but_is_dropped_on_a_serial_line(bad: bytes) -> None:
    stream = ClientProtocol()
    assert stream.receive(encode_stream(bad) + frames([[S.RESULT, 1, 0]])) == []
    assert stream.state is ConnectionState.DISCONNECTED and "bad message from the server" in stream.close_reason
    line = ClientProtocol(serial=True)
    assert line.receive(encode_serial(bad) + frames([[S.RESULT, 1, 0]], serial=True)) == [[S.RESULT, 1, 0]]
    assert line.bad_messages == 1 and not line.closed


def test_an_oversized_stream_frame_disconnects() -> None:
    proto = ClientProtocol(max_frame=64)
    assert proto.receive((65).to_bytes(4, "big") + b"x" * 65) == []
    assert proto.state is ConnectionState.DISCONNECTED and "bad frame from the server" in proto.close_reason


def test_a_corrupt_serial_frame_is_dropped_and_the_next_one_read() -> None:
    proto = ClientProtocol(serial=True)
    good = frames([[S.RESULT, 2, "ok"]], serial=True)
    corrupt = bytearray(frames([[S.RESULT, 1, "lost"]], serial=True))
    corrupt[2] ^= 0x40
    assert feed(proto, bytes(corrupt) + good, bytewise=True) == [[S.RESULT, 2, "ok"]]
    assert proto.decoder.dropped == 1


def test_unknown_message_types_are_ignored(proto: ClientProtocol) -> None:
    assert proto.receive(frames([[99, 1, 2], [S.RESULT, 3, True]])) == [[S.RESULT, 3, True]]
    assert not proto.closed


def test_nothing_after_a_goodbye_is_read(proto: ClientProtocol) -> None:
    data = frames([[S.RESULT, 1, 1], [S.GOODBYE, S.Err.OK, "bye"], [S.RESULT, 2, 2]])
    assert proto.receive(data) == [[S.RESULT, 1, 1]]
    assert proto.close_code == S.Err.OK and proto.goodbye().startswith(b"\x00\x00\x00")


# -- the clients over it -------------------------------------------------------------------------


def test_the_sync_client_reports_its_state(served_machine: Any) -> None:
    served = served_machine()
    fp = served.fastpath()
    assert fp.state is ConnectionState.CONNECTED and fp.info["version"] == S.VERSION
    assert fp.protocol.channels == {}
    with fp.setpoints("servo1", "move", timeout=0.05) as stream:
        stream.send(12)
        event = stream.wait_event(3.0)  # the deadman, routed by the protocol to this stream
        assert "deadman" in event.message and fp.protocol.channels == {stream.channel: stream}
    assert fp.protocol.channels == {}  # closed: forgotten
    fp.close()
    assert fp.state is ConnectionState.CLOSED and fp.closed
    with pytest.raises(ConnectionClosedError):
        fp.call("servo1", "get_position")


def test_the_async_client_reports_its_state(served_machine: Any) -> None:
    import asyncio

    from viamlite.fastpath.aclient import AsyncFastPathClient

    served = served_machine()

    async def main() -> None:
        fp = await AsyncFastPathClient.connect(served.fastpath_address)
        assert fp.state is ConnectionState.CONNECTED
        sub = await fp.subscribe("servo1", "get_position", rate_hz=200)
        first = await sub.__anext__()
        assert first.seq >= 0 and fp.protocol.channels == {sub.channel: sub}
        await fp.close()
        assert fp.state is ConnectionState.CLOSED and sub.closed
        with pytest.raises(ConnectionClosedError):
            await fp.call("servo1", "get_position")

    asyncio.run(main())
