"""A viam-sdk server (viam.rpc.server.Server) with one fake servo, for comparison runs.

    python benchmarks/sdk_server.py PORT
"""
from __future__ import annotations

import asyncio
import sys
from typing import Any


def main(port: int) -> None:
    from viam.components.servo import Servo
    from viam.proto.common import Geometry
    from viam.rpc.server import Server

    class FakeServo(Servo):
        def __init__(self, name: str) -> None:
            super().__init__(name)
            self.angle = 0

        async def move(self, angle: int, **kwargs: Any) -> None:
            self.angle = angle

        async def get_position(self, **kwargs: Any) -> int:
            return self.angle

        async def stop(self, **kwargs: Any) -> None:
            pass

        async def is_moving(self) -> bool:
            return False

        async def get_geometries(self, **kwargs: Any) -> list[Geometry]:
            return []

    async def run() -> None:
        server = Server(resources=[FakeServo("servo1")])
        print(f"sdk server on 127.0.0.1:{port}", flush=True)
        await server.serve(host="127.0.0.1", port=port, log_level=40)

    asyncio.run(run())


if __name__ == "__main__":
    main(int(sys.argv[1]))
