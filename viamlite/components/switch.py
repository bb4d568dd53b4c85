"""The switch API: a selector with a number of positions."""
from __future__ import annotations

from abc import abstractmethod
from typing import NamedTuple

from viamlite.names import API
from viamlite.resource import Extra, Resource


class SwitchPositions(NamedTuple):
    number_of_positions: int
    labels: list[str]


class Switch(Resource):
    API = API.component("switch")

    @abstractmethod
    def set_position(self, position: int, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def get_position(self, *, extra: Extra = None) -> int: ...

    @abstractmethod
    def get_number_of_positions(self, *, extra: Extra = None) -> SwitchPositions: ...
