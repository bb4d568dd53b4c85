"""Edge events of one GPIO line from the kernel, through libgpiod 2 (the ``gpiod`` package).

Blinka has no edge events of its own; on Linux boards its pins are lines of a gpiochip
(``pin.id`` is the line offset on ``/dev/gpiochip0``, or ``(chip, offset)``), which libgpiod
can watch for rising and falling edges with kernel timestamps.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from viamlite.errors import NotSupportedError

#: How often the watching thread looks whether it should stop, in seconds.
WAIT_S = 0.1


def line_of(pin: Any) -> tuple[str, int]:
    """The gpiochip path and line offset of a Blinka pin; NotSupportedError when it is not a chip line."""
    pin_id = getattr(pin, "id", None)
    chip: Any = 0
    if isinstance(pin_id, tuple) and len(pin_id) == 2:
        chip, pin_id = pin_id
    if isinstance(pin_id, bool) or not isinstance(pin_id, int):
        raise NotSupportedError(f"pin {pin!r} is not a GPIO chip line, so it has no edge events; use mode poll")
    return (f"/dev/gpiochip{chip}" if isinstance(chip, int) else str(chip)), pin_id


class EdgeWatcher:
    """Calls ``on_edge(high, time_ns)`` for every edge of the pin's line, from its own thread.

    ``value`` reads the line's level; ``deinit`` stops watching and releases the line.
    """

    def __init__(self, pin: Any, pull: str, on_edge: Callable[[bool, int], None], name: str = "") -> None:
        try:
            import gpiod
            from gpiod.line import Bias, Clock, Edge, Value
        except ImportError as exc:
            raise NotSupportedError("edge interrupts need libgpiod's Python bindings: pip install gpiod "
                                    "(or use mode poll)") from exc
        self.chip, self.offset = line_of(pin)
        self._active = Value.ACTIVE
        self._rising = gpiod.EdgeEvent.Type.RISING_EDGE
        bias = {"none": Bias.AS_IS, "up": Bias.PULL_UP, "down": Bias.PULL_DOWN}[pull]
        settings = gpiod.LineSettings(edge_detection=Edge.BOTH, bias=bias, event_clock=Clock.REALTIME)
        try:
            self._request = gpiod.request_lines(self.chip, consumer="viamlite", config={self.offset: settings})
        except OSError as exc:
            raise NotSupportedError(f"cannot watch line {self.offset} of {self.chip} for edges: {exc}") from exc
        self._on_edge = on_edge
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"blinka-edges-{name or self.offset}", daemon=True)
        self._thread.start()

    @property
    def value(self) -> bool:
        return self._request.get_value(self.offset) == self._active

    def _run(self) -> None:
        wait = timedelta(seconds=WAIT_S)
        while not self._stop.is_set():
            if not self._request.wait_edge_events(wait):
                continue
            for event in self._request.read_edge_events():
                if event.line_offset == self.offset:
                    self._on_edge(event.event_type == self._rising, event.timestamp_ns)

    def deinit(self) -> None:
        """Stop watching and release the line. Idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._request.release()
