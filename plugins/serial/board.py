"""The firmware's board: GPIO, analog reads and pulse measurement."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from viamlite_plugins.serial.base import OnLink
from viamlite_plugins.serial.link import CALL_TIMEOUT_S
from viamlite_plugins.serial.settings import parse_analog, pin_arg, pin_attr

from viamlite.attributes import Attributes
from viamlite.driver import attributes_of
from viamlite.components.board import AnalogValue, Board, Tick
from viamlite.errors import InvalidArgumentError, NotSupportedError
from viamlite.resource import Extra

MAX_PULSE_TIMEOUT_MS = 10_000


class SerialBoard(OnLink, Board):
    """The ATmega328P behind the viamlite firmware (``viamlite:serial:board``).

    Attributes: ``port`` (required), ``baud``, ``watchdog_ms``, ``on_timeout``, and

    * ``analogs`` (optional): ``[{"name": "a0", "pin": "14"}]``, named analog readers
      (pins ``A0``..``A5``, ``0``..``5`` or ``14``..``19``). ``read_analog`` also takes an
      analog pin directly. Values are 10-bit (0..1023) with a 5 V range.

    Pins are Arduino numbers (``9``, ``"D9"``; ``"A0"`` is 14). ``set_gpio`` drives a pin,
    ``get_gpio`` reads one. The firmware has no PWM outputs, analog writers or digital
    interrupts (use ``viamlite:serial:servo`` for servo pulses and
    ``viamlite:serial:encoder`` for quadrature counts). ``do_command``:
    ``{"measure_pulse": {"pin": 9, "timeout_ms": 100}}`` answers ``{"pulse_us": width}`` of
    the next complete high pulse on the pin; ``{"status": {}}`` the firmware's counters.
    """

    def __init__(self, name: str, attributes: Mapping[str, Any] | Attributes | None = None) -> None:
        super().__init__(name)
        attrs = attributes_of(attributes)
        s = self.settings(attrs)
        self.analogs: dict[str, int] = s["analogs"]
        self._connect(s, attrs)

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        s = super().settings(attrs)
        s["analogs"] = {name: pin_attr(sub, "pin", analog=True)
                        for name, sub in attrs.named_objects("analogs", "analog reader", '{"name": "a0", "pin": "14"}')}
        return s

    # -- GPIO and analog -----------------------------------------------------------
    def set_gpio(self, pin: str, high: bool, *, extra: Extra = None) -> None:
        self._check_open()
        if not isinstance(high, bool):
            raise InvalidArgumentError(f"board {self.name!r}: high must be true or false, got {high!r}")
        self.link.call("board", "set_gpio", pin_arg(pin), high)

    def get_gpio(self, pin: str, *, extra: Extra = None) -> bool:
        self._check_open()
        return bool(self.link.call("board", "get_gpio", pin_arg(pin)))

    def read_analog(self, reader: str, *, extra: Extra = None) -> AnalogValue:
        self._check_open()
        pin = self.analogs.get(reader) if isinstance(reader, str) else None
        if pin is None:
            try:
                pin = parse_analog(reader)
            except ValueError as exc:
                known = ", ".join(sorted(self.analogs)) or "none configured"
                raise InvalidArgumentError(f"board {self.name!r} has no analog reader {reader!r} ({exc}); "
                                           f"its readers: {known}") from None
        value, low, high, step = self.link.call("board", "read_analog", pin)
        return AnalogValue(int(value), float(low), float(high), float(step))

    def measure_pulse(self, pin: Any, timeout_ms: int = 100) -> int:
        """Width in µs of the next complete high pulse on ``pin`` (DeadlineExceeded when none comes)."""
        self._check_open()
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or not 1 <= timeout_ms <= MAX_PULSE_TIMEOUT_MS:
            raise InvalidArgumentError(f"board {self.name!r}: timeout_ms {timeout_ms!r} must be a whole number "
                                       f"from 1 to {MAX_PULSE_TIMEOUT_MS}")
        return int(self.link.call("board", "measure_pulse", pin_arg(pin), timeout_ms,
                                  timeout=timeout_ms / 1000 + CALL_TIMEOUT_S))

    # -- what the firmware lacks -------------------------------------------------------
    def _lacks(self, what: str, instead: str) -> NotSupportedError:
        return NotSupportedError(f"board {self.name!r}: the viamlite firmware has no {what}; {instead}")

    def get_pwm(self, pin: str, *, extra: Extra = None) -> float:
        raise self._lacks("PWM outputs", "drive servos with viamlite:serial:servo")

    def set_pwm(self, pin: str, duty_cycle_pct: float, *, extra: Extra = None) -> None:
        raise self._lacks("PWM outputs", "drive servos with viamlite:serial:servo")

    def get_pwm_frequency(self, pin: str, *, extra: Extra = None) -> int:
        raise self._lacks("PWM outputs", "drive servos with viamlite:serial:servo")

    def set_pwm_frequency(self, pin: str, frequency_hz: int, *, extra: Extra = None) -> None:
        raise self._lacks("PWM outputs", "drive servos with viamlite:serial:servo")

    def write_analog(self, pin: str, value: int, *, extra: Extra = None) -> None:
        raise self._lacks("analog outputs", "use set_gpio for digital levels")

    def get_digital_interrupt_value(self, interrupt: str, *, extra: Extra = None) -> int:
        raise self._lacks("digital interrupts", "count quadrature edges with viamlite:serial:encoder")

    def stream_ticks(self, interrupts: Sequence[str], *, extra: Extra = None) -> Any:
        raise self._lacks("digital interrupts", "count quadrature edges with viamlite:serial:encoder")

    # -- the rest ----------------------------------------------------------------------
    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        self._check_open()
        if set(command) == {"measure_pulse"}:
            args = command["measure_pulse"]
            if not isinstance(args, Mapping) or "pin" not in args:
                raise InvalidArgumentError('measure_pulse needs {"pin": 9} (and optionally "timeout_ms": 100)')
            return {"pulse_us": self.measure_pulse(args["pin"], args.get("timeout_ms", 100))}
        if set(command) == {"status"}:
            return dict(self.link.call("board", "get_status"))
        keys = ", ".join(sorted(map(str, command))) or "(empty)"
        raise InvalidArgumentError(f"board {self.name!r}: unknown command {keys}; this board supports "
                                   '{"measure_pulse": {"pin": 9, "timeout_ms": 100}} and {"status": {}}')

    def get_status(self) -> dict[str, Any]:
        return {"analogs": dict(self.analogs), **self.link_status()}


__all__ = ["SerialBoard", "Tick"]
