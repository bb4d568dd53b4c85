"""Switch proxy: ``viam.component.switch.v1.SwitchService``."""
from __future__ import annotations

from viamlite.client.resources._base import RemoteResource
from viamlite.components.switch import Switch, SwitchPositions
from viamlite.resource import Extra


class SwitchClient(RemoteResource, Switch):
    SERVICE = "viam.component.switch.v1.SwitchService"

    def set_position(self, position: int, *, extra: Extra = None) -> None:
        self._call("SetPosition", position=position, extra=extra)

    def get_position(self, *, extra: Extra = None) -> int:
        return self._call("GetPosition", extra=extra).position

    def get_number_of_positions(self, *, extra: Extra = None) -> SwitchPositions:
        response = self._call("GetNumberOfPositions", extra=extra)
        return SwitchPositions(response.number_of_positions, list(response.labels))
