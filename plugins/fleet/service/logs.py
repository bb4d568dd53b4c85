"""Stored log records <-> ``viam.common.v1.LogEntry``."""
from __future__ import annotations

from typing import Any

from viamlite.app.structs import struct_to_dict
from viamlite.errors import InvalidArgumentError
from viamlite.gen import common_pb2
from viamlite_plugins.fleet.store.logs import Record

MAX_MESSAGE = 64 * 1024


def entry_of(record: Record) -> Any:
    entry = common_pb2.LogEntry(host=record.host, level=record.level, logger_name=record.logger_name,
                                message=record.message, stack=record.stack)
    entry.time.FromMicroseconds(record.time_us)
    if record.caller:
        entry.caller.update(record.caller)
    for f in record.fields:
        entry.fields.add().update(f)
    return entry


def record_of(entry: Any, i: int) -> Record:
    """A record to store from a part's LogEntry; INVALID_ARGUMENT names the entry and field."""
    field = f"logs[{i}]"
    level = entry.level.strip().lower() or "info"
    if level == "warning":
        level = "warn"
    if len(level) > 8:
        raise InvalidArgumentError(f"{field}.level {entry.level[:20]!r} is not a log level (debug, info, warn, error)")
    if len(entry.message) > MAX_MESSAGE:
        raise InvalidArgumentError(f"{field}.message is {len(entry.message)} characters; at most {MAX_MESSAGE}")
    if len(entry.logger_name) > 300 or len(entry.host) > 300:
        raise InvalidArgumentError(f"{field}.logger_name or .host is longer than 300 characters")
    time_us = entry.time.ToMicroseconds() if entry.HasField("time") else 0
    caller = struct_to_dict(entry.caller) if entry.HasField("caller") else None
    fields = [struct_to_dict(f) for f in entry.fields]
    return Record(time_us=time_us, level=level, logger_name=entry.logger_name, message=entry.message,
                  host=entry.host, caller=caller, stack=entry.stack, fields=fields)
