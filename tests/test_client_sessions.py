"""The client keeps a session like the Viam SDKs: a killed script's motor stops by itself."""
from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import grpc

from viamlite.gen import robot_pb2

from .test_sessions import is_moving, wait_for

SCRIPT = """
import sys, time
import viamlite
from viamlite.components.motor import Motor

machine = viamlite.connect(sys.argv[1])
Motor.from_robot(machine, "motor1").set_power(0.5)
print(machine.connection.sessions.id, flush=True)
time.sleep(120)
"""


def test_a_killed_client_script_has_its_motor_stopped_within_the_window(serve: Any) -> None:
    proc = serve({"components": [{"name": "motor1", "api": "rdk:component:motor", "model": "fake"}],
                  "network": {"sessions": {"heartbeat_window": "800ms"}}})
    script = subprocess.Popen([sys.executable, "-c", SCRIPT, proc.address], stdout=subprocess.PIPE, text=True)
    channel = grpc.insecure_channel(proc.address)
    try:
        assert script.stdout is not None
        sid = script.stdout.readline().strip()
        assert sid, "the client did not start a session for a motion call"
        sessions = channel.unary_unary("/viam.robot.v1.RobotService/GetSessions",
                                       request_serializer=robot_pb2.GetSessionsRequest.SerializeToString,
                                       response_deserializer=robot_pb2.GetSessionsResponse.FromString)
        time.sleep(2.4)  # three windows (wide enough for a busy host's late heartbeats): the client's heartbeats keep the session and the motor going
        assert [s.id for s in sessions(robot_pb2.GetSessionsRequest(), timeout=5).sessions] == [sid]
        assert is_moving(channel)
        script.kill()
        killed = time.monotonic()
        assert wait_for(lambda: not is_moving(channel), 5, step=0.002)
        print(f"\nviamlite client killed: motor stopped {(time.monotonic() - killed) * 1000:.0f} ms later "
              f"(heartbeat window 800 ms)")
        assert sessions(robot_pb2.GetSessionsRequest(), timeout=5).sessions == []
    finally:
        if script.poll() is None:
            script.kill()
        channel.close()


def test_a_client_without_motion_starts_no_session_and_sdk_servers_need_none(serve: Any) -> None:
    import viamlite
    from viamlite.components.servo import Servo

    proc = serve({"components": [{"name": "servo1", "api": "rdk:component:servo", "model": "fake"}]})
    machine = viamlite.connect(proc.address)
    try:
        servo = Servo.from_robot(machine, "servo1")
        servo.get_position()
        assert machine.connection.sessions.id == ""  # reads start no session
        servo.move(20)
        first = machine.connection.sessions.id
        assert first and machine.connection.sessions.window == 2.0
        servo.move(30)
        assert machine.connection.sessions.id == first and servo.get_position() == 30
    finally:
        machine.close()
