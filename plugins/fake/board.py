"""The fake board: GPIO, PWM, analog readers and writers, and digital interrupts on any pin name."""
from __future__ import annotations

import math
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from viamlite_plugins.fake import FakeResource, finite, in_range

from viamlite.attributes import Attributes
from viamlite.machine import operations
from viamlite.components.board import AnalogValue, Board, PowerMode, Tick, TickStream
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra

ADC_BITS = 12
ADC_MAX = (1 << ADC_BITS) - 1
MAX_RANGE_V = 3.3
STEP_V = MAX_RANGE_V / ADC_MAX
ANALOG_PERIOD_S = 10.0


class FakeBoard(FakeResource, Board):
    """A board on which every pin name exists.

    Attributes (both optional):

    * ``analogs``: a list of ``{"name": .., "value": ..}`` (``value`` a whole number from 0
      to 4095, optional; ``pin`` is accepted and ignored, as in viam-server's configs). When
      given (and not empty), only those readers exist; a reader without ``value`` reads the simulated
      wave. Without ``analogs`` every reader name exists and reads a 12-bit value moving
      slowly around mid-range (a sine with a 10 s period, phase by name). Readings have
      ``min_range`` 0, ``max_range`` 3.3 and ``step_size`` 3.3/4095 volts. A pin written
      with ``write_analog`` reads back what was written (a loopback), whatever the config.
    * ``digital_interrupts``: a list of ``{"name": .., "pin": ..}``. Every name is an
      interrupt anyway; these add names that follow another pin's edges.

    GPIO levels start low; PWM duty cycles (0.0 to 1.0) and frequencies start at 0 until
    set. Digital interrupts: ``set_gpio`` that changes a pin's level is an edge on the
    interrupt of the same name (and on configured interrupts on that pin);
    ``do_command({"tick": {"pin": name, "high": true}})`` injects one edge (it does not
    change the GPIO level). As viam-server's fake board does, an interrupt counts rising
    edges; ``stream_ticks`` yields both. ``stream_ticks([])`` streams every interrupt.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        entries = attrs.named_objects("analogs", "analog reader", '{"name": "a1", "value": 2048}')
        analogs: dict[str, int | None] | None = {
            name: sub.number("value", None, minimum=0, maximum=ADC_MAX, integer=True) for name, sub in entries
        } if entries else None
        interrupt_pins = {name: sub.string("pin", name) or name for name, sub in
                          attrs.named_objects("digital_interrupts", "digital interrupt", '{"name": "di1", "pin": "14"}')}
        return {"analogs": analogs, "digital_interrupts": interrupt_pins}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        with self._lock:
            self.analogs, self.interrupt_pins = s["analogs"], s["digital_interrupts"]
            if not hasattr(self, "_gpio"):
                self._t0 = time.monotonic()
                self._gpio: dict[str, bool] = {}
                self._pwm: dict[str, float] = {}
                self._frequency: dict[str, int] = {}
                self._written: dict[str, int] = {}
                self._counts: dict[str, int] = {}
                self._streams: set[TickStream] = set()
                self._power_mode = (PowerMode.UNSPECIFIED, None)

    # -- GPIO and PWM ------------------------------------------------------------
    def set_gpio(self, pin: str, high: bool, *, extra: Extra = None) -> None:
        self._check_open()
        pin = _pin(pin)
        high = bool(high)
        self._record("set_gpio", extra, pin=pin, high=high)
        with self._lock:
            was = self._gpio.get(pin, False)
            self._gpio[pin] = high
            if was != high:
                now = time.time_ns()
                for name in self._interrupts_on(pin):
                    self._tick(name, high, now)

    def get_gpio(self, pin: str, *, extra: Extra = None) -> bool:
        self._check_open()
        with self._lock:
            return self._gpio.get(_pin(pin), False)

    def get_pwm(self, pin: str, *, extra: Extra = None) -> float:
        self._check_open()
        with self._lock:
            return self._pwm.get(_pin(pin), 0.0)

    def set_pwm(self, pin: str, duty_cycle_pct: float, *, extra: Extra = None) -> None:
        self._check_open()
        pin = _pin(pin)
        duty = in_range(duty_cycle_pct, 0.0, 1.0, f"board {self.name!r}: duty cycle of pin {pin!r}")
        self._record("set_pwm", extra, pin=pin, duty_cycle_pct=duty)
        with self._lock:
            self._pwm[pin] = duty

    def get_pwm_frequency(self, pin: str, *, extra: Extra = None) -> int:
        self._check_open()
        with self._lock:
            return self._frequency.get(_pin(pin), 0)

    def set_pwm_frequency(self, pin: str, frequency_hz: int, *, extra: Extra = None) -> None:
        self._check_open()
        pin = _pin(pin)
        if isinstance(frequency_hz, bool) or not isinstance(frequency_hz, int) or frequency_hz < 0:
            raise InvalidArgumentError(
                f"board {self.name!r}: PWM frequency {frequency_hz!r} of pin {pin!r} must be a whole number of Hz, 0 or more")
        self._record("set_pwm_frequency", extra, pin=pin, frequency_hz=frequency_hz)
        with self._lock:
            self._frequency[pin] = frequency_hz

    # -- analog ------------------------------------------------------------------
    def read_analog(self, reader: str, *, extra: Extra = None) -> AnalogValue:
        self._check_open()
        reader = _pin(reader, "analog reader")
        with self._lock:
            if reader in self._written:
                value: int | None = self._written[reader]
            elif self.analogs is not None:
                if reader not in self.analogs:
                    known = ", ".join(sorted(self.analogs)) or "none"
                    raise InvalidArgumentError(f"board {self.name!r} has no analog reader {reader!r}; it has: {known}")
                value = self.analogs[reader]
            else:
                value = None
            if value is None:
                phase = zlib.crc32(reader.encode()) / 2**32 * 2 * math.pi
                t = time.monotonic() - self._t0
                value = int(round(ADC_MAX / 2 + ADC_MAX / 4 * math.sin(2 * math.pi * t / ANALOG_PERIOD_S + phase)))
        return AnalogValue(value, 0.0, MAX_RANGE_V, STEP_V)

    def write_analog(self, pin: str, value: int, *, extra: Extra = None) -> None:
        self._check_open()
        pin = _pin(pin)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgumentError(f"board {self.name!r}: analog value for pin {pin!r} must be a whole number, got {value!r}")
        self._record("write_analog", extra, pin=pin, value=value)
        with self._lock:
            self._written[pin] = value

    # -- digital interrupts ------------------------------------------------------
    def _interrupts_on(self, pin: str) -> list[str]:
        """Interrupts that see ``pin``'s edges: its own name and configured ones on it; locked."""
        names = [name for name, on in self.interrupt_pins.items() if on == pin and name != pin]
        return [pin, *names]

    def _tick(self, name: str, high: bool, time_ns: int) -> None:
        """One edge on interrupt ``name``; locked."""
        if high:
            self._counts[name] = self._counts.get(name, 0) + 1
        tick = Tick(name, time_ns, high)
        for stream in self._streams:
            if stream.wants(name):
                stream.put(tick)

    def get_digital_interrupt_value(self, interrupt: str, *, extra: Extra = None) -> int:
        self._check_open()
        with self._lock:
            return self._counts.get(_pin(interrupt, "digital interrupt"), 0)

    def stream_ticks(self, interrupts: Sequence[str], *, extra: Extra = None) -> TickStream:
        self._check_open()
        if isinstance(interrupts, str):
            raise InvalidArgumentError(f"interrupts must be a list of names, got the string {interrupts!r}")
        names = frozenset(_pin(name, "digital interrupt") for name in interrupts) or None
        self._record("stream_ticks", extra, interrupts=sorted(names) if names else [])
        stream = TickStream(self, names, operation=operations.current)
        with self._lock:
            self._check_open()
            self._streams.add(stream)
        return stream

    def _unsubscribe(self, stream: TickStream) -> None:
        with self._lock:
            self._streams.discard(stream)

    @property
    def streams(self) -> int:
        """How many tick streams are open."""
        with self._lock:
            return len(self._streams)

    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """``{"tick": {"pin": name, "high": bool, "time_ns": int (optional)}}`` injects one edge.

        Answers ``{"count": <the interrupt's count now>}``.
        """
        self._check_open()
        spec = command.get("tick") if set(command) == {"tick"} else None
        if not isinstance(spec, Mapping):
            raise self._unknown_command(command, 'tick ({"tick": {"pin": "di1", "high": true}})')
        name = _pin(spec.get("pin"), "tick pin")
        high = spec.get("high", True)
        if not isinstance(high, bool):
            raise InvalidArgumentError(f"tick high must be true or false, got {high!r}")
        time_ns = int(finite(spec["time_ns"], "tick time_ns")) if spec.get("time_ns") is not None else time.time_ns()
        self._record("do_command", command={"tick": {"pin": name, "high": high}})
        with self._lock:
            self._tick(name, high, time_ns)
            return {"count": self._counts.get(name, 0)}

    # -- power -------------------------------------------------------------------
    def set_power_mode(self, mode: int, duration_s: float | None = None, *, extra: Extra = None) -> None:
        self._check_open()
        modes = (PowerMode.UNSPECIFIED, PowerMode.NORMAL, PowerMode.OFFLINE_DEEP)
        if mode not in modes:
            raise InvalidArgumentError(f"board {self.name!r}: power mode {mode!r} is unknown; use 0, 1 (normal) or 2 (offline deep)")
        duration = None if duration_s is None else in_range(duration_s, 0.0, math.inf, "power mode duration_s")
        self._record("set_power_mode", extra, mode=mode, duration_s=duration)
        with self._lock:
            self._power_mode = (mode, duration)

    # -- lifecycle ---------------------------------------------------------------
    def _on_close(self) -> None:
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.close()

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            mode, duration = self._power_mode
            return {"gpio": dict(self._gpio), "pwm": dict(self._pwm), "pwm_frequency": dict(self._frequency),
                    "analog_written": dict(self._written), "interrupts": dict(self._counts),
                    "tick_streams": len(self._streams), "power_mode": mode, "power_mode_duration_s": duration}


def _pin(name: Any, what: str = "pin") -> str:
    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"{what} must be a non-empty name such as \"11\" or \"GPIO17\", got {name!r}")
    return name
