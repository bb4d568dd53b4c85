"""Encoder proxy: ``viam.component.encoder.v1.EncoderService``."""
from __future__ import annotations

from viamlite.client.resources._base import RemoteResource
from viamlite.components.encoder import (
    Encoder,
    EncoderPosition,
    EncoderProperties,
    PositionType,
)
from viamlite.resource import Extra


class EncoderClient(RemoteResource, Encoder):
    SERVICE = "viam.component.encoder.v1.EncoderService"

    def get_position(self, position_type: int = PositionType.UNSPECIFIED, *, extra: Extra = None) -> EncoderPosition:
        fields = {"position_type": position_type} if position_type else {}
        response = self._call("GetPosition", extra=extra, **fields)
        return EncoderPosition(response.value, response.position_type)

    def reset_position(self, *, extra: Extra = None) -> None:
        self._call("ResetPosition", extra=extra)

    def get_properties(self, *, extra: Extra = None) -> EncoderProperties:
        response = self._call("GetProperties", extra=extra)
        return EncoderProperties(response.ticks_count_supported, response.angle_degrees_supported)
