"""The in-process machine answers the machine-wide calls as the client does, so scripts and
the REPL run the same against a local machine and a remote one."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from viamlite.spatial import Pose, Vector3


@pytest.fixture
def both() -> Iterator[tuple[Any, Any]]:
    """The demo machine in-process, and a client of the same machine served over gRPC."""
    import viamlite
    from viamlite.machine import Machine
    from viamlite.cli.serve import demo_config
    from viamlite.adapters.serving import MachineServer

    machine = Machine(demo_config())
    server = MachineServer(machine)
    port = server.start("127.0.0.1:0")
    client = viamlite.connect(f"127.0.0.1:{port}")
    yield machine, client
    client.close()
    server.stop(0)
    machine.close()


def close(a: Pose, b: Pose) -> bool:
    return all(abs(x - y) < 1e-6 for x, y in zip((a.point.x, a.point.y, a.point.z), (b.point.x, b.point.y, b.point.z)))


def test_version_status_and_cloud_metadata_match(both: tuple[Any, Any]) -> None:
    machine, client = both
    assert machine.get_version() == client.get_version()
    local, remote = machine.get_machine_status(), client.get_machine_status()
    assert (local.state, local.revision) == (remote.state, remote.revision) == ("running", "1")
    assert sorted(local.resources, key=str) == sorted(remote.resources, key=str)
    assert len(local.resources) == 13
    assert machine.get_cloud_metadata() == client.get_cloud_metadata()


def test_frames_and_poses_match(both: tuple[Any, Any]) -> None:
    machine, client = both
    local, remote = machine.get_frame_system_config(), client.get_frame_system_config()
    assert [(f.name, f.parent) for f in local] == [(f.name, f.parent) for f in remote]
    assert all(close(a.pose, b.pose) for a, b in zip(local, remote))
    assert close(machine.get_pose("gripper1"), client.get_pose("gripper1"))
    start = Pose(Vector3(1, 2, 3))
    assert close(machine.transform_pose(start, "gripper1"), client.transform_pose(start, "gripper1"))
    assert machine.get_pose("gripper1", "servo1").point.z == pytest.approx(80)


def test_operations_are_listed_and_cancelled_in_process(both: tuple[Any, Any]) -> None:
    from viamlite.components.motor import Motor
    from viamlite.errors import CancelledError

    machine, client = both
    outcome: list[Any] = []

    def run() -> None:
        try:
            Motor.from_robot(client, "motor1").go_for(60, 100)
            outcome.append("finished")
        except CancelledError:
            outcome.append("cancelled")

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 5
    while not machine.get_operations() and time.monotonic() < deadline:
        time.sleep(0.01)
    (op,) = machine.get_operations()
    assert op.method.endswith("MotorService/GoFor") and op.arguments["revolutions"] == 100
    assert [o.id for o in client.get_operations()] == [op.id]
    with pytest.raises(TimeoutError):
        machine.block_for_operation(op.id, timeout=0.05)
    machine.cancel_operation(op.id)
    machine.block_for_operation(op.id, timeout=5)
    thread.join(5)
    assert outcome == ["cancelled"] and machine.get_operations() == []


def test_log_goes_to_the_client_log(both: tuple[Any, Any], caplog: pytest.LogCaptureFixture) -> None:
    machine, _ = both
    with caplog.at_level(logging.INFO, logger="viamlite.client_log"):
        machine.log("calibrated", level="warning", logger_name="rig")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.WARNING, "[rig] calibrated")]
