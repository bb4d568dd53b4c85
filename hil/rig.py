"""Rigs: where the firmware runs, and how a scenario observes and stimulates its pins.

A rig file (JSON) names a rig ``kind``:

* ``sim``: the simulator runs the built firmware; pulses are read from its pin trace and
  analog values, levels and encoder steps are injected by the simulator.
* ``serial``: a board on a serial ``port``. The board observes and stimulates itself
  through jumper wires the rig file lists (``wires``): the servo pin wired to a probe pin
  the firmware measures pulses on, an output pin wired to the analog input, two output
  pins wired to the encoder's inputs. ``"port": "sim"`` runs the same rig on the
  simulator with those wires connected, which is how CI proves the serial rig's code.

Scenarios use only :class:`Rig`'s methods, so the same scenario runs on either kind.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from viamlite.fastpath import schema as S

#: Rig file keys and their defaults.
DEFAULTS: dict[str, Any] = {
    "baud": 500000,
    "servo": {"index": 0, "pin": 9, "min_us": 500, "max_us": 2500},
    "analog_pin": 14,
    "digital": {"out": 4, "in": 7},
    "encoder": {"index": 0, "pin_a": 2, "pin_b": 3},
    "pulse_tolerance_us": 10.0,
    "analog_tolerance": 3,
    "open_delay_s": 0.0,
    "loop": {"rate_hz": 1000, "seconds": 5.0},
    "wires": {},
    "camera": None,  # a webcam's attributes, for the scenarios in hil/camera/
}


class RigError(Exception):
    """A rig file or a rig's set-up is wrong; the message names the key and the fix."""


@dataclass
class RigFile:
    """A parsed rig file."""

    path: Path
    name: str
    kind: str
    port: str
    settings: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]


