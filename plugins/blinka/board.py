"""The Blinka board: GPIO, PWM, analog pins and polled digital interrupts through Blinka."""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from viamlite_plugins.blinka import pins

from viamlite.attributes import Attributes
from viamlite.components.board import AnalogValue, Board, Tick, TickStream
from viamlite.driver import Configured, attributes_of
from viamlite.errors import InvalidArgumentError, NotSupportedError
from viamlite.machine import operations
from viamlite.resource import Extra

log = logging.getLogger(__name__)

#: CircuitPython's PWM duty cycles and analog values are 16-bit.
FULL_SCALE = 65535
DEFAULT_PWM_HZ = 500
DEFAULT_REFERENCE_V = 3.3
PULLS = ("none", "up", "down")
MODES = ("poll", "edge")


class BlinkaBoard(Configured, Board):
    """The board viamlite runs on, driven through Blinka (``viamlite:blinka:board``).

    Pins are the board's own names as Blinka's ``board`` module spells them (``D18`` on a
    Raspberry Pi, ``GP15`` through a Pico); the chip's names (``microcontroller.pin``) are
    accepted where the board has none of that name. A pin takes the role of its last use:
    ``set_gpio`` makes it an output, ``get_gpio`` an input (unless it is an output, whose
    driven level it reports), ``set_pwm`` a PWM output, ``read_analog`` an analog input,
    ``write_analog`` an analog output; changing role releases the old one first.

    Attributes (all optional):

    * ``analogs``: ``[{"name": "a1", "pin": "A0", "reference_voltage": 3.3}]``: named analog
      readers. ``read_analog`` also accepts a pin name directly. Values are CircuitPython's
      16-bit readings; ``max_range`` is the reference voltage (Blinka's when it reports one,
      else the configured one, default 3.3 V), ``step_size`` that over 65535.
    * ``digital_interrupts``: ``[{"name": "di1", "pin": "D17", "pull": "up", "mode": "poll"}]``:
      pins watched for edges. ``mode`` ``poll`` (default) reads the pin every
      ``poll_interval_ms`` (default 5 ms; shorter pulses can be missed); ``edge`` takes the
      kernel's edge events through libgpiod (``pip install gpiod``; Linux boards whose pins
      are gpiochip lines). ``pull`` is ``none`` (default), ``up`` or ``down``. An interrupt
      counts rising edges, as viam-server's boards do; ``stream_ticks`` yields both edges.
    * ``pwm_frequency_hz``: frequency a new PWM output starts at (default 500 Hz);
      ``set_pwm_frequency`` of 0 means this default.

    Pins are checked when the config is validated (on the board Blinka detects); a pin
    the board lacks is a config error that lists the pins it has.
    """

    def __init__(self, name: str, attributes: Mapping[str, Any] | Attributes | None = None) -> None:
        super().__init__(name)
        attrs = attributes_of(attributes)
        s = self.settings(attrs)
        self.blinka = pins.blinka()
        self.analogs: dict[str, tuple[str, float]] = s["analogs"]
        self.interrupts: dict[str, tuple[str, str]] = s["digital_interrupts"]
        self.interrupt_modes: dict[str, str] = s["interrupt_modes"]
        self.poll_interval_s: float = s["poll_interval_ms"] / 1000.0
        self.default_frequency: int = s["pwm_frequency_hz"]
        self._lock = threading.RLock()
        self._handles: dict[str, tuple[str, Any]] = {}  # pin -> (role, Blinka object)
        self._levels: dict[str, bool] = {}  # outputs: the level driven
        self._frequencies: dict[str, int] = {}  # set before the pin's PWM started
        self._counts: dict[str, int] = {name: 0 for name in self.interrupts}
        self._last: dict[str, bool] = {}
        self._streams: set[TickStream] = set()
        self._poll_errors = 0
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._watchers: list[Any] = []  # edge watchers: stopped before the lock is taken to release pins
        try:
            for interrupt, (pin, pull) in self.interrupts.items():
                if self.interrupt_modes[interrupt] == "edge":
                    self._claim(pin, "interrupt", lambda p, name=interrupt, pull=pull: self._edges(name, p, pull))
                    continue
                handle = self._claim(pin, "interrupt", lambda p, pull=pull: self._input(p, pull))
                self._last[interrupt] = bool(handle.value)
        except BaseException:
            self._stop_watchers()
            self._release_all()
            raise
        if self._last:
            self._poller = threading.Thread(target=self._poll, name=f"blinka-interrupts-{name}", daemon=True)
            self._poller.start()

    # -- config ------------------------------------------------------------------
    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        """Read and check the attributes (raising ConfigError naming the field)."""
        analogs: dict[str, tuple[str, float]] = {}
        for name, sub in attrs.named_objects("analogs", "analog reader", '{"name": "a1", "pin": "A0"}'):
            pin = sub.string("pin")
            if pin is None:
                raise sub.fail("pin", "an analog reader needs a pin", 'write {"name": "a1", "pin": "A0"}')
            pins.check_pin(sub, "pin", pin)
            analogs[name] = (pin, float(sub.number("reference_voltage", DEFAULT_REFERENCE_V, above=0)))
        interrupts: dict[str, tuple[str, str]] = {}
        modes: dict[str, str] = {}
        for name, sub in attrs.named_objects("digital_interrupts", "digital interrupt", '{"name": "di1", "pin": "D17"}'):
            pin = sub.string("pin", name) or name
            pins.check_pin(sub, "pin", pin)
            pull = sub.string("pull", "none")
            if pull not in PULLS:
                raise sub.fail("pull", f"pull {pull!r} is unknown", "use none, up or down")
            if any(pin == other for other, _ in interrupts.values()):
                raise sub.fail("pin", f"pin {pin!r} already has a digital interrupt", "watch each pin once")
            mode = sub.string("mode", "poll")
            if mode not in MODES:
                raise sub.fail("mode", f"mode {mode!r} is unknown", "use poll (read the pin often) or edge (libgpiod)")
            interrupts[name], modes[name] = (pin, pull), mode
        return {"analogs": analogs, "digital_interrupts": interrupts, "interrupt_modes": modes,
                "poll_interval_ms": float(attrs.number("poll_interval_ms", 5.0, minimum=0.1, maximum=10_000)),
                "pwm_frequency_hz": attrs.number("pwm_frequency_hz", DEFAULT_PWM_HZ, above=0, integer=True)}

    # -- pins and their roles ----------------------------------------------------
    def _claim(self, pin: str, role: str, make: Callable[[Any], Any]) -> Any:
        """The Blinka object driving ``pin`` in ``role``, made (after releasing another role) if need be; locked."""
        current = self._handles.get(pin)
        if current is not None and current[0] == role:
            return current[1]
        if current is not None and current[0] == "interrupt":
            owner = next(n for n, (p, _) in self.interrupts.items() if p == pin)
            raise InvalidArgumentError(f"board {self.name!r}: pin {pin!r} is the input of digital interrupt {owner!r}; "
                                       "use another pin, or remove the interrupt from the config")
        target = pins.find_pin(pin)
        if current is not None:
            self._release(pin)
        handle = make(target)
        self._handles[pin] = (role, handle)
        return handle

    def _release(self, pin: str) -> None:
        role, handle = self._handles.pop(pin)
        self._levels.pop(pin, None)
        try:
            handle.deinit()
        except Exception as exc:  # releasing must not stop the next use of the pin
            log.warning("board %r: releasing pin %r (%s) failed: %s", self.name, pin, role, exc)

    def _release_all(self) -> None:
        with self._lock:
            for pin in list(self._handles):
                self._release(pin)

    def _input(self, target: Any, pull: str = "none") -> Any:
        digitalio = self.blinka.module("digitalio")
        io = digitalio.DigitalInOut(target)
        io.switch_to_input(pull={"none": None, "up": digitalio.Pull.UP, "down": digitalio.Pull.DOWN}[pull])
        return io

    def _edges(self, name: str, target: Any, pull: str) -> Any:
        from viamlite_plugins.blinka.edges import EdgeWatcher

        def on_edge(high: bool, time_ns: int) -> None:
            with self._lock:
                if not self.closed:
                    self._tick(name, high, time_ns)

        watcher = EdgeWatcher(target, pull, on_edge, name)
        self._watchers.append(watcher)
        return watcher

    def _stop_watchers(self) -> None:
        """Stop the edge watchers' threads (not locked: a thread may be waiting for the lock)."""
        for watcher in self._watchers:
            watcher.deinit()

    def _role(self, pin: str) -> str | None:
        current = self._handles.get(pin)
        return current[0] if current else None

    # -- GPIO --------------------------------------------------------------------
    def set_gpio(self, pin: str, high: bool, *, extra: Extra = None) -> None:
        self._check_open()
        pin, high = _name(pin), bool(high)
        with self._lock:
            def output(target: Any) -> Any:
                io = self.blinka.module("digitalio").DigitalInOut(target)
                io.switch_to_output(value=high)
                return io

            io = self._claim(pin, "output", output)
            io.value = high
            self._levels[pin] = high

    def get_gpio(self, pin: str, *, extra: Extra = None) -> bool:
        """The pin's level; of a pin driven by ``set_gpio``, the level it drives."""
        self._check_open()
        pin = _name(pin)
        with self._lock:
            role = self._role(pin)
            if role == "output":
                return self._levels[pin]
            if role == "interrupt":
                return bool(self._handles[pin][1].value)
            if role in ("pwm", "analog_out"):
                raise InvalidArgumentError(f"board {self.name!r}: pin {pin!r} is a {_ROLE_WORDS[role]}; reading it as "
                                           "a GPIO would stop that: set_gpio or another pin first")
            return bool(self._claim(pin, "input", self._input).value)

    # -- PWM ---------------------------------------------------------------------
    def _pwm(self, pin: str) -> Any | None:
        current = self._handles.get(pin)
        return current[1] if current and current[0] == "pwm" else None

    def set_pwm(self, pin: str, duty_cycle_pct: float, *, extra: Extra = None) -> None:
        self._check_open()
        pin = _name(pin)
        duty = _fraction(duty_cycle_pct, f"board {self.name!r}: duty cycle of pin {pin!r}")
        value = int(round(duty * FULL_SCALE))
        with self._lock:
            pwm = self._pwm(pin)
            if pwm is not None:
                pwm.duty_cycle = value
                return
            frequency = self._frequencies.get(pin, self.default_frequency)
            self._claim(pin, "pwm", lambda target: self._start_pwm(pin, target, frequency, value))

    def _start_pwm(self, pin: str, target: Any, frequency: int, duty: int) -> Any:
        pwmio = self.blinka.module("pwmio")
        try:
            return pwmio.PWMOut(target, frequency=frequency, duty_cycle=duty, variable_frequency=True)
        except (ValueError, RuntimeError, OSError) as exc:
            raise NotSupportedError(f"board {self.name!r}: pin {pin!r} cannot do PWM on {self.blinka.describe()}: "
                                    f"{exc}") from exc

    def get_pwm(self, pin: str, *, extra: Extra = None) -> float:
        """The duty cycle the pin's PWM output runs at, read back from Blinka; 0.0 when not a PWM output."""
        self._check_open()
        pin = _name(pin)
        with self._lock:
            pwm = self._pwm(pin)
            if pwm is None:
                pins.find_pin(pin)
                return 0.0
            return pwm.duty_cycle / FULL_SCALE

    def set_pwm_frequency(self, pin: str, frequency_hz: int, *, extra: Extra = None) -> None:
        """Set the PWM frequency (0: the board's default); it applies when the pin's PWM starts, or at once."""
        self._check_open()
        pin = _name(pin)
        if isinstance(frequency_hz, bool) or not isinstance(frequency_hz, (int, float)) or frequency_hz < 0 \
                or not math.isfinite(frequency_hz) or frequency_hz != int(frequency_hz):
            raise InvalidArgumentError(f"board {self.name!r}: PWM frequency {frequency_hz!r} of pin {pin!r} must be "
                                       "a whole number of Hz, 0 (the default) or more")
        frequency = int(frequency_hz) or self.default_frequency
        with self._lock:
            pwm = self._pwm(pin)
            if pwm is None:
                pins.find_pin(pin)
                self._frequencies[pin] = frequency
                return
            try:
                pwm.frequency = frequency
            except (ValueError, RuntimeError, OSError, AttributeError) as exc:
                # a backend that cannot retune a running output: start it again at the new frequency
                log.info("board %r: restarting PWM on %r at %d Hz (%s)", self.name, pin, frequency, exc)
                duty = pwm.duty_cycle
                self._release(pin)
                self._claim(pin, "pwm", lambda target: self._start_pwm(pin, target, frequency, duty))
            self._frequencies[pin] = frequency

    def get_pwm_frequency(self, pin: str, *, extra: Extra = None) -> int:
        self._check_open()
        pin = _name(pin)
        with self._lock:
            pwm = self._pwm(pin)
            if pwm is not None:
                return int(round(pwm.frequency))
            pins.find_pin(pin)
            return self._frequencies.get(pin, self.default_frequency)

    # -- analog ------------------------------------------------------------------
    def read_analog(self, reader: str, *, extra: Extra = None) -> AnalogValue:
        """A configured reader, or any pin by name; a pin written with ``write_analog`` reads what it outputs."""
        self._check_open()
        reader = _name(reader, "analog reader")
        pin, reference = self.analogs.get(reader, (reader, DEFAULT_REFERENCE_V))
        with self._lock:
            if self._role(pin) == "analog_out":
                value = self._handles[pin][1].value
            else:
                def analog_in(target: Any) -> Any:
                    analogio = self.blinka.module("analogio")
                    try:
                        return analogio.AnalogIn(target)
                    except (ValueError, RuntimeError, OSError, AttributeError) as exc:
                        raise NotSupportedError(f"board {self.name!r}: pin {pin!r} is not an analog input on "
                                                f"{self.blinka.describe()}: {exc}") from exc

                try:
                    handle = self._claim(pin, "analog_in", analog_in)
                except pins.UnknownPinError as exc:
                    if reader in self.analogs or not self.analogs:
                        raise
                    raise InvalidArgumentError(f"board {self.name!r} has no analog reader {reader!r}; its readers: "
                                               f"{', '.join(sorted(self.analogs))}, or a pin name: {exc}") from None
                value = handle.value
                reference = float(getattr(handle, "reference_voltage", None) or reference)
        return AnalogValue(int(value), 0.0, reference, reference / FULL_SCALE)

    def write_analog(self, pin: str, value: int, *, extra: Extra = None) -> None:
        """Output ``value`` (0 to 65535) on the pin's DAC."""
        self._check_open()
        pin = _name(pin)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= FULL_SCALE:
            raise InvalidArgumentError(f"board {self.name!r}: analog value for pin {pin!r} must be a whole number "
                                       f"from 0 to {FULL_SCALE}, got {value!r}")
        with self._lock:
            def analog_out(target: Any) -> Any:
                analogio = self.blinka.module("analogio")
                if not hasattr(analogio, "AnalogOut"):
                    raise NotSupportedError(f"board {self.name!r}: {self.blinka.describe()} has no analog outputs")
                try:
                    return analogio.AnalogOut(target)
                except (ValueError, RuntimeError, OSError) as exc:
                    raise NotSupportedError(f"board {self.name!r}: pin {pin!r} is not an analog output: {exc}") from exc

            self._claim(pin, "analog_out", analog_out).value = value

    # -- digital interrupts ------------------------------------------------------
    def _poll(self) -> None:
        while not self._stop.wait(self.poll_interval_s):
            with self._lock:
                for name in self._last:
                    pin = self.interrupts[name][0]
                    current = self._handles.get(pin)
                    if current is None:
                        continue
                    try:
                        high = bool(current[1].value)
                    except Exception as exc:
                        self._poll_errors += 1
                        if self._poll_errors == 1:
                            log.error("board %r: reading interrupt %r (pin %r) failed: %s", self.name, name, pin, exc)
                        continue
                    if high != self._last[name]:
                        self._last[name] = high
                        self._tick(name, high, time.time_ns())

    def _tick(self, name: str, high: bool, time_ns: int) -> None:
        """One edge on interrupt ``name``; locked."""
        if high:
            self._counts[name] += 1
        tick = Tick(name, time_ns, high)
        for stream in self._streams:
            if stream.wants(name):
                stream.put(tick)

    def _interrupt(self, name: Any) -> str:
        name = _name(name, "digital interrupt")
        if name not in self.interrupts:
            known = ", ".join(sorted(self.interrupts)) or "none (add digital_interrupts to the board's attributes)"
            raise InvalidArgumentError(f"board {self.name!r} has no digital interrupt {name!r}; its interrupts: {known}")
        return name

    def get_digital_interrupt_value(self, interrupt: str, *, extra: Extra = None) -> int:
        self._check_open()
        name = self._interrupt(interrupt)
        with self._lock:
            return self._counts[name]

    def stream_ticks(self, interrupts: Sequence[str], *, extra: Extra = None) -> TickStream:
        """Edges of ``interrupts`` (every configured one when empty) from now on."""
        self._check_open()
        if isinstance(interrupts, str):
            raise InvalidArgumentError(f"interrupts must be a list of names, got the string {interrupts!r}")
        names = frozenset(self._interrupt(name) for name in interrupts) or None
        stream = TickStream(self, names, operation=operations.current)
        with self._lock:
            self._check_open()
            self._streams.add(stream)
        return stream

    def _unsubscribe(self, stream: TickStream) -> None:
        with self._lock:
            self._streams.discard(stream)

    # -- the rest ----------------------------------------------------------------
    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """``{"pins": {}}`` answers the board Blinka detected and its pin names."""
        self._check_open()
        if set(command) != {"pins"}:
            keys = ", ".join(sorted(map(str, command))) or "(empty)"
            raise InvalidArgumentError(f"unknown command {keys}; this board supports: pins ({{\"pins\": {{}}}})")
        return {"board_id": self.blinka.board_id, "chip_id": self.blinka.chip_id, "pins": self.blinka.pin_names()}

    def _on_close(self) -> None:
        self._stop.set()
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join(timeout=5)
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.close()
        self._stop_watchers()
        self._release_all()

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            return {"board_id": self.blinka.board_id, "chip_id": self.blinka.chip_id,
                    "pins": {pin: role for pin, (role, _) in self._handles.items()},
                    "interrupts": dict(self._counts), "interrupt_read_errors": self._poll_errors,
                    "tick_streams": len(self._streams)}


_ROLE_WORDS = {"pwm": "PWM output", "analog_out": "analog output"}


def _name(pin: Any, what: str = "pin") -> str:
    if not isinstance(pin, str) or not pin:
        raise InvalidArgumentError(f"{what} must be a non-empty name such as \"D18\", got {pin!r}")
    return pin


def _fraction(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0.0 <= value <= 1.0:
        raise InvalidArgumentError(f"{what} {value!r} is out of range; use 0.0 to 1.0")
    return float(value)
