"""Generated protobuf modules (``tools/genproto.py``) and the private pool they live in.

viamlite's messages are registered in :data:`POOL`, not in protobuf's default pool, so a
process may also import another package that defines the same Viam messages.
"""
from __future__ import annotations

from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    duration_pb2,
    struct_pb2,
    timestamp_pb2,
)

POOL = descriptor_pool.DescriptorPool()


def add_file_of(module: object) -> None:
    """Copy a file already loaded in the default pool (``module.DESCRIPTOR``) into POOL."""
    proto = descriptor_pb2.FileDescriptorProto()
    module.DESCRIPTOR.CopyToProto(proto)  # type: ignore[attr-defined]
    POOL.Add(proto)


for _wkt in (descriptor_pb2, struct_pb2, timestamp_pb2, duration_pb2):
    add_file_of(_wkt)


def struct_pb2_of_pool() -> tuple[type, type, type]:
    """The Struct, Value and ListValue classes of POOL (not of the default pool)."""
    from google.protobuf import message_factory

    return tuple(  # type: ignore[return-value]
        message_factory.GetMessageClass(POOL.FindMessageTypeByName(f"google.protobuf.{n}"))
        for n in ("Struct", "Value", "ListValue")
    )
