"""Blinka itself: importing it on first use, naming the board it detected, finding pins.

Nothing else in the plugin imports Blinka's modules (``board``, ``digitalio``, ...)
directly; they ask :func:`blinka` (or :func:`find_pin`) here, so a machine without any
Blinka model never imports Blinka, and every failure reads the same way: the board
Blinka saw, the pins it offers, and what to do.
"""
from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from viamlite.errors import InvalidArgumentError, ViamliteError

INSTALL_FIX = "install it with: pip install 'viamlite[blinka]' (or pip install adafruit-blinka)"
SIMULATED_FIX = ("run on a board Blinka supports (Raspberry Pi, Jetson, ...), or set BLINKA_OS_AGNOSTIC=1 "
                 "(and BLINKA_SKIP_DEPENDENCY_CHECK=1) for Blinka's simulated board")


class BlinkaUnavailableError(ViamliteError, RuntimeError):
    """Blinka is not installed, cannot identify the board, or finds no pins on it."""


class UnknownPinError(InvalidArgumentError):
    """The board Blinka detected has no pin of that name; the message lists the ones it has."""

    def __init__(self, pin: str, board_id: str, pins: list[str]) -> None:
        self.pin, self.board_id, self.pins = pin, board_id, pins
        offered = ", ".join(pins) if pins else "none"
        super().__init__(f"board {board_id} (as Blinka detected it) has no pin {pin!r}; its pins: {offered}")


@dataclass(frozen=True)
class Blinka:
    """Blinka's modules and what it detected, imported once per process."""

    board: ModuleType
    chip_pins: ModuleType | None
    board_id: str
    chip_id: str
    pin_type: type

    def module(self, name: str) -> ModuleType:
        """One of Blinka's CircuitPython modules (``digitalio``, ``pwmio``, ``analogio``, ``busio``)."""
        try:
            return importlib.import_module(name)
        except (ImportError, NotImplementedError, RuntimeError) as exc:
            raise BlinkaUnavailableError(f"Blinka has no {name} for board {self.board_id} (chip {self.chip_id}): "
                                         f"{str(exc).strip()}") from exc

    def board_pins(self) -> dict[str, Any]:
        """The board's own pin names (``D18``, ``GP15``, ...) and their pin objects."""
        return _pins_of(self.board, self.pin_type)

    def chip_pin_names(self) -> dict[str, Any]:
        """The chip's pin names (``GPIO18``, ...), accepted where the board has no such name."""
        return _pins_of(self.chip_pins, self.pin_type) if self.chip_pins is not None else {}

    def pin_names(self) -> list[str]:
        """Every pin name :func:`find_pin` accepts, board names first."""
        board = self.board_pins()
        chip = [name for name in self.chip_pin_names() if name not in board]
        return sorted(board) + sorted(chip)

    def describe(self) -> str:
        return f"board {self.board_id} (chip {self.chip_id})"


def _pins_of(module: ModuleType, pin_type: type) -> dict[str, Any]:
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and isinstance(value, pin_type)}


_lock = threading.Lock()
_loaded: Blinka | None = None


def blinka() -> Blinka:
    """Import Blinka (once) and check it detected a board with pins.

    Raises BlinkaUnavailableError naming the board and chip Blinka saw and the fix.
    """
    global _loaded
    with _lock:
        if _loaded is None:
            _loaded = _load()
        return _loaded


def _load() -> Blinka:
    try:
        import adafruit_blinka  # noqa: F401
    except ImportError as exc:
        raise BlinkaUnavailableError(f"adafruit-blinka is not installed ({exc}); {INSTALL_FIX}") from exc
    try:
        from adafruit_blinka.agnostic import board_id, chip_id
    except Exception as exc:
        raise BlinkaUnavailableError(f"Blinka could not start: {type(exc).__name__}: {str(exc).strip()}") from exc
    seen = f"board {board_id or 'unknown'} (chip {chip_id or 'unknown'})"
    try:
        board = importlib.import_module("board")
    except NotImplementedError as exc:
        raise BlinkaUnavailableError(f"Blinka could not identify this board: it saw {seen}; "
                                     f"fix: {SIMULATED_FIX}") from exc
    except Exception as exc:
        raise BlinkaUnavailableError(f"Blinka failed on {seen}: {type(exc).__name__}: "
                                     f"{' '.join(str(exc).split())}") from exc
    try:
        from microcontroller.pin import Pin as pin_type
        chip_pins: ModuleType | None = importlib.import_module("microcontroller.pin")
    except Exception as exc:
        raise BlinkaUnavailableError(f"Blinka has no pin support for {seen}: {type(exc).__name__}: {exc}") from exc
    found = Blinka(board, chip_pins, str(board_id), str(chip_id), pin_type)
    if not found.pin_names():
        raise BlinkaUnavailableError(f"Blinka detected {seen}, which has no pins it can drive; fix: {SIMULATED_FIX}")
    return found


def find_pin(name: str) -> Any:
    """The pin object called ``name`` on the board (board names first, then chip names)."""
    b = blinka()
    if isinstance(name, str) and name:
        pin = b.board_pins().get(name)
        if pin is None:
            pin = b.chip_pin_names().get(name)
        if pin is not None:
            return pin
    raise UnknownPinError(str(name), b.board_id, b.pin_names())


def check_pin(attrs: Any, key: str, name: str | None) -> None:
    """At config time: a ConfigError at ``key`` when Blinka runs here and lacks pin ``name``.

    When Blinka is missing or cannot identify the board, the check is left to build time,
    where the resource reports that (the config itself is not wrong).
    """
    if name is None:
        return
    try:
        find_pin(name)
    except UnknownPinError as exc:
        raise attrs.fail(key, str(exc), f"use one of the pins of board {exc.board_id}") from None
    except BlinkaUnavailableError:
        return
