"""Fast-path framing: stream frames and COBS+CRC serial frames, whole or byte by byte, with corruption."""
from __future__ import annotations

import binascii
import random

import pytest

from viamlite.fastpath import schema as S
from viamlite.fastpath.errors import FrameTooLarge
from viamlite.fastpath.framing import (
    SerialDecoder,
    StreamDecoder,
    crc16,
    encode_serial,
    encode_stream,
)

PAYLOADS = [b"\x00", b"\x93\x03\x01\x02", bytes(range(256)), b"\x00" * 300, b"a" * 253, b"b" * 254, b"c" * 255]


def test_crc16_is_xmodem() -> None:
    # the CRC-16/XMODEM check value, which avr-libc's _crc_xmodem_update also gives
    assert crc16(b"123456789") == 0x31C3
    assert crc16(b"") == 0
    assert binascii.crc_hqx(b"\x01\x02", 0) == crc16(b"\x01\x02")


def test_stream_round_trip_whole_and_byte_by_byte() -> None:
    data = b"".join(encode_stream(p) for p in PAYLOADS)
    assert StreamDecoder().feed(data) == PAYLOADS
    decoder = StreamDecoder()
    out = []
    for i in range(len(data)):
        out += decoder.feed(data[i:i + 1])
    assert out == PAYLOADS
    assert decoder.pending == 0


def test_stream_partial_frame_is_pending() -> None:
    decoder = StreamDecoder()
    frame = encode_stream(b"hello")
    assert decoder.feed(frame[:6]) == []
    assert decoder.pending == 6
    assert decoder.feed(frame[6:]) == [b"hello"]


def test_stream_oversized_frame_is_refused() -> None:
    decoder = StreamDecoder(max_frame=100)
    assert decoder.feed(encode_stream(b"x" * 100)) == [b"x" * 100]
    with pytest.raises(FrameTooLarge, match="announced 101 bytes; the limit is 100"):
        decoder.feed(encode_stream(b"x" * 101))


def test_serial_round_trip_whole_and_byte_by_byte() -> None:
    decoder = SerialDecoder(max_frame=400)
    data = b"".join(encode_serial(p) for p in PAYLOADS)
    assert decoder.feed(data) == PAYLOADS
    out = []
    for byte in data:
        out += decoder.feed(bytes([byte]))
    assert out == PAYLOADS
    assert decoder.dropped == 0


def test_serial_frames_hold_no_zero_byte_but_the_delimiter() -> None:
    for payload in PAYLOADS:
        frame = encode_serial(payload)
        assert frame.endswith(b"\x00") and b"\x00" not in frame[:-1]


def test_serial_flipped_bit_is_rejected_then_resyncs() -> None:
    decoder = SerialDecoder()
    good = encode_serial(b"\x94\x03\x07\x01\x0a")
    bad = bytearray(encode_serial(b"\x93\x09\x05"))
    bad[2] ^= 0x10  # a flipped bit inside the frame
    assert decoder.feed(bytes(bad) + good) == [b"\x94\x03\x07\x01\x0a"]
    assert decoder.dropped == 1
    assert "CRC" in decoder.last_error or "COBS" in decoder.last_error


def test_serial_noise_between_frames_loses_only_touched_frames() -> None:
    rng = random.Random(7)
    decoder = SerialDecoder()
    payloads = [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60))) for _ in range(200)]
    stream = bytearray()
    for payload in payloads:
        stream += bytes(rng.randrange(1, 256) for _ in range(rng.randrange(0, 20)))  # noise, no delimiter
        stream += b"\x00"  # the noise ends at a delimiter, as after a glitch on the line
        stream += encode_serial(payload)
    out = []
    pos = 0
    while pos < len(stream):  # feed in random chunk sizes
        step = rng.randrange(1, 40)
        out += decoder.feed(bytes(stream[pos:pos + step]))
        pos += step
    assert out == payloads
    assert decoder.dropped > 0  # the noise bursts were seen and dropped


def test_serial_random_corruption_never_yields_a_wrong_frame() -> None:
    rng = random.Random(11)
    payloads = [bytes([0x93, 0x03, i % 256, 0x0b]) + bytes(rng.randrange(256) for _ in range(10)) for i in range(300)]
    stream = bytearray(b"".join(encode_serial(p) for p in payloads))
    for _ in range(40):  # flip random bits
        stream[rng.randrange(len(stream))] ^= 1 << rng.randrange(8)
    decoder = SerialDecoder()
    out = decoder.feed(bytes(stream))
    assert set(out) <= set(payloads)  # nothing corrupt gets through the CRC
    assert len(out) >= 300 - 80  # each flip costs at most the frames it touches (two when it hits a delimiter)
    assert decoder.dropped > 0


def test_serial_overlong_frame_is_dropped_and_counted() -> None:
    decoder = SerialDecoder(max_frame=16)
    out = decoder.feed(encode_serial(b"x" * 40) + encode_serial(b"ok"))
    assert out == [b"ok"]
    assert decoder.dropped == 1 and "longer than 16" in decoder.last_error


def test_serial_short_frame_and_idle_delimiters() -> None:
    decoder = SerialDecoder()
    assert decoder.feed(b"\x00\x00\x02\x01\x00" + encode_serial(b"z")) == [b"z"]
    assert decoder.dropped == 1 and "shorter" in decoder.last_error


def test_method_table_is_consistent() -> None:
    assert all(0 < m.id < 128 for m in S.METHODS)
    assert len({m.id for m in S.METHODS}) == len(S.METHODS)
    for mid in S.FIRMWARE_METHODS:
        assert mid in S.BY_ID
    assert S.by_name("servo", "move").id == 10 and S.by_name("servo", "stop").id == 4
    with pytest.raises(KeyError, match="servo has no fast-path method 'fly'"):
        S.by_name("servo", "fly")
