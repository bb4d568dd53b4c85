"""A viam-sdk server (``viam.rpc.server.Server``) used as a remote part in tests.

    python tests/sdk_remote.py PORT

Serves a servo ``servo1`` and a pose tracker ``tracker1`` (an API viamlite does not
serve itself, so calls to it through viamlite are relayed without any local adapter).
"""
from __future__ import annotations

import asyncio
import sys
from typing import Any


def main(port: int) -> None:
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
        server = Server(resources=[FakeServo("servo1"), FakeTracker("tracker1")])
        print(f"sdk server on 127.0.0.1:{port}", flush=True)
        await server.serve(host="127.0.0.1", port=port, log_level=40)

    asyncio.run(run())


if __name__ == "__main__":
    main(int(sys.argv[1]))
