"""A viam-sdk server (``viam.rpc.server.Server``) with a fake servo ``servo1``: the peer for
comparison runs, and for tests of the client and of remote parts.

    python benchmarks/sdk_server.py PORT [--tracker] [--host HOST]

``--host`` is the address to listen on (default 127.0.0.1). ``--tracker`` adds a pose tracker ``tracker1``, an API viamlite does not serve itself (calls to
it through a viamlite machine are relayed without any local adapter).
"""
from __future__ import annotations

import asyncio
import sys
from typing import Any


def main(port: int, tracker: bool = False, host: str = "127.0.0.1") -> None:
    from viam.components.pose_tracker import PoseTracker
    from viam.components.servo import Servo
    from viam.proto.common import Geometry, Pose, PoseInFrame
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

    class FakeTracker(PoseTracker):
        async def get_poses(self, body_names: list[str] | None = None, **kwargs: Any) -> dict[str, PoseInFrame]:
            return {name: PoseInFrame(reference_frame="world", pose=Pose(x=float(len(name))))
                    for name in body_names or ["body"]}

        async def get_geometries(self, **kwargs: Any) -> list[Geometry]:
            return []

    async def run() -> None:
        resources: list[Any] = [FakeServo("servo1")]
        if tracker:
            resources.append(FakeTracker("tracker1"))
        server = Server(resources=resources)
        print(f"sdk server on {host}:{port}", flush=True)
        await server.serve(host=host, port=port, log_level=40)

    asyncio.run(run())


if __name__ == "__main__":
    rest = sys.argv[2:]
    main(int(sys.argv[1]), tracker="--tracker" in rest,
         host=rest[rest.index("--host") + 1] if "--host" in rest else "127.0.0.1")
