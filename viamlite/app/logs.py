"""Python log records and ``viam.common.v1.LogEntry``, both ways.

A machine sends its records to the app (``RobotService.Log``) as entries; the app hands them
back to the CLI and the SDK (``GetRobotPartLogs``, ``TailRobotPartLogs``). Levels are written
as Viam writes them: ``debug``, ``info``, ``warn``, ``error`` (CRITICAL is ``error``); read
back, Go's and Python's names are both understood (``warning``, ``WARNING``, ``fatal``,
``panic``, ``dpanic``...). The caller is a Struct with ``File`` and ``Line`` (and ``Defined``,
``Function``), as viam-server writes it and as the viam-sdk's ``get_robot_part_logs`` reads it.

Records that viamlite's machine API made from a client's ``RobotService.Log`` (logger
``viamlite.client_log``, message ``"[%s] %s"`` with the client's logger name and message)
go out under the client's logger name and message again.
"""
from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from viamlite.app.structs import dict_to_struct, struct_to_dict
from viamlite.gen import common_pb2

LogEntry = common_pb2.LogEntry

#: The logger viamlite's machine API logs a client's ``RobotService.Log`` entries to.
CLIENT_LOG = "viamlite.client_log"

_NAMES = ((logging.ERROR, "error"), (logging.WARNING, "warn"), (logging.INFO, "info"))
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "warning": logging.WARNING,
           "error": logging.ERROR, "dpanic": logging.CRITICAL, "panic": logging.CRITICAL,
           "fatal": logging.CRITICAL, "critical": logging.CRITICAL}


def level_name(levelno: int) -> str:
    """Viam's name of a Python level: ``debug``, ``info``, ``warn`` or ``error``."""
    for floor, name in _NAMES:
        if levelno >= floor:
            return name
    return "debug"


def level_number(name: str) -> int:
    """The Python level of a Viam (or Python) level name; unknown names are INFO, as
    viam-server reads a malformed level."""
    return _LEVELS.get(name.strip().lower(), logging.INFO)


def record_to_entry(record: logging.LogRecord, *, host: str = "") -> Any:
    """The LogEntry of a Python log record."""
    name, message = record.name, record.getMessage()
    if record.name == CLIENT_LOG and record.msg == "[%s] %s" and isinstance(record.args, tuple) and len(record.args) == 2:
        name, message = str(record.args[0]), str(record.args[1])
    entry = LogEntry(host=getattr(record, "host", "") or host, level=level_name(record.levelno),
                     logger_name=name, message=message, stack=_stack_of(record))
    time_ns = getattr(record, "created_ns", None)
    if not isinstance(time_ns, int):
        time_ns = int(record.created * 1e9)
    entry.time.seconds, entry.time.nanos = divmod(time_ns, 1_000_000_000)
    caller = entry.caller
    caller.fields["Defined"].bool_value = True
    caller.fields["File"].string_value = record.pathname or ""
    caller.fields["Line"].number_value = record.lineno or 0
    caller.fields["Function"].string_value = record.funcName or ""
    for fields in getattr(record, "fields", None) or ():
        if isinstance(fields, Mapping):
            try:
                dict_to_struct(fields, entry.fields.add())
            except ValueError:  # a field JSON cannot carry: keep its text
                del entry.fields[-1]
                entry.fields.add().fields["value"].string_value = repr(dict(fields))
    return entry


def _stack_of(record: logging.LogRecord) -> str:
    parts = []
    if record.exc_text:
        parts.append(record.exc_text)
    elif record.exc_info and record.exc_info[0] is not None:
        parts.append("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


def entry_to_record(entry: Any) -> logging.LogRecord:
    """A Python log record of a LogEntry: the logger name, level, message, time and caller
    are the entry's; its stack is the record's ``exc_text`` (so formatters print it); the
    host, the exact time (``created_ns``) and the fields ride as attributes."""
    caller = struct_to_dict(entry.caller) if entry.HasField("caller") else {}
    line = caller.get("Line", 0)
    record = logging.LogRecord(
        name=entry.logger_name, level=level_number(entry.level),
        pathname=str(caller.get("File", "") or ""), lineno=int(line) if isinstance(line, (int, float)) else 0,
        msg=entry.message, args=None, exc_info=None, func=str(caller.get("Function", "") or "") or None)
    time_ns = entry.time.seconds * 1_000_000_000 + entry.time.nanos
    record.created = time_ns / 1e9
    record.msecs = (time_ns // 1_000_000) % 1000
    record.created_ns = time_ns
    record.exc_text = entry.stack or None
    record.host = entry.host
    record.fields = [struct_to_dict(f) for f in entry.fields]
    return record


def entry_time(entry: Any) -> datetime:
    """The entry's time, as an aware UTC datetime."""
    return datetime.fromtimestamp(entry.time.seconds + entry.time.nanos / 1e9, tz=UTC)


def entries(records: Iterable[logging.LogRecord], *, host: str = "") -> list[Any]:
    """:func:`record_to_entry` of each record."""
    return [record_to_entry(r, host=host) for r in records]


__all__ = ["CLIENT_LOG", "LogEntry", "entries", "entry_time", "entry_to_record", "level_name", "level_number",
           "record_to_entry"]
