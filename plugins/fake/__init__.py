"""The bundled ``fake`` plugin: model ``rdk:builtin:fake`` (short form ``fake``) of every component API.

Each fake lives in the module named for its API (``viamlite_plugins.fake.servo`` holds
``FakeServo``) and is imported only when a machine validates or builds one, so importing
this package costs little. Every fake:

* behaves plausibly and is thread-safe (one lock per fake);
* records what it was asked to do (:class:`viamlite.testing.recording.Recorder`), so tests can
  ``assert_events(...)``; reads are not recorded, commands are;
* applies a changed config in place (``reconfigure``) and reports its state in
  ``get_status()``;
* raises :class:`~viamlite.errors.ResourceClosedError` from every method once closed
  (``get_status`` and the recorded events stay readable).

A fake can also be built directly, without a machine: ``FakeServo("servo1",
{"max_angle_deg": 90})``. Attributes each fake accepts are listed in its class docstring.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from viamlite.machine import operations
from viamlite.attributes import Attributes, thaw
from viamlite.driver import Configured, attributes_of
from viamlite.errors import AbortedError, CancelledError, InvalidArgumentError
from viamlite.hookspecs import hookimpl
from viamlite.names import API, Model
from viamlite.testing.recording import Recorder
from viamlite.resource import Resource

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import ResourceConfig
    from viamlite.names import ResourceName
    from viamlite.registry import ModelRegistry

MODEL = Model.parse("rdk:builtin:fake")

#: API subtype -> class name of its fake, in the module of the same name as the subtype.
FAKES: dict[str, str] = {
    "base": "FakeBase",
    "board": "FakeBoard",
    "button": "FakeButton",
    "camera": "FakeCamera",
    "encoder": "FakeEncoder",
    "generic": "FakeGeneric",
    "gripper": "FakeGripper",
    "motor": "FakeMotor",
    "movement_sensor": "FakeMovementSensor",
    "power_sensor": "FakePowerSensor",
    "sensor": "FakeSensor",
    "servo": "FakeServo",
    "switch": "FakeSwitch",
}

#: Longest single wait of a blocking move (go_for, move_straight, spin), in seconds:
#: a stop or a cancel ends the move within about this long.
STEP_S = 0.01

#: Why a blocking move ended early, as its call's AbortedError says.
STOPPED = "stopped by a Stop"
SUPERSEDED = "superseded by a new command"


@hookimpl
def viamlite_register_models(registry: "ModelRegistry") -> None:
    """Register ``rdk:builtin:fake`` for each of the component APIs in :data:`FAKES`."""
    registry.register_lazy_models(__name__, [(API.component(subtype), MODEL, f"{subtype}:{cls}", f"fake_{subtype}")
                                             for subtype, cls in FAKES.items()])


# -- argument checks -----------------------------------------------------------------


def finite(value: Any, what: str) -> float:
    """``value`` as a float; InvalidArgumentError unless it is a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidArgumentError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def in_range(value: Any, low: float, high: float, what: str) -> float:
    """``value`` as a float; InvalidArgumentError naming the range when outside ``[low, high]``."""
    number = finite(value, what)
    if not low <= number <= high:
        raise InvalidArgumentError(f"{what} {value!r} is out of range; use {low:g} to {high:g}")
    return number


# -- the shared base -----------------------------------------------------------------


