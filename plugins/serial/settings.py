"""Attributes every serial model shares (the port and its link), and Arduino pin names."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from viamlite.attributes import Attributes
from viamlite.errors import InvalidArgumentError

DEFAULT_BAUD = 115200
DEFAULT_WATCHDOG_MS = 500
#: The host pings several times per watchdog period; shorter periods than this cannot be fed reliably.
MIN_WATCHDOG_MS = 50
MAX_WATCHDOG_MS = 60_000
ON_TIMEOUT = ("release", "stop")

#: Arduino Uno numbering: D0..D13, A0..A5 = 14..19. D0/D1 are the UART.
FIRST_PIN, LAST_PIN = 2, 19
ANALOG_FIRST = 14
PIN_EXAMPLE = '9 (or "D9"; analog pins "A0".."A5" are 14..19)'


@dataclass(frozen=True)
class PortSettings:
    """How to reach the firmware: all resources on one port must agree on these."""

    port: str
    baud: int = DEFAULT_BAUD
    watchdog_ms: int = DEFAULT_WATCHDOG_MS
    on_timeout: str = "release"

    @classmethod
    def read(cls, attrs: Attributes) -> "PortSettings":
        port = attrs.string("port")
        if port is None:
            raise attrs.fail("port", "the serial port is missing",
                             'write "port": "/dev/ttyACM0" (ls /dev/ttyACM* /dev/ttyUSB* lists the ports; '
                             'a pyserial URL such as "socket://127.0.0.1:7000" works too)')
        baud = attrs.number("baud", DEFAULT_BAUD, minimum=300, maximum=4_000_000, integer=True)
        watchdog = attrs.number("watchdog_ms", DEFAULT_WATCHDOG_MS, minimum=0, maximum=MAX_WATCHDOG_MS, integer=True)
        if 0 < watchdog < MIN_WATCHDOG_MS:
            raise attrs.fail("watchdog_ms", f"watchdog_ms {watchdog} is too short for the host to feed over serial",
                             f"use 0 (off) or {MIN_WATCHDOG_MS} to {MAX_WATCHDOG_MS} ms")
        on_timeout = attrs.get("on_timeout", "release")
        if on_timeout not in ON_TIMEOUT:
            raise attrs.fail("on_timeout", f"on_timeout {on_timeout!r} is not a watchdog action",
                             'write "on_timeout": "release" (servos go limp) or "stop" (servos hold their pulse)')
        return cls(port, baud, watchdog, on_timeout)

    def differences(self, other: "PortSettings") -> list[str]:
        """Attribute names whose values differ from ``other``'s."""
        return [key for key in ("baud", "watchdog_ms", "on_timeout") if getattr(self, key) != getattr(other, key)]


def parse_pin(value: Any) -> int:
    """An Arduino pin number from ``9``, ``"9"``, ``"D9"`` or ``"A0"`` (= 14); ValueError if not one."""
    if isinstance(value, bool):
        raise ValueError(f"pin {value!r} is not a pin")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip().upper()
        if text[:1] == "A" and text[1:].isdigit():
            number = int(text[1:])
            if not 0 <= number <= 5:
                raise ValueError(f"pin {value!r} is not an analog pin; use A0 to A5")
            return ANALOG_FIRST + number
        if text[:1] == "D":
            text = text[1:]
        if not text.isdigit():
            raise ValueError(f"pin {value!r} is not a pin name; use {PIN_EXAMPLE}")
        value = int(text)
    if not isinstance(value, int):
        raise ValueError(f"pin {value!r} is not a pin; use {PIN_EXAMPLE}")
    if value in (0, 1):
        raise ValueError(f"pin {value} is the UART the firmware talks on; use pins 2 to 19")
    if not FIRST_PIN <= value <= LAST_PIN:
        raise ValueError(f"pin {value} does not exist on the ATmega328P; use pins 2 to 19 (A0..A5 are 14..19)")
    return value


def parse_analog(value: Any) -> int:
    """An analog pin as 14..19 from ``"A0"``, ``0``..``5`` or ``14``..``19``; ValueError if not one."""
    if not isinstance(value, bool):
        if isinstance(value, int) and 0 <= value <= 5:
            return ANALOG_FIRST + value
        if isinstance(value, str) and value.strip().isdigit() and 0 <= int(value) <= 5:
            return ANALOG_FIRST + int(value)
    try:
        pin = parse_pin(value)
    except ValueError:
        pin = -1
    if pin < ANALOG_FIRST:
        raise ValueError(f"{value!r} is not an analog pin; use A0..A5 (or 0..5, or 14..19)")
    return pin


def pin_attr(attrs: Attributes, key: str, *, required: bool = True, analog: bool = False) -> int | None:
    """The pin at attribute ``key`` as a number; a ConfigError naming ``key`` when it is not one."""
    value = attrs.values.get(key)
    if value is None:
        if required:
            raise attrs.fail(key, f"{key} is missing", f"write \"{key}\": {PIN_EXAMPLE}")
        return None
    try:
        return parse_analog(value) if analog else parse_pin(value)
    except ValueError as exc:
        example = '"A0"' if analog else PIN_EXAMPLE
        raise attrs.fail(key, str(exc), f"write \"{key}\": {example}") from None


def pin_arg(value: Any, what: str = "pin") -> int:
    """A call's pin argument as a number; InvalidArgumentError when it is not one."""
    try:
        return parse_pin(value)
    except ValueError as exc:
        raise InvalidArgumentError(f"{what}: {exc}") from None


def pin_map(attrs: Attributes, key: str, *, analog: bool) -> dict[str, int]:
    """``{"name": pin}`` at ``key`` as names to pin numbers (ConfigErrors name ``key.name``)."""
    example = '{"pot": "A0"}' if analog else '{"button": 7}'
    raw: Mapping[str, Any] = attrs.mapping(key, {}, example=example) or {}
    sub = attrs.nested(key, raw)
    return {str(name): pin_attr(sub, str(name), analog=analog) for name in raw}  # type: ignore[misc]
