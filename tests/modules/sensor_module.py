#!/usr/bin/env python3
"""A Viam module with one sensor model, written with the official viam-sdk as its
documentation shows (EasyResource, ``Module.run_from_registry``).

Attributes: ``value`` (a number, reported in the readings). ``do_command({"log": "text"})``
logs the text at warning level through the module's logger (RobotService.Log to the parent);
``{"print": "text"}`` writes it to standard output; ``{"exit": code}`` ends the process.
"""
import asyncio
import os
import sys
from typing import Any, Mapping, Optional, Sequence, Tuple

from viam.components.sensor import Sensor
from viam.module.module import Module
from viam.proto.app.robot import ComponentConfig
from viam.resource.base import ResourceBase
from viam.resource.easy_resource import EasyResource
from viam.resource.types import ResourceName
from viam.utils import SensorReading, ValueTypes, struct_to_dict


class CounterSensor(Sensor, EasyResource):
    MODEL = "viamlite-test:sensor:counter"

    @classmethod
    def validate_config(cls, config: ComponentConfig) -> Tuple[Sequence[str], Sequence[str]]:
        value = struct_to_dict(config.attributes).get("value", 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f'attribute "value" must be a number, got {value!r}')
        return [], []

    @classmethod
    def new(cls, config: ComponentConfig, dependencies: Mapping[ResourceName, ResourceBase]) -> "CounterSensor":
        sensor = cls(config.name)
        sensor.value = struct_to_dict(config.attributes).get("value", 0)
        sensor.calls = 0
        sensor.logger.info("built %s with value %s", config.name, sensor.value)
        return sensor

    async def get_readings(self, *, extra: Optional[Mapping[str, Any]] = None, timeout: Optional[float] = None,
                           **kwargs) -> Mapping[str, SensorReading]:
        self.calls += 1
        return {"value": self.value, "calls": self.calls, "pid": os.getpid()}

    async def do_command(self, command: Mapping[str, ValueTypes], *, timeout: Optional[float] = None,
                         **kwargs) -> Mapping[str, ValueTypes]:
        if "log" in command:
            self.logger.warning("%s", command["log"])
        if "print" in command:
            print(command["print"], flush=True)
        if "exit" in command:
            os._exit(int(command["exit"]))
        return {"echo": dict(command), "pid": os.getpid()}


if __name__ == "__main__":
    print(f"counter sensor module starting, pid {os.getpid()}", flush=True)
    print("counter sensor module: a line on stderr", file=sys.stderr, flush=True)
    asyncio.run(Module.run_from_registry())
