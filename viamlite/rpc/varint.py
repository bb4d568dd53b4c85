"""Protobuf's base-128 varints, for code that writes wire bytes without a schema (remote
links rewriting a field, delimited capture files, messages assembled from stored bytes)."""
from __future__ import annotations


def encode_varint(value: int) -> bytes:
    """``value`` (>= 0) as a protobuf varint."""
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)
