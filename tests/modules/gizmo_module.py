#!/usr/bin/env python3
"""A Viam module with its own API (acme:component:gizmo, proto in gizmo/gizmo.proto) and
one model of it, written with the official viam-sdk (EasyResource)."""
import asyncio
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Mapping, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "gizmo"))
import generate  # noqa: E402

generate.ensure()

from api import Gizmo  # noqa: E402
from viam.module.module import Module  # noqa: E402
from viam.resource.easy_resource import EasyResource  # noqa: E402
from viam.utils import ValueTypes  # noqa: E402


class MyGizmo(Gizmo, EasyResource):
    MODEL = "acme:demo:mygizmo"

    async def do_one(self, arg1: str, **kwargs) -> bool:
        return arg1 == "arg1"

    async def count_to(self, n: int) -> AsyncIterator[int]:  # type: ignore[override]
        for i in range(n):
            yield i

    async def do_command(self, command: Mapping[str, ValueTypes], *, timeout: Optional[float] = None,
                         **kwargs: Any) -> Mapping[str, ValueTypes]:
        return {"gizmo": dict(command)}


if __name__ == "__main__":
    asyncio.run(Module.run_from_registry())
