"""Reading and rewriting one string field of a serialized protobuf message, without its schema.

Remote links forward calls of any API as bytes: they need only the resource name, which
every Viam resource request carries as field 1 (``name``, or ``board_name``). Pure Python,
following the protobuf wire format (varint tags; wire types 0, 1, 2, 5).
"""
from __future__ import annotations

from viamlite.errors import ViamliteError
from viamlite.rpc.varint import encode_varint

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class WireFormatError(ViamliteError, ValueError):
    """The bytes are not a well-formed protobuf message."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise WireFormatError("message ends inside a varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise WireFormatError("varint longer than 10 bytes")


def _fields(data: bytes):  # type: ignore[no-untyped-def]
    """Yield (field number, wire type, start of field, start of value, end of field)."""
    pos = 0
    while pos < len(data):
        start = pos
        tag, pos = _varint(data, pos)
        number, kind = tag >> 3, tag & 7
        if kind == _VARINT:
            _, end = _varint(data, pos)
            value_at = pos
        elif kind == _I64:
            value_at, end = pos, pos + 8
        elif kind == _I32:
            value_at, end = pos, pos + 4
        elif kind == _LEN:
            length, value_at = _varint(data, pos)
            end = value_at + length
        else:
            raise WireFormatError(f"unsupported wire type {kind} for field {number}")
        if end > len(data) or number == 0:
            raise WireFormatError("truncated or malformed field")
        yield number, kind, start, value_at, end
        pos = end


def read_string(data: bytes, number: int = 1) -> str | None:
    """The last value of string field ``number`` (as protobuf parsers take it), or None."""
    found = None
    try:
        for field, kind, _, value_at, end in _fields(data):
            if field == number and kind == _LEN:
                found = (value_at, end)
    except WireFormatError:
        return None
    if found is None:
        return None
    try:
        return data[found[0]:found[1]].decode("utf-8")
    except UnicodeDecodeError:
        return None


def replace_string(data: bytes, value: str, number: int = 1) -> bytes:
    """``data`` with every occurrence of string field ``number`` replaced by one holding ``value``."""
    encoded = value.encode("utf-8")
    new_field = encode_varint((number << 3) | _LEN) + encode_varint(len(encoded)) + encoded
    out = bytearray(new_field)
    pos = 0
    for field, kind, start, _, end in _fields(data):
        if field == number and kind == _LEN:
            out += data[pos:start]
            pos = end
    out += data[pos:]
    return bytes(out)
