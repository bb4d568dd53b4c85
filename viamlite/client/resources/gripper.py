"""Gripper proxy: ``viam.component.gripper.v1.GripperService``."""
from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import json_format

from viamlite.client.resources._base import RemoteResource
from viamlite.components.gripper import Gripper, HoldingStatus
from viamlite.resource import Extra


class GripperClient(RemoteResource, Gripper):
    SERVICE = "viam.component.gripper.v1.GripperService"

    def open(self, *, extra: Extra = None) -> None:
        self._call("Open", extra=extra)

    def grab(self, *, extra: Extra = None) -> bool:
        return self._call("Grab", extra=extra).success

    def is_holding_something(self, *, extra: Extra = None) -> HoldingStatus:
        response = self._call("IsHoldingSomething", extra=extra)
        return HoldingStatus(response.is_holding_something, json_format.MessageToDict(response.meta))

    def stop(self, *, extra: Extra = None) -> None:
        self._call("Stop", extra=extra)

    def is_moving(self) -> bool:
        return self._call("IsMoving").is_moving

    def get_current_inputs(self, *, extra: Extra = None) -> list[float]:
        return list(self._call("GetCurrentInputs", extra=extra).values)

    def go_to_inputs(self, values: Sequence[float], *, extra: Extra = None) -> None:
        self._call("GoToInputs", values=list(values), extra=extra)

    def get_kinematics(self, *, extra: Extra = None) -> tuple[int, bytes]:
        response = self._call("GetKinematics", extra=extra)
        return response.format, response.kinematics_data