class FakeResource(Configured, Recorder):
    """What every fake shares: a lock, recording, attributes applied at build and on reconfigure.

    A subclass (which also subclasses its component interface) follows the driver contract
    (:class:`viamlite.driver.Configured`): it implements :meth:`settings`, which reads and
    checks every attribute without touching the fake (the registry's validator calls it),
    and :meth:`_configure`, which applies them, so a bad reconfigure leaves the fake as it was.
    """

    def __init__(self, name: str, attributes: Mapping[str, Any] | Attributes | None = None,
                 dependencies: Mapping["ResourceName", Resource] | None = None) -> None:
        Recorder.__init__(self)
        Resource.__init__(self, name)  # type: ignore[arg-type]
        self._lock = threading.RLock()
        self._run = 0  # bumped by every new command, so a blocking move sees it was superseded
        self._waiters: dict[int, _Waiter] = {}  # run -> the blocked call that follows it
        attrs = attributes_of(attributes)
        self._configure(self.settings(attrs), dependencies or {}, attrs)

    # -- config ------------------------------------------------------------------
    @classmethod
    def build(cls, name: str, attrs: Attributes, dependencies: Mapping["ResourceName", Resource]) -> "FakeResource":
        return cls(name, attrs, dependencies)

    def _configure(self, settings: dict[str, Any], dependencies: Mapping["ResourceName", Resource],
                   attrs: Attributes) -> None:
        """Apply checked ``settings``; ``attrs`` only to name an attribute in an error."""

    def reconfigure(self, config: "ResourceConfig", dependencies: Mapping["ResourceName", Resource]) -> None:
        """Apply the new attributes in place (every fake can)."""
        self._check_open()  # type: ignore[attr-defined]
        attrs = Attributes.of(config)
        self._configure(self.settings(attrs), dependencies, attrs)
        self.record("reconfigure", attributes=thaw(config.attributes))

    # -- recording ---------------------------------------------------------------
    def _record(self, method: str, extra: Mapping[str, Any] | None = None, **args: Any) -> None:
        """Record ``method`` with ``args``, and ``extra`` when the caller sent one."""
        if extra:
            args["extra"] = dict(extra)
        self.record(method, **args)

    # -- blocking moves ----------------------------------------------------------
    def _time_left(self, now: float) -> float:
        """Seconds until the current move ends (settling the state when it has); locked."""
        return 0.0

    def _halt(self) -> None:
        """Stop at once where the fake is now; locked."""

    def _wait_on(self, run: int, method: str, progress: Callable[[], str | None]) -> int:
        """Mark move ``run`` as one a call blocks on, in the locked block that started it,
        so how it ends is kept for that call. ``progress()`` (locked, called as another
        command takes over) says how far the move got (``after 2.5 of 10 revolutions``),
        or None when it had already arrived. Returns ``run``."""
        self._waiters[run] = _Waiter(method, progress)
        return run

    def _follow(self, run: int) -> None:
        """Block until move ``run`` ends, is superseded (stop, a new command) or is cancelled.

        Waits with :func:`viamlite.machine.operations.sleep` in steps of at most :data:`STEP_S`.
        A move that ends as planned returns. One that a stop or a new command ended (from
        another thread or caller) raises AbortedError saying which, and how far it got.
        On cancellation (or any exception, such as Ctrl-C at the REPL) the fake is stopped
        and the exception re-raised. A close ends the wait with ResourceClosedError.
        """
        try:
            while True:
                with self._lock:
                    self._check_open()  # type: ignore[attr-defined]
                    if self._run != run:
                        # Superseded. A session that expired cancels its operations before
                        # it stops what they moved: the call ends cancelled, not aborted.
                        op = operations.current()
                        if op is not None and op.is_cancelled():
                            raise CancelledError(f"{op.method} was cancelled")
                        waiter = self._waiters.get(run)
                        if waiter is None or waiter.why is None:
                            return  # arrived just before the next command
                        raise AbortedError(f"{self.API.subtype} {self.name!r}: {waiter.method} was "  # type: ignore[attr-defined]
                                           f"{waiter.why} {waiter.got}")
                    left = self._time_left(time.monotonic())
                if left <= 0:
                    return
                operations.sleep(min(STEP_S, left))
        except BaseException as exc:
            with self._lock:
                if self._run == run:
                    self._halt()
                    self._new_run()
            if isinstance(exc, CancelledError):
                self.record("cancelled")
            elif isinstance(exc, AbortedError):
                self.record("aborted", reason=str(exc))
            raise
        finally:
            with self._lock:
                self._waiters.pop(run, None)

    def _new_run(self, why: str = SUPERSEDED) -> int:
        """Supersede any blocking move in progress (``why``: :data:`SUPERSEDED`, or
        :data:`STOPPED` from ``stop()``); the returned id names the new one. Locked."""
        waiter = self._waiters.get(self._run)
        if waiter is not None and waiter.why is None and not waiter.arrived:
            got = waiter.progress()
            if got is None:
                waiter.arrived = True
            else:
                waiter.why, waiter.got = why, got
        self._run += 1
        return self._run

    def _on_close(self) -> None:
        with self._lock:
            self._halt()
            self._new_run()

    def _unknown_command(self, command: Mapping[str, Any], supported: str) -> InvalidArgumentError:
        keys = ", ".join(sorted(map(str, command))) or "(empty)"
        return InvalidArgumentError(f"unknown command {keys}; this fake supports: {supported}")


class _Waiter:
    """A call blocked on a move; once another command ends the move, why and how far it
    got (or that it had arrived)."""

    __slots__ = ("method", "progress", "why", "got", "arrived")

    def __init__(self, method: str, progress: Callable[[], str | None]) -> None:
        self.method = method
        self.progress = progress
        self.why: str | None = None
        self.got = ""
        self.arrived = False