def load_rig(path: str | Path) -> RigFile:
    """Read and check a rig file; :class:`RigError` names what is wrong."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise RigError(f"rig file {path} does not exist; the bundled ones are in hil/rigs/") from None
    except json.JSONDecodeError as exc:
        raise RigError(f"rig file {path} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RigError(f"rig file {path} must hold a JSON object")
    kind = raw.get("kind")
    if kind not in ("sim", "serial"):
        raise RigError(f"rig file {path}: \"kind\" must be \"sim\" or \"serial\", not {kind!r}")
    port = raw.get("port", "sim" if kind == "sim" else None)
    if kind == "serial" and not isinstance(port, str):
        raise RigError(f"rig file {path}: a serial rig needs \"port\" (such as \"/dev/ttyACM0\", or \"sim\" "
                       "to run it on the simulator)")
    settings = {**DEFAULTS, **{k: v for k, v in raw.items() if k not in ("name", "kind", "port")}}
    unknown = sorted(set(raw) - set(DEFAULTS) - {"name", "kind", "port", "description"})
    if unknown:
        raise RigError(f"rig file {path}: unknown keys {', '.join(unknown)}; known: "
                       f"{', '.join(sorted(set(DEFAULTS) | {'name', 'kind', 'port', 'description'}))}")
    if kind == "serial":
        wires = settings["wires"]
        for key in ("pulse_probe", "analog_source", "digital", "encoder_drive"):
            if key not in wires:
                raise RigError(f"rig file {path}: a serial rig needs wires.{key} (see hil/rigs/serial.json)")
    return RigFile(path, str(raw.get("name", path.stem)), kind, port, settings)


def expected_pulse_us(angle: int, min_us: int, max_us: int) -> float:
    """The pulse width a servo at ``angle`` should get with that pulse range."""
    return min_us + (max_us - min_us) * angle / 180.0


class Rig:
    """What scenarios need of a rig; :func:`open_rig` makes the right kind."""

    def __init__(self, rigfile: RigFile, port: str) -> None:
        self.file = rigfile
        self.port = port
        self.info: dict[str, Any] = {}
        self._session: Any = None

    # -- connection --------------------------------------------------------------------
    def session(self) -> Any:
        """The rig's shared client, opened again if a scenario closed it."""
        if self._session is None or self._session.closed:
            self._session = self.connect()
        return self._session

    def connect(self, baud: int | None = None, **hello: Any) -> Any:
        """A fast-path client on the firmware, after HELLO (``hello``: watchdog options)."""
        from viamlite.fastpath.serialport import hello_with_options, open_serial

        client = open_serial(self.port, baud or self.file["baud"], timeout=2.0, max_frame=256, hello=False)
        try:
            if self.file["open_delay_s"]:  # a board that resets when its port opens (an Uno) boots first
                time.sleep(self.file["open_delay_s"])
            self.info = hello_with_options(client, client_name="viamlite hil", **hello)
        except BaseException:
            client.close()
            raise
        return client

    # -- observation and stimulus (each kind implements these) ---------------------------
    def pulse_widths(self, fw: Any, pin: int, count: int = 5) -> list[float]:
        raise NotImplementedError

    def pulses_running(self, fw: Any, pin: int, window_s: float = 0.1) -> bool:
        raise NotImplementedError

    def analog_levels_mv(self) -> list[int]:
        raise NotImplementedError

    def set_analog(self, fw: Any, millivolts: int) -> None:
        raise NotImplementedError

    def set_input_level(self, fw: Any, high: bool) -> None:
        raise NotImplementedError

    def turn_encoder(self, fw: Any, steps: int) -> None:
        raise NotImplementedError

    def reset_board(self) -> None:
        """Reset the MCU as its reset button does."""
        raise RigError(f"rig {self.file.name} cannot reset its board; press the reset button")

    def close(self) -> dict[str, Any]:
        """Release the rig; returns what it has to report (the simulator's pace)."""
        self.close_session()
        return {}

    def close_session(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


class SimRig(Rig):
    """The firmware in the simulator; the simulator observes and stimulates the pins."""

    def __init__(self, rigfile: RigFile, baud: int, wires: list[tuple[int, int]] = ()) -> None:
        from hil.build import build_firmware, build_sim
        from hil.sim import Simulator

        build_sim()
        self.elf = build_firmware(baud)
        self.sim = Simulator(self.elf, wires=list(wires))
        self.sim.__enter__()
        super().__init__(rigfile, self.sim.pty)

    def pulse_widths(self, fw: Any, pin: int, count: int = 5) -> list[float]:
        # The firmware plans each pulse a frame ahead: the third pulse that starts after
        # now is the first certain to show the servo's current setting.
        since = self.sim.now_us()
        pulses = self.sim.wait_pulses(pin, count + 2, timeout=5.0, since_t_us=since)
        return [width for _, width in pulses[2:count + 2]]

    def pulses_running(self, fw: Any, pin: int, window_s: float = 0.1) -> bool:
        since = self.sim.now_us()
        time.sleep(window_s)
        return bool(self.sim.pulses(pin, since_t_us=since))

    def analog_levels_mv(self) -> list[int]:
        return [0, 1000, 2500, 3300, 5000]

    def set_analog(self, fw: Any, millivolts: int) -> None:
        self.sim.inject_analog(_analog_channel(self.file["analog_pin"]), millivolts)

    def set_input_level(self, fw: Any, high: bool) -> None:
        self.sim.drive_pin(self.file["digital"]["in"], 1 if high else 0)

    def turn_encoder(self, fw: Any, steps: int) -> None:
        enc = self.file["encoder"]
        self.sim.quadrature(enc["pin_a"], enc["pin_b"], steps, 2000)  # returns when done

    def reset_board(self) -> None:
        self.sim.reset()

    def close(self) -> dict[str, Any]:
        self.close_session()
        return {"simulator": self.sim.stop()}


class SerialRig(Rig):
    """A board that observes itself through jumper wires (rig file ``wires``)."""

    def __init__(self, rigfile: RigFile, baud: int) -> None:
        self.sim_rig: SimRig | None = None
        port = rigfile.port
        if port == "sim":  # the same wires, connected in the simulator
            wires = rigfile["wires"]
            pairs = [tuple(wires["pulse_probe"]), tuple(wires["analog_source"]), tuple(wires["digital"])]
            pairs += [tuple(p) for p in wires["encoder_drive"]]
            self.sim_rig = SimRig(rigfile, baud, wires=pairs)
            port = self.sim_rig.port
        super().__init__(rigfile, port)
        self.wires = rigfile["wires"]

    def pulse_widths(self, fw: Any, pin: int, count: int = 5) -> list[float]:
        out, probe = self.wires["pulse_probe"]
        if out != pin:
            raise RigError(f"this rig measures pulses of pin {out} only (wires.pulse_probe); the scenario asked for {pin}")
        board = fw.resolve("board")
        return [float(fw.call(board, "measure_pulse", probe, 100)) for _ in range(count)]

    def pulses_running(self, fw: Any, pin: int, window_s: float = 0.1) -> bool:
        from viamlite.fastpath.errors import FastPathError

        _, probe = self.wires["pulse_probe"]
        try:
            fw.call(fw.resolve("board"), "measure_pulse", probe, max(25, int(window_s * 1000)))
        except FastPathError as exc:
            if getattr(exc, "code", None) == S.Err.DEADLINE_EXCEEDED:
                return False
            raise
        return True

    def analog_levels_mv(self) -> list[int]:
        return [0, 5000]  # a digital output wired to the analog input gives its two levels

    def set_analog(self, fw: Any, millivolts: int) -> None:
        out, _ = self.wires["analog_source"]
        fw.call(fw.resolve("board"), "set_gpio", out, millivolts >= 2500)

    def set_input_level(self, fw: Any, high: bool) -> None:
        out, _ = self.wires["digital"]
        fw.call(fw.resolve("board"), "set_gpio", out, high)

    def turn_encoder(self, fw: Any, steps: int) -> None:
        (a_out, _), (b_out, _) = self.wires["encoder_drive"]
        board = fw.resolve("board")
        state = getattr(self, "_quad", 0)
        gray = ((0, 0), (1, 0), (1, 1), (0, 1))  # A leads B: counting up
        for _ in range(abs(steps)):
            state = (state + (1 if steps > 0 else -1)) % 4
            a, b = gray[state]
            fw.call(board, "set_gpio", a_out, bool(a))
            fw.call(board, "set_gpio", b_out, bool(b))
        self._quad = state

    def reset_board(self) -> None:
        if self.sim_rig is None:
            raise RigError("this rig cannot reset its board; press the reset button")
        self.sim_rig.reset_board()

    def close(self) -> dict[str, Any]:
        self.close_session()
        return self.sim_rig.close() if self.sim_rig else {}


def _analog_channel(pin: int) -> int:
    return pin - 14 if pin >= 14 else pin


def open_rig(rigfile: RigFile, baud: int | None = None) -> Rig:
    """Start (sim) or open (serial) the rig for firmware at ``baud``."""
    baud = baud or rigfile["baud"]
    if rigfile.kind == "sim":
        return SimRig(rigfile, baud)
    return SerialRig(rigfile, baud)
