"""``machines logs`` and ``machines part logs [--tail]``.

The app answers newest first, a page at a time; lines are printed oldest first. ``--tail``
follows the part's new logs until Ctrl-C.
"""
from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from viamlite_plugins.cloud.commands.context import Context
from viamlite_plugins.cloud.commands.errors import UsageError
from viamlite_plugins.cloud.commands.output import message, timestamp

PAGE = 100
#: ``machines part logs`` without ``--count``: the newest this many lines.
DEFAULT_PART_COUNT = 100


def _when(text: str, flag: str) -> str:
    """``text`` as an RFC 3339 time (a bare date is its midnight, UTC)."""
    from google.protobuf import timestamp_pb2

    when = text if "T" in text else f"{text}T00:00:00Z"
    try:
        timestamp_pb2.Timestamp().FromJsonString(when)
    except ValueError:
        raise UsageError(f"{flag} {text!r} is not a time: write RFC 3339, such as 2026-12-03T09:30:00Z") from None
    return when


def format_entry(entry: Any, fmt: str, part: str = "") -> str:
    if fmt == "json":
        data = message(entry)
        if part:
            data["part"] = part
        return json.dumps(data)
    prefix = f"{part}\t" if part else ""
    return f"{prefix}{timestamp(entry.time)}\t{entry.level.upper()}\t{entry.logger_name}\t{entry.message}"


def _pages(ctx: Context, part_id: str, *, keyword: str = "", levels: list[str] | None = None,
           start: str | None = None, end: str | None = None, errors_only: bool = False, count: int = 0) -> list[Any]:
    """The part's logs, newest first, at most ``count`` (0: all)."""
    from viamlite.gen.app import app_pb2

    out: list[Any] = []
    token = ""
    while True:
        request = app_pb2.GetRobotPartLogsRequest(id=part_id, errors_only=errors_only, levels=levels or [],
                                                  page_token=token, limit=PAGE)
        if keyword:
            request.filter = keyword
        if start is not None:
            request.start.FromJsonString(start)
        if end is not None:
            request.end.FromJsonString(end)
        response = ctx.app.call("GetRobotPartLogs", request, what=f"part {part_id!r}")
        out.extend(response.logs)
        if count and len(out) >= count:
            return out[:count]
        token = response.next_page_token
        if not response.logs or not token:
            return out


def _writer(path: str) -> TextIO:
    if not path:
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--output {path!r}: cannot write it ({exc.strerror or exc})") from None


def machine_logs(ctx: Context) -> int:
    args = ctx.args
    robot = ctx.resolve.robot(args.machine, args.organization, args.location)
    levels = [level.strip() for level in args.levels.split(",") if level.strip()]
    day_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=24)
    start = _when(args.start, "--start") if args.start else day_ago.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    end = _when(args.end, "--end") if args.end else None
    parts = ctx.resolve.parts(robot)
    entries: list[tuple[str, Any]] = []
    for part in parts:
        logs = _pages(ctx, part.id, keyword=args.keyword, levels=levels, start=start, end=end, count=args.count)
        entries += [(part.name, entry) for entry in logs]
    entries.sort(key=lambda pe: (pe[1].time.seconds, pe[1].time.nanos), reverse=True)
    if args.count:
        entries = entries[:args.count]
    out = _writer(args.output)
    try:
        for part_name, entry in reversed(entries):
            out.write(format_entry(entry, args.format, part_name if len(parts) > 1 else "") + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output:
        print(f"Wrote {len(entries)} log lines of {robot.name!r} to {args.output}", file=sys.stderr)
    return 0


def _tailing(flag: str) -> bool:
    value = str(flag).strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise UsageError(f"--tail {flag!r}: write --tail (or --tail true)")


def _tail(ctx: Context, part: Any, errors_only: bool, keyword: str, fmt: str) -> Iterator[str]:
    from viamlite.gen.app import app_pb2

    request = app_pb2.TailRobotPartLogsRequest(id=part.id, errors_only=errors_only)
    if keyword:
        request.filter = keyword
    for response in ctx.app.stream("TailRobotPartLogs", request):
        for entry in response.logs:
            yield format_entry(entry, fmt)


def part_logs(ctx: Context) -> int:
    args = ctx.args
    part = ctx.resolve.part(args.part, args.machine, args.organization, args.location)
    if _tailing(args.tail):
        print(f"Tailing the logs of part {part.name!r} (id: {part.id}); Ctrl-C stops", file=sys.stderr, flush=True)
        try:
            for line in _tail(ctx, part, args.errors, args.keyword, args.format):
                print(line, flush=True)
        except KeyboardInterrupt:
            return 0
        return 0
    logs = _pages(ctx, part.id, keyword=args.keyword, errors_only=args.errors,
                  count=args.count or DEFAULT_PART_COUNT)
    for entry in reversed(logs):
        print(format_entry(entry, args.format))
    return 0
