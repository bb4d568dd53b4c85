"""The encoder API: a position in ticks or degrees."""
from __future__ import annotations

from abc import abstractmethod
from typing import NamedTuple

from viamlite.names import API
from viamlite.resource import Extra, Resource


class PositionType:
    UNSPECIFIED = 0
    TICKS_COUNT = 1
    ANGLE_DEGREES = 2


class EncoderPosition(NamedTuple):
    value: float
    position_type: int


class EncoderProperties(NamedTuple):
    ticks_count_supported: bool
    angle_degrees_supported: bool


class Encoder(Resource):
    API = API.component("encoder")

    @abstractmethod
    def get_position(self, position_type: int = PositionType.UNSPECIFIED, *, extra: Extra = None) -> EncoderPosition: ...

    @abstractmethod
    def reset_position(self, *, extra: Extra = None) -> None: ...

    @abstractmethod
    def get_properties(self, *, extra: Extra = None) -> EncoderProperties: ...
