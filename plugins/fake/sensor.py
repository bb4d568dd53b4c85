"""The fake sensor: configured readings, or a slowly changing temperature and humidity."""
from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import FakeResource

from viamlite.attributes import Attributes, thaw
from viamlite.components.sensor import Sensor
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra

PERIOD_S = 60.0


class FakeSensor(FakeResource, Sensor):
    """A sensor whose readings are set, or simulated.

    Attributes: ``readings`` (optional object, returned as is by ``get_readings``).
    Without it the readings are ``temperature_c`` (21 ± 3, a sine with a 60 s period) and
    ``humidity_pct`` (45 ± 5, the matching cosine).

    ``do_command({"set_readings": {...}})`` replaces the readings;
    ``{"set_readings": None}`` goes back to the configured or simulated ones.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        return {"readings": attrs.mapping("readings", example='{"temperature_c": 21.5}')}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        readings = s["readings"]
        with self._lock:
            self._configured = thaw(readings) if readings is not None else None
            self._set: dict[str, Any] | None = getattr(self, "_set", None)
            self._t0: float = getattr(self, "_t0", time.monotonic())

    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        self._check_open()
        with self._lock:
            fixed = self._set if self._set is not None else self._configured
            if fixed is not None:
                return thaw(fixed)
            phase = 2 * math.pi * (time.monotonic() - self._t0) / PERIOD_S
        return {"temperature_c": round(21.0 + 3.0 * math.sin(phase), 3),
                "humidity_pct": round(45.0 + 5.0 * math.cos(phase), 3)}

    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """``{"set_readings": {...} | None}``; answers ``{"readings": <the readings now>}``."""
        self._check_open()
        if set(command) != {"set_readings"}:
            raise self._unknown_command(command, 'set_readings ({"set_readings": {"temperature_c": 30}})')
        value = command["set_readings"]
        if value is not None and not isinstance(value, Mapping):
            raise InvalidArgumentError(f"set_readings must be an object of readings or null, got {type(value).__name__}")
        self._record("do_command", command=thaw(command))
        with self._lock:
            self._set = thaw(value) if value is not None else None
        return {"readings": self.get_readings()}

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            source = "set" if self._set is not None else "configured" if self._configured is not None else "simulated"
        return {"readings_source": source}
