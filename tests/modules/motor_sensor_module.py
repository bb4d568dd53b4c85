#!/usr/bin/env python3
"""A Viam module whose sensor depends on a motor of the machine (attribute ``motor``): the
motor is reached through the parent's socket, as every module's dependencies are.

Written with the official viam-sdk (EasyResource); ``validate_config`` names the motor as
an implicit dependency.
"""
import asyncio
from typing import Any, Mapping, Optional, Sequence, Tuple

from viam.components.motor import Motor
from viam.components.sensor import Sensor
from viam.module.module import Module
from viam.proto.app.robot import ComponentConfig
from viam.resource.base import ResourceBase
from viam.resource.easy_resource import EasyResource
from viam.resource.types import ResourceName
from viam.utils import SensorReading, struct_to_dict


class MotorReader(Sensor, EasyResource):
    MODEL = "viamlite-test:sensor:motor-reader"

    @classmethod
    def validate_config(cls, config: ComponentConfig) -> Tuple[Sequence[str], Sequence[str]]:
        motor = struct_to_dict(config.attributes).get("motor")
        if not isinstance(motor, str) or not motor:
            raise ValueError('attribute "motor" (the name of a motor of the machine) is required')
        return [motor], []

    @classmethod
    def new(cls, config: ComponentConfig, dependencies: Mapping[ResourceName, ResourceBase]) -> "MotorReader":
        sensor = cls(config.name)
        sensor.motor = dependencies[Motor.get_resource_name(struct_to_dict(config.attributes)["motor"])]
        return sensor

    async def get_readings(self, *, extra: Optional[Mapping[str, Any]] = None, timeout: Optional[float] = None,
                           **kwargs) -> Mapping[str, SensorReading]:
        powered, power = await self.motor.is_powered()
        return {"motor": self.motor.name, "position": await self.motor.get_position(), "powered": powered,
                "power": power}


if __name__ == "__main__":
    asyncio.run(Module.run_from_registry())
