"""Send logs to a fleet as a member machine does: RobotService.Log with the part's secret."""
from __future__ import annotations

import datetime
from typing import Any


async def send_logs(process: Any, part_id: str, secret: str, lines: list[tuple[str, str]],
                    start: datetime.datetime, batch: int = 100) -> None:
    """``lines`` of (level, message), one microsecond apart from ``start``, in batches."""
    from grpclib.client import Channel
    from viam.gen.app.v1.robot_grpc import RobotServiceStub
    from viam.gen.app.v1.robot_pb2 import LogRequest
    from viam.gen.common.v1.common_pb2 import LogEntry
    from viam.gen.proto.rpc.v1.auth_grpc import AuthServiceStub
    from viam.gen.proto.rpc.v1.auth_pb2 import AuthenticateRequest, Credentials

    host, port = process.address.rsplit(":", 1)
    channel = Channel(host, int(port))
    try:
        token = (await AuthServiceStub(channel).Authenticate(AuthenticateRequest(
            entity=part_id, credentials=Credentials(type="robot-secret", payload=secret)))).access_token
        stub = RobotServiceStub(channel)
        entries = []
        for i, (level, message) in enumerate(lines):
            entry = LogEntry(host="test-host", level=level, logger_name="rdk.test", message=message)
            entry.time.FromDatetime(start + datetime.timedelta(microseconds=i))
            entry.caller.update({"File": "member.py", "Line": i, "Defined": True})
            entries.append(entry)
        for first in range(0, len(entries), batch):
            await stub.Log(LogRequest(id=part_id, logs=entries[first:first + batch]),
                           metadata={"authorization": f"Bearer {token}"})
    finally:
        channel.close()
