"""Framing: where one fast-path message ends and the next begins. Bytes only.

Streams (TCP, unix sockets): a 4-byte big-endian payload length, then the payload.
A length above the limit is a :class:`FrameTooLarge` and the stream cannot continue
(there is no way to find the next frame), so the connection closes with a reason.

Serial lines: ``COBS(payload + CRC16) + 0x00``. CRC-16/XMODEM (poly 0x1021, init 0),
big-endian, over the payload; ``binascii.crc_hqx(data, 0)`` computes it and so does
avr-libc's ``_crc_xmodem_update``. COBS comes from the PyPI ``cobs`` package. A frame
that does not decode, fails its CRC or is too long is dropped and counted; the decoder
resynchronises at the next 0x00, so noise on the line loses only the frames it touched.

Both decoders take bytes whole or one byte at a time and return complete payloads.
"""
from __future__ import annotations

import binascii
import struct

from cobs import cobs

from viamlite.fastpath.errors import FrameTooLarge
from viamlite.fastpath.schema import MAX_SERIAL_FRAME, MAX_STREAM_FRAME

_LEN = struct.Struct(">I")
_pack_len = _LEN.pack
_unpack_len = _LEN.unpack_from


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM of ``data`` (what avr-libc's ``_crc_xmodem_update`` computes from 0)."""
    return binascii.crc_hqx(data, 0)


# -- streams ---------------------------------------------------------------------------


def encode_stream(payload: bytes) -> bytes:
    """One stream frame: length prefix and payload."""
    return _pack_len(len(payload)) + payload


class StreamDecoder:
    """Length-prefixed frames from a byte stream.

    ``feed(data)`` returns the payloads completed by ``data``; it raises
    :class:`FrameTooLarge` when a length prefix announces more than ``max_frame`` bytes.
    ``pending`` is how many bytes of an unfinished frame are buffered.
    """

    __slots__ = ("max_frame", "_buf")

    def __init__(self, max_frame: int = MAX_STREAM_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = b""

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf + data if self._buf else bytes(data)
        out: list[bytes] = []
        pos, end = 0, len(buf)
        limit = self.max_frame
        while end - pos >= 4:
            (size,) = _unpack_len(buf, pos)
            if size > limit:
                self._buf = b""
                raise FrameTooLarge(f"a frame announced {size} bytes; the limit is {limit}")
            stop = pos + 4 + size
            if stop > end:
                break
            out.append(buf[pos + 4:stop])
            pos = stop
        self._buf = buf[pos:] if pos < end else b""
        return out


# -- serial lines ------------------------------------------------------------------------


def encode_serial(payload: bytes) -> bytes:
    """One serial frame: COBS over payload + CRC-16 (big-endian), then a 0x00 delimiter."""
    return cobs.encode(payload + crc16(payload).to_bytes(2, "big")) + b"\x00"


class SerialDecoder:
    """COBS frames with a CRC from a serial byte stream; bad frames are dropped and counted.

    ``dropped`` counts frames discarded; ``last_error`` says why the last one was.
    Bytes before the first delimiter after start-up may be the tail of a frame in
    flight: a receiver that opens a line mid-stream should send a lone 0x00 first.
    """

    __slots__ = ("max_frame", "dropped", "last_error", "_buf", "_overflow")

    def __init__(self, max_frame: int = MAX_SERIAL_FRAME) -> None:
        self.max_frame = max_frame
        self.dropped = 0
        self.last_error = ""
        self._buf = bytearray()
        self._overflow = False

    @property
    def pending(self) -> int:
        return len(self._buf)

    def _drop(self, why: str) -> None:
        self.dropped += 1
        self.last_error = why

    def feed(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        # COBS grows a frame by 1 byte per 254, plus 2 CRC bytes
        cap = self.max_frame + 2 + self.max_frame // 254 + 1
        start = 0
        while True:
            zero = data.find(b"\x00", start)
            chunk = data[start:] if zero < 0 else data[start:zero]
            if not self._overflow:
                self._buf += chunk
                if len(self._buf) > cap:
                    self._overflow = True
                    self._buf.clear()
            if zero < 0:
                return out
            start = zero + 1
            if self._overflow:
                self._overflow = False
                self._drop(f"frame longer than {self.max_frame} bytes")
                continue
            encoded = bytes(self._buf)
            self._buf.clear()
            if not encoded:
                continue  # idle delimiters are allowed between frames
            payload = self._check(encoded)
            if payload is not None:
                out.append(payload)

    def _check(self, encoded: bytes) -> bytes | None:
        try:
            raw = cobs.decode(encoded)
        except cobs.DecodeError as exc:
            self._drop(f"COBS decoding failed: {exc}")
            return None
        if len(raw) < 3:
            self._drop(f"frame of {len(raw)} bytes is shorter than a CRC and one byte")
            return None
        payload, crc = raw[:-2], int.from_bytes(raw[-2:], "big")
        if crc16(payload) != crc:
            self._drop(f"CRC mismatch (got {crc:#06x}, computed {crc16(payload):#06x})")
            return None
        if len(payload) > self.max_frame:
            self._drop(f"frame longer than {self.max_frame} bytes")
            return None
        return payload


__all__ = ["StreamDecoder", "SerialDecoder", "encode_stream", "encode_serial", "crc16", "FrameTooLarge"]
