"""The sensor contract: readings as a JSON-like dict."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from viamlite.components.sensor import Sensor
from viamlite.testing.contracts.common import Capabilities, Contract, is_json_like


@dataclass(frozen=True)
class SensorCapabilities(Capabilities):
    """``readings``: names every reading must include (empty: any, but at least one);
    ``json_only``: every value is plain JSON (False for a sensor reporting spatial values)."""

    readings: frozenset[str] = field(default_factory=frozenset)
    json_only: bool = True


class SensorContract(Contract):
    """What :class:`viamlite.components.sensor.Sensor` promises."""

    interface = Sensor
    capabilities = SensorCapabilities()

    def closed_calls(self, resource: Any, capabilities: Any) -> dict[str, Callable[[], Any]]:
        return {"get_readings": resource.get_readings}

    def test_get_readings_answers_named_readings(self, resource: Any, capabilities: SensorCapabilities) -> None:
        for _ in range(3):
            readings = resource.get_readings()
            assert isinstance(readings, dict) and readings, f"get_readings answered {readings!r}"
            assert all(isinstance(name, str) and name for name in readings), list(readings)
            missing = capabilities.readings - set(readings)
            assert not missing, f"get_readings lacks {sorted(missing)}: {readings}"
            if capabilities.json_only:
                assert is_json_like(readings), f"get_readings answered values JSON cannot carry: {readings}"

    def test_get_readings_takes_extra(self, resource: Any) -> None:
        assert isinstance(resource.get_readings(extra={"contract": True}), dict)
