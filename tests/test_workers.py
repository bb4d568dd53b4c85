"""Worker lanes: stuck quick calls spill over; machine control answers under any load."""
from __future__ import annotations

import threading
import time
from typing import Any

import grpc

from viamlite.gen import board_pb2, motor_pb2, robot_pb2
from viamlite.machine import Machine
from viamlite.adapters.serving import MachineServer
from viamlite.transport.workers import ElasticExecutor


def test_elastic_executor_spills_when_core_threads_are_stuck() -> None:
    pool = ElasticExecutor(1, 4, patience=0.01)
    started, release = threading.Event(), threading.Event()

    def stuck() -> str:
        started.set()
        release.wait(10)
        return "stuck"

    first = pool.submit(stuck)
    assert started.wait(5)
    time.sleep(0.05)  # longer than the patience: the only core thread counts as stuck
    quick = pool.submit(lambda: "quick")
    assert quick.result(timeout=5) == "quick"
    assert not first.done() and pool.spilled == 1
    release.set()
    assert first.result(timeout=5) == "stuck"
    time.sleep(0.05)
    assert pool.submit(lambda: 1).result(timeout=5) == 1 and pool.spilled == 1
    pool.shutdown()


def _serve(config: dict[str, Any], **kwargs: Any) -> tuple[Machine, MachineServer, grpc.Channel]:
    machine = Machine.from_config(config)
    server = MachineServer(machine, **kwargs)
    return machine, server, grpc.insecure_channel(f"127.0.0.1:{server.start('127.0.0.1:0')}")


def test_stop_all_answers_while_long_workers_are_all_busy() -> None:
    machine, server, channel = _serve({"components": [{"name": "b", "api": "rdk:component:board", "model": "fake"},
                                                      {"name": "m", "api": "rdk:component:motor", "model": "fake"}]},
                                      long_workers=3)
    ticks = channel.unary_stream("/viam.component.board.v1.BoardService/StreamTicks")
    streams = [ticks(board_pb2.StreamTicksRequest(name="b", pin_names=["p"]).SerializeToString(), timeout=30)
               for _ in range(3)]
    try:
        channel.unary_unary("/viam.component.motor.v1.MotorService/SetRPM")(
            motor_pb2.SetRPMRequest(name="m", rpm=10).SerializeToString(), timeout=5)
        deadline = time.monotonic() + 5
        while len(machine.operations.list()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(machine.operations.list()) == 3, "the three streams hold every long worker"
        channel.unary_unary("/viam.robot.v1.RobotService/StopAll")(b"", timeout=5)
        assert machine["m"].is_moving() is False
    finally:
        for stream in streams:
            stream.cancel()
        channel.close()
        server.stop(0)
        machine.close()


def test_a_caller_that_gives_up_ends_its_long_call() -> None:
    machine, server, channel = _serve({"components": [{"name": "m", "api": "rdk:component:motor", "model": "fake"}]})
    try:
        try:
            channel.unary_unary("/viam.component.motor.v1.MotorService/GoFor")(
                motor_pb2.GoForRequest(name="m", rpm=60, revolutions=100).SerializeToString(), timeout=0.5)
        except grpc.RpcError as exc:
            assert exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        deadline = time.monotonic() + 5
        while machine["m"].is_moving() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert machine["m"].is_moving() is False
        ops = robot_pb2.GetOperationsResponse.FromString(
            channel.unary_unary("/viam.robot.v1.RobotService/GetOperations")(b"", timeout=5)).operations
        assert not [op for op in ops if op.method.endswith("GoFor")]
    finally:
        channel.close()
        server.stop(0)
        machine.close()
