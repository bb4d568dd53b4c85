"""The sensor API: readings as a JSON-like dict."""
from __future__ import annotations

from abc import abstractmethod
from typing import Any

from viamlite.names import API
from viamlite.resource import Extra, Sensing


class Sensor(Sensing):
    API = API.component("sensor")

    @abstractmethod
    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        """Current readings, such as ``{"temperature_c": 21.5}``."""
