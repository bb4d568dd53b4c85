"""Generated protobuf modules (``tools/genproto.py``) and the private pool they live in.

viamlite's messages are registered in :data:`POOL`, not in protobuf's default pool, so a
process may also import another package that defines the same Viam messages.
"""
from __future__ import annotations

from typing import Any

from google.protobuf import (
    any_pb2,
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


for _wkt in (descriptor_pb2, struct_pb2, timestamp_pb2, duration_pb2, any_pb2):
    add_file_of(_wkt)


def struct_pb2_of_pool() -> tuple[type, type, type]:
    """The Struct, Value and ListValue classes of POOL (not of the default pool)."""
    from google.protobuf import message_factory

    return tuple(  # type: ignore[return-value]
        message_factory.GetMessageClass(POOL.FindMessageTypeByName(f"google.protobuf.{n}"))
        for n in ("Struct", "Value", "ListValue")
    )


_MONITORED: dict[str, bool] = {}


def safety_monitored(method: Any) -> bool:
    """Whether the Viam API marks ``method`` (a MethodDescriptor of this pool)
    ``safety_heartbeat_monitored``: a call that moves something, to be stopped when its
    session's heartbeat stops."""
    from google.protobuf import message_factory

    # The options are parsed again in this pool, where the extension is known.
    options_class = message_factory.GetMessageClass(POOL.FindMessageTypeByName("google.protobuf.MethodOptions"))
    options = options_class.FromString(method.GetOptions().SerializeToString())
    return bool(options.Extensions[POOL.FindExtensionByName("viam.common.v1.safety_heartbeat_monitored")])


def is_safety_monitored(path: str) -> bool:
    """:func:`safety_monitored` for a method path (``/package.Service/Method``); False for
    a method this pool does not know."""
    known = _MONITORED.get(path)
    if known is None:
        service, _, name = path.lstrip("/").rpartition("/")
        try:
            known = safety_monitored(POOL.FindServiceByName(service).methods_by_name[name])
        except KeyError:
            known = False
        _MONITORED[path] = known
    return known
