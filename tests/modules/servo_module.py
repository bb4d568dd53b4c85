#!/usr/bin/env python3
"""A Viam module with one servo model, written with the official viam-sdk (EasyResource).

Attributes: ``start`` (the angle it starts at, 0-180 degrees).
"""
import asyncio
from typing import Any, Mapping, Optional, Sequence, Tuple

from viam.components.servo import Servo
from viam.module.module import Module
from viam.proto.app.robot import ComponentConfig
from viam.resource.base import ResourceBase
from viam.resource.easy_resource import EasyResource
from viam.resource.types import ResourceName
from viam.utils import struct_to_dict


class MemoryServo(Servo, EasyResource):
    MODEL = "viamlite-test:servo:memory"

    @classmethod
    def validate_config(cls, config: ComponentConfig) -> Tuple[Sequence[str], Sequence[str]]:
        start = struct_to_dict(config.attributes).get("start", 90)
        if not isinstance(start, (int, float)) or not 0 <= start <= 180:
            raise ValueError(f'attribute "start" must be an angle from 0 to 180, got {start!r}')
        return [], []

    @classmethod
    def new(cls, config: ComponentConfig, dependencies: Mapping[ResourceName, ResourceBase]) -> "MemoryServo":
        servo = cls(config.name)
        servo.angle = int(struct_to_dict(config.attributes).get("start", 90))
        return servo

    async def move(self, angle: int, *, extra: Optional[Mapping[str, Any]] = None, timeout: Optional[float] = None,
                   **kwargs) -> None:
        if not 0 <= angle <= 180:
            raise ValueError(f"angle {angle} is out of range 0-180")
        self.angle = angle

    async def get_position(self, *, extra: Optional[Mapping[str, Any]] = None, timeout: Optional[float] = None,
                           **kwargs) -> int:
        return self.angle

    async def is_moving(self) -> bool:
        return False

    async def stop(self, *, extra: Optional[Mapping[str, Any]] = None, timeout: Optional[float] = None,
                   **kwargs) -> None:
        pass


if __name__ == "__main__":
    asyncio.run(Module.run_from_registry())
