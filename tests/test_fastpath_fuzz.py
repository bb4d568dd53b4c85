"""Property test: whatever arrives on one fast-path connection, the server answers it, closes it
with a reason, or ignores it, and keeps serving a well-behaved client."""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viamlite.fastpath import schema as S
from viamlite.fastpath.client import FastPathClient
from viamlite.fastpath.framing import StreamDecoder, encode_stream
from viamlite.fastpath.server import FastPathServer
from viamlite.machine import Machine
from viamlite.cli.serve import demo_config

PROBE = 2**31 - 1


@pytest.fixture(scope="module")
def target() -> Iterator[SimpleNamespace]:
    machine = Machine(demo_config())
    server = FastPathServer(machine, max_frame=4096, frame_timeout=0.3, hello_timeout=1.0)
    _, port = server.listen_tcp("127.0.0.1:0")
    normal = FastPathClient.connect(f"127.0.0.1:{port}", timeout=5)
    yield SimpleNamespace(machine=machine, server=server, port=port, normal=normal)
    normal.close()
    server.stop()
    machine.close()


scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64 - 1), st.floats(allow_nan=True),
                    st.text(max_size=20), st.binary(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
small_ints = st.integers(-3, 130)
#: messages shaped like requests, with plausible and implausible fields
messages = st.one_of(
    values,
    st.lists(values, max_size=7),
    st.tuples(st.sampled_from(sorted(S.REQUEST_LENGTHS) + [0, 17, 18, 19, 20, 99]), small_ints, small_ints,
              small_ints, st.one_of(st.lists(values, max_size=3), values), values).map(list),
    st.builds(lambda t, n, rest: [t, *rest][:n], st.sampled_from(sorted(S.REQUEST_LENGTHS)), st.integers(1, 7),
              st.lists(st.one_of(small_ints, values), min_size=6, max_size=6)),
)


def _exchange(port: int, payload: bytes) -> str:
    """Send HELLO, ``payload``, a PING, then end the sending side; 'answered' when the PING is
    answered, 'closed' when the server closed the connection first (a garbage frame may have
    swallowed the PING, or a GOODBYE said why)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(5)
    decoder = StreamDecoder(1 << 20)
    try:
        sock.sendall(encode_stream(msgpack.packb([S.HELLO, 1, S.VERSION, {}])) + payload
                     + encode_stream(msgpack.packb([S.PING, PROBE])))
        sock.shutdown(socket.SHUT_WR)
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                return "closed"
            for frame in decoder.feed(data):
                msg = msgpack.unpackb(frame, strict_map_key=False)
                assert isinstance(msg, list) and msg[0] in (S.RESULT, S.ERROR, S.SAMPLE, S.EVENT, S.GOODBYE)
                if msg[0] == S.ERROR:
                    assert isinstance(msg[3], str) and msg[3]  # every error says what was wrong
                if msg[0] == S.GOODBYE:
                    assert isinstance(msg[2], str) and msg[2]
                if msg[0] == S.RESULT and msg[1] == PROBE:
                    return "answered"
    finally:
        sock.close()


def _normal_still_works(target: SimpleNamespace) -> None:
    assert target.normal.call("switch1", "get_number_of_positions")[0] == 3
    assert target.normal.ping() >= 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_random_bytes(target: SimpleNamespace, data: bytes) -> None:
    _exchange(target.port, data)
    _normal_still_works(target)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(messages, min_size=1, max_size=4))
def test_random_messages(target: SimpleNamespace, batch: list[Any]) -> None:
    payload = b"".join(encode_stream(msgpack.packb(m)) for m in batch)
    outcome = _exchange(target.port, payload)
    if not any(isinstance(m, list) and m[:1] == [S.GOODBYE] for m in batch):
        assert outcome == "answered", f"the server closed on {batch!r}"
    _normal_still_works(target)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=40), st.integers(0, 39))
def test_truncated_and_spliced_frames(target: SimpleNamespace, body: bytes, cut: int) -> None:
    frame = encode_stream(body)
    outcome = _exchange(target.port, frame[:min(cut, len(frame))])
    assert outcome in ("answered", "closed")
    _normal_still_works(target)


def test_server_is_clean_after_fuzzing(target: SimpleNamespace) -> None:
    deadline = time.monotonic() + 5
    while len(target.server.connections) > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(target.server.connections) == 1  # only the well-behaved client is left
