"""Go duration strings (viam-server's JSON: ``"10s"``, ``"1m30s"``, ``"250ms"``) and
``google.protobuf.Duration``, both ways, exact to the nanosecond.

:func:`format_ns` writes what Go's ``time.Duration.String`` writes, so a duration that
comes from a Go program goes back out as the same text.
"""
from __future__ import annotations

import re
from typing import Any

from viamlite.errors import ConfigError

_PART = re.compile(r"(\d+)(?:\.(\d*))?|\.(\d+)")
_UNIT = re.compile(r"ns|us|µs|μs|ms|s|m|h")
_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 1_000_000_000,
       "m": 60_000_000_000, "h": 3_600_000_000_000}
_FIX = 'write a number with a unit (ns, us, ms, s, m, h), such as "10s", "250ms" or "1m30s"'
_LIMIT = 2**63 - 1  # Go's time.Duration is an int64 of nanoseconds


def parse_ns(text: Any, path: str = "") -> int:
    """Nanoseconds of a Go duration string; a :class:`ConfigError` naming ``path`` if malformed."""
    if not isinstance(text, str):
        raise ConfigError(f"expected a duration string, got {text!r}", path=path, fix=_FIX)
    rest, sign = text, 1
    if rest[:1] in ("+", "-"):
        sign, rest = (-1 if rest[0] == "-" else 1), rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise ConfigError(f"{text!r} is not a duration", path=path, fix=_FIX)
    total = 0
    while rest:
        number = _PART.match(rest)
        if number is None or number.end() == 0:
            raise ConfigError(f"{text!r} is not a duration", path=path, fix=_FIX)
        unit = _UNIT.match(rest, number.end())
        if unit is None:
            raise ConfigError(f"{text!r} is not a duration (a number has no unit)", path=path, fix=_FIX)
        whole = int(number.group(1) or 0)
        fraction = number.group(2) if number.group(1) is not None else number.group(3)
        scale = _NS[unit.group(0)]
        total += whole * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        rest = rest[unit.end():]
    if total > _LIMIT:
        raise ConfigError(f"{text!r} is too long a duration", path=path, fix="use at most about 292 years")
    return sign * total


def format_ns(ns: int) -> str:
    """Go's ``time.Duration.String``: ``"0s"``, ``"1.5µs"``, ``"250ms"``, ``"1m30s"``, ``"1h0m0s"``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, scale in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if ns < scale * 1000:
                return sign + _decimal(ns, scale) + unit
    hours, ns = divmod(ns, 3_600_000_000_000)
    minutes, ns = divmod(ns, 60_000_000_000)
    text = _decimal(ns, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


def _decimal(value: int, scale: int) -> str:
    whole, part = divmod(value, scale)
    if not part:
        return str(whole)
    digits = len(str(scale)) - 1
    return f"{whole}.{part:0{digits}d}".rstrip("0")


def to_proto(text: Any, out: Any, path: str = "") -> Any:
    """Set the Duration message ``out`` from a Go duration string; returns ``out``."""
    ns = parse_ns(text, path)
    seconds = int(ns / 1_000_000_000)  # truncated toward zero: seconds and nanos share a sign
    out.seconds, out.nanos = seconds, ns - seconds * 1_000_000_000
    return out


def from_proto(duration: Any) -> str:
    """The Go duration string of a Duration message."""
    return format_ns(duration.seconds * 1_000_000_000 + duration.nanos)
