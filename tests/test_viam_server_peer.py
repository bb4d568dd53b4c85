"""viam-server as a real peer, both directions of a remote part (docs seed 001): viamlite links a
viam-server (fake components, local config, no cloud; plaintext, and TLS with an API key) as a
remote part under a prefix, and viam-server links a viamlite machine as its remote. Calls,
frames, reachability while the other is killed, recovery, and the safety stops of sessions.

viam-server is built from rdk (``tools/build_peers.py``) and runs in a network namespace of its
own (tests/rdk_peers.py): this host reaches it at ``net.peer_ip``, and it reaches viamlite at
``net.host_ip``. Skipped when it is not built here or the namespace cannot be made; in CI
(``VIAMLITE_REQUIRE_TOOLCHAIN=1``) that is a failure instead.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from viamlite.gen import motor_pb2, servo_pb2
from viamlite.gen import robot_pb2 as pb

from . import rdk_peers
from .conftest import ServeProcess
from .peers import run_viam_sdk

viam = pytest.importorskip("viam", reason="the viam-sdk test dependency is not installed (pip install -e .[test])")

KEY_ID = "0f6c1f0e-6a55-4f7e-9a39-3f4b7f0c2d11"
KEY = "peer-link-key-0123456789abcdef"
FAST = {"reconnect_interval": "200ms", "connection_check_interval": "500ms"}
SERVO = {"name": "servo1", "api": "rdk:component:servo", "model": "fake",
         "frame": {"parent": "world", "translation": {"x": 10, "y": 0, "z": 0}}}
PLAIN_SERVO = {"name": "servo1", "api": "rdk:component:servo", "model": "fake"}
MOTOR = {"name": "motor1", "api": "rdk:component:motor", "model": "fake"}
SENSOR = {"name": "sensor1", "api": "rdk:component:sensor", "model": "fake"}

# A client script that moves a motor through a machine and then stays, heartbeating its session,
# until the test kills it.
MOVER = """
import asyncio, sys
from viam.components.motor import Motor
from viam.robot.client import RobotClient
from viam.rpc.dial import DialOptions

async def main():
    opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True))
    robot = await RobotClient.at_address(sys.argv[1], opts)
    await Motor.from_robot(robot, sys.argv[2]).set_power(0.5)
    print("moved", flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


# -- fixtures and helpers -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def net() -> Iterator[rdk_peers.PeerNetwork]:
    rdk_peers.require("viam-server")
    network = rdk_peers.PeerNetwork()
    yield network
    network.close()


class Peers:
    """Starts viam-servers and viamlite machines for one test, and stops them all after it."""

    def __init__(self, net: rdk_peers.PeerNetwork, tmp_path: Path) -> None:
        self.net, self.tmp_path = net, tmp_path
        self.servers: list[rdk_peers.ViamServer] = []
        self.machines: list[ServeProcess] = []
        self.scripts: list[subprocess.Popen] = []

    def viam_server(self, name: str, config: dict[str, Any], **kwargs: Any) -> rdk_peers.ViamServer:
        server = rdk_peers.ViamServer(self.net, config, self.tmp_path, name=name, **kwargs)
        self.servers.append(server)
        return server.start()

    def viamlite(self, name: str, config: dict[str, Any], *, on_link: bool = False, port: int = 0,
                 env: dict[str, str] | None = None) -> ServeProcess:
        """``viamlite serve``; ``on_link``: bound on the host end of the link, where viam-server
        reaches it (``address`` is then that address)."""
        path = self.tmp_path / f"{name}.json"
        path.write_text(json.dumps(config))
        host = self.net.host_ip if on_link else "127.0.0.1"
        proc = ServeProcess(["--bind", f"{host}:{port}", "--config", str(path), "--fastpath", "127.0.0.1:0"],
                            env=env)
        proc.address = f"{host}:{proc.port}"
        self.machines.append(proc)
        return proc

    def mover(self, address: str, motor: str) -> subprocess.Popen:
        script = subprocess.Popen([sys.executable, "-c", MOVER, address, motor], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.scripts.append(script)
        assert script.stdout is not None
        line = script.stdout.readline().strip()
        if line != "moved":
            script.kill()
            raise AssertionError(f"the client script did not move {motor}: {script.stderr.read() if script.stderr else ''}")
        return script

    def close(self) -> None:
        for script in self.scripts:
            if script.poll() is None:
                script.kill()
            script.wait(10)
        for proc in self.machines:  # before the servers: nothing dials into a namespace that is gone
            proc.stop()
        for server in self.servers:
            server.stop()


@pytest.fixture
def peers(net: rdk_peers.PeerNetwork, tmp_path: Path) -> Iterator[Peers]:
    started = Peers(net, tmp_path)
    yield started
    started.close()


def unary(address: str, path: str, request: Any, response_class: Any, timeout: float = 5.0,
          metadata: Any = None) -> Any:
    with grpc.insecure_channel(address) as channel:
        return channel.unary_unary(path, request_serializer=type(request).SerializeToString,
                                   response_deserializer=response_class.FromString)(request, timeout=timeout,
                                                                                    metadata=metadata)


def listing(address: str) -> list[tuple[str, tuple[str, ...]]]:
    response = unary(address, "/viam.robot.v1.RobotService/ResourceNames", pb.ResourceNamesRequest(),
                     pb.ResourceNamesResponse)
    return sorted((r.name, tuple(r.remote_path)) for r in response.resources if r.type == "component")


def names(address: str) -> list[str]:
    return [name for name, _ in listing(address)]


def statuses(address: str) -> dict[str, Any]:
    response = unary(address, "/viam.robot.v1.RobotService/GetMachineStatus", pb.GetMachineStatusRequest(),
                     pb.GetMachineStatusResponse)
    return {r.name.name: r for r in response.resources}


def position(address: str, name: str, timeout: float = 5.0) -> int:
    return unary(address, "/viam.component.servo.v1.ServoService/GetPosition", servo_pb2.GetPositionRequest(name=name),
                 servo_pb2.GetPositionResponse, timeout).position_deg


def move(address: str, name: str, angle: int) -> None:
    unary(address, "/viam.component.servo.v1.ServoService/Move", servo_pb2.MoveRequest(name=name, angle_deg=angle),
          servo_pb2.MoveResponse)


def powered(address: str, name: str = "motor1") -> bool:
    return unary(address, "/viam.component.motor.v1.MotorService/IsPowered", motor_pb2.IsPoweredRequest(name=name),
                 motor_pb2.IsPoweredResponse).is_on


def frames(address: str) -> dict[str, tuple[str, tuple[float, float, float]]]:
    response = unary(address, "/viam.robot.v1.RobotService/FrameSystemConfig", pb.FrameSystemConfigRequest(),
                     pb.FrameSystemConfigResponse)
    out = {}
    for item in response.frame_system_configs:
        pose = item.frame.pose_in_observer_frame
        out[item.frame.reference_frame] = (pose.reference_frame, (pose.pose.x, pose.pose.y, pose.pose.z))
    return out


def pose_in_world(address: str, name: str) -> tuple[float, float, float]:
    response = unary(address, "/viam.robot.v1.RobotService/GetPose",
                     pb.GetPoseRequest(component_name=name, destination_frame="world"), pb.GetPoseResponse)
    pose = response.pose.pose
    return (round(pose.x, 6), round(pose.y, 6), round(pose.z, 6))


def wait_for(what: str, condition: Callable[[], Any], timeout: float = 15.0) -> float:
    """Poll ``condition`` until it is true; the seconds it took."""
    t0 = time.monotonic()
    last: Any = None
    while time.monotonic() - t0 < timeout:
        try:
            if condition():
                return time.monotonic() - t0
        except grpc.RpcError as err:
            last = f"{err.code().name}: {err.details()}"  # type: ignore[attr-defined]
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s (last error: {last})")


def sdk_drive(address: str, servo: str, angle: int) -> tuple[int, list[str]]:
    from viam.components.servo import Servo

    async def body(robot: Any) -> Any:
        await Servo.from_robot(robot, servo).move(angle)
        return await Servo.from_robot(robot, servo).get_position(), sorted(
            r.name for r in robot.resource_names if r.type == "component")

    return run_viam_sdk(address, body, reconnect=False)


# -- viamlite links viam-server ---------------------------------------------------------------------
def test_viamlite_links_viam_server_calls_frames_outage_and_recovery(peers: Peers) -> None:
    server = peers.viam_server("vs", {"components": [SERVO, MOTOR, SENSOR]})
    remote = {"name": "vs", "address": server.address, "prefix": "vs-",
              "frame": {"parent": "world", "translation": {"x": 500, "y": 0, "z": 0}}, **FAST}
    a = peers.viamlite("a", {"components": [PLAIN_SERVO], "remotes": [remote]})
    wait_for("viam-server's resources listed on viamlite", lambda: "vs-servo1" in names(a.address))
    assert listing(a.address) == [("servo1", ()), ("vs-motor1", ("vs",)), ("vs-sensor1", ("vs",)),
                                  ("vs-servo1", ("vs",))]

    moved, listed = sdk_drive(a.address, "vs-servo1", 33)
    assert moved == 33 and listed == ["servo1", "vs-motor1", "vs-sensor1", "vs-servo1"]
    assert position(server.address, "servo1") == 33, "the move reached viam-server's servo1"
    assert position(a.address, "servo1") == 0, "viamlite's own servo1 did not move"

    # Frames: the remote's world is placed by the remote's frame block; its frames come prefixed.
    fs = frames(a.address)
    assert fs["vs_world"] == ("world", (500.0, 0.0, 0.0))
    assert fs["vs-servo1"] == ("vs_world", (10.0, 0.0, 0.0))
    assert pose_in_world(a.address, "vs-servo1") == (510.0, 0.0, 0.0)

    # viam-server killed: its resources stay listed, marked disconnected; calls fail UNAVAILABLE at once.
    server.kill()
    wait_for("viam-server marked disconnected", lambda: statuses(a.address)["vs-servo1"].reachability
             == pb.ResourceStatus.REACHABILITY_REMOTE_DISCONNECTED)
    assert names(a.address) == ["servo1", "vs-motor1", "vs-sensor1", "vs-servo1"]
    with pytest.raises(grpc.RpcError) as info:
        position(a.address, "vs-servo1")
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE and server.address in info.value.details()
    move(a.address, "servo1", 5)
    assert position(a.address, "servo1") == 5, "viamlite's own resources go on while the remote is down"

    # viam-server back on the same port: viamlite reconnects by itself.
    t0 = time.monotonic()
    server.start()
    took = wait_for("calls through viamlite succeed again", lambda: position(a.address, "vs-servo1", timeout=1) == 0)
    print(f"\nviam-server restarted: calls through viamlite succeeded {time.monotonic() - t0:.2f} s after the "
          f"restart began ({took:.2f} s of polling)")
    assert statuses(a.address)["vs-servo1"].reachability == pb.ResourceStatus.REACHABILITY_REACHABLE


def test_viamlite_links_viam_server_over_tls_with_an_api_key(peers: Peers, tmp_path: Path) -> None:
    cert, key = rdk_peers.make_certificate(tmp_path, [peers.net.peer_ip], "vs-tls")
    auth = {"handlers": [{"type": "api-key", "config": {"keys": [KEY_ID], KEY_ID: KEY}}]}
    server = peers.viam_server("vs", {"components": [SERVO], "auth": auth}, tls=(cert, key))

    def creds(secret: str) -> dict[str, Any]:
        return {"entity": KEY_ID, "credentials": {"type": "api-key", "payload": secret}}

    # The certificate is this test's own root, as a remote host's would be signed by a known CA.
    a = peers.viamlite("a", {"remotes": [
        {"name": "vs", "address": server.address, "prefix": "vs-", "auth": creds(KEY), **FAST},
        {"name": "wrong", "address": server.address, "prefix": "w-", "auth": creds("not-the-key"), **FAST}]},
        env={"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": str(cert)})
    wait_for("viam-server's resources listed through TLS with a key", lambda: "vs-servo1" in names(a.address))
    move(a.address, "vs-servo1", 21)
    assert position(a.address, "vs-servo1") == 21
    assert not any(n.startswith("w-") for n in names(a.address)), "a wrong key links nothing"
    roots = grpc.ssl_channel_credentials(cert.read_bytes())
    with grpc.secure_channel(server.address, roots) as channel, pytest.raises(grpc.RpcError) as info:
        channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames")(b"", timeout=5)  # no token: refused
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    _, _, err = a.stop()
    assert "not-the-key" not in err and KEY not in err


# -- viam-server links viamlite ---------------------------------------------------------------------
def test_viam_server_links_viamlite_calls_frames_outage_and_recovery(peers: Peers) -> None:
    b = peers.viamlite("b", {"components": [{**SERVO, "frame": {"parent": "world", "translation":
                                                                {"x": 0, "y": 7, "z": 0}}}, MOTOR]}, on_link=True)
    remote = {"name": "lite", "address": b.address, "prefix": "lite-",
              "frame": {"parent": "world", "translation": {"x": 0, "y": 0, "z": 300}}, **FAST}
    server = peers.viam_server("vs", {"components": [SERVO], "remotes": [remote]})
    wait_for("viamlite's resources listed on viam-server", lambda: "lite-servo1" in names(server.address))
    assert names(server.address) == ["lite-motor1", "lite-servo1", "servo1"]

    moved, listed = sdk_drive(server.address, "lite-servo1", 44)
    assert moved == 44 and listed == ["lite-motor1", "lite-servo1", "servo1"]
    assert position(b.address, "servo1") == 44, "the move reached viamlite's servo1"
    assert position(server.address, "servo1") == 0

    fs = frames(server.address)
    assert fs["lite_world"] == ("world", (0.0, 0.0, 300.0))
    assert fs["lite-servo1"] == ("lite_world", (0.0, 7.0, 0.0))
    assert pose_in_world(server.address, "lite-servo1") == (0.0, 7.0, 300.0)

    # viamlite killed: viam-server's calls to it fail; its own servo goes on.
    b.proc.send_signal(signal.SIGKILL)
    b.proc.wait(10)
    wait_for("viam-server sees viamlite gone", lambda: _fails(lambda: position(server.address, "lite-servo1", 2)))
    move(server.address, "servo1", 9)
    assert position(server.address, "servo1") == 9

    # viamlite back on the same address: viam-server reconnects by itself.
    t0 = time.monotonic()
    peers.viamlite("b2", {"components": [PLAIN_SERVO, MOTOR]}, on_link=True, port=b.port)
    took = wait_for("calls through viam-server succeed again",
                    lambda: position(server.address, "lite-servo1", timeout=2) == 0, timeout=30)
    print(f"\nviamlite restarted: calls through viam-server succeeded {time.monotonic() - t0:.2f} s after the "
          f"restart began ({took:.2f} s of polling)")


def test_viam_server_links_viamlite_over_tls_with_an_api_key(peers: Peers, tmp_path: Path) -> None:
    cert, key = rdk_peers.make_certificate(tmp_path, [peers.net.host_ip], "lite-tls")
    auth = {"handlers": [{"type": "api-key", "config": {"keys": [KEY_ID], KEY_ID: KEY}}]}
    b = peers.viamlite("b", {"components": [PLAIN_SERVO], "auth": auth,
                             "network": {"tls_cert_file": str(cert), "tls_key_file": str(key)}}, on_link=True)
    creds = {"entity": KEY_ID, "credentials": {"type": "api-key", "payload": KEY}}
    # viam-server trusts the certificate as a root (SSL_CERT_FILE), as a remote's CA would be.
    server = peers.viam_server("vs", {"remotes": [{"name": "lite", "address": b.address, "prefix": "lite-",
                                                   "auth": creds, **FAST}]}, env={"SSL_CERT_FILE": str(cert)})
    wait_for("viamlite's servo listed on viam-server through TLS with a key",
             lambda: "lite-servo1" in names(server.address))
    move(server.address, "lite-servo1", 17)
    roots = grpc.ssl_channel_credentials(cert.read_bytes())
    with grpc.secure_channel(b.address, roots) as channel, pytest.raises(grpc.RpcError) as info:
        # viamlite wants a token, as viam-server got one with the key
        channel.unary_unary("/viam.component.servo.v1.ServoService/GetPosition")(b"\n\x06servo1", timeout=5)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert position(server.address, "lite-servo1") == 17


def _fails(call: Callable[[], Any]) -> bool:
    try:
        call()
    except grpc.RpcError:
        return True
    return False


# -- sessions and safety stops --------------------------------------------------------------------
def test_a_session_on_viamlite_stops_a_viam_server_motor_when_its_client_dies(peers: Peers) -> None:
    server = peers.viam_server("vs", {"components": [MOTOR]})
    a = peers.viamlite("a", {"remotes": [{"name": "vs", "address": server.address, "prefix": "vs-", **FAST}],
                             "network": {"sessions": {"heartbeat_window": "800ms"}}})
    wait_for("viam-server's motor listed on viamlite", lambda: "vs-motor1" in names(a.address))
    script = peers.mover(a.address, "vs-motor1")
    assert powered(server.address), "the client's SetPower reached viam-server's motor"
    time.sleep(2.4)  # three windows: the client's heartbeats keep its session, and the motor runs
    assert powered(server.address)
    script.kill()
    killed = time.monotonic()
    wait_for("viam-server's motor stopped through viamlite", lambda: not powered(server.address), timeout=10)
    print(f"\nclient of viamlite killed: viam-server's motor stopped {time.monotonic() - killed:.2f} s later "
          f"(viamlite's heartbeat window 0.8 s)")


def test_a_session_on_viam_server_stops_a_viamlite_motor_when_its_client_dies(peers: Peers) -> None:
    b = peers.viamlite("b", {"components": [MOTOR]}, on_link=True)
    server = peers.viam_server("vs", {"remotes": [{"name": "lite", "address": b.address, "prefix": "lite-", **FAST}],
                                      "network": {"sessions": {"heartbeat_window": "1s"}}})
    wait_for("viamlite's motor listed on viam-server", lambda: "lite-motor1" in names(server.address))
    script = peers.mover(server.address, "lite-motor1")
    assert powered(b.address), "the client's SetPower reached viamlite's motor through viam-server"
    time.sleep(3)
    assert powered(b.address), "the client's heartbeats keep its session on viam-server"
    script.kill()
    killed = time.monotonic()
    wait_for("viamlite's motor stopped by viam-server", lambda: not powered(b.address), timeout=10)
    print(f"\nclient of viam-server killed: viamlite's motor stopped {time.monotonic() - killed:.2f} s later "
          f"(viam-server's heartbeat window 1 s)")


def test_viam_server_killed_its_session_on_viamlite_stops_the_motor_it_moved(peers: Peers) -> None:
    b = peers.viamlite("b", {"components": [MOTOR], "network": {"sessions": {"heartbeat_window": "800ms"}}},
                       on_link=True)
    server = peers.viam_server("vs", {"remotes": [{"name": "lite", "address": b.address, "prefix": "lite-", **FAST}]})
    wait_for("viamlite's motor listed on viam-server", lambda: "lite-motor1" in names(server.address))
    peers.mover(server.address, "lite-motor1")
    assert powered(b.address)
    sessions = unary(b.address, "/viam.robot.v1.RobotService/GetSessions", pb.GetSessionsRequest(),
                     pb.GetSessionsResponse).sessions
    assert sessions, "viam-server holds a session of its own on viamlite for the calls it forwards"
    time.sleep(2.4)
    assert powered(b.address), "viam-server's heartbeats keep its session on viamlite"
    server.kill()  # the machine in the middle dies; its client goes on heartbeating into nothing
    killed = time.monotonic()
    wait_for("viamlite's motor stopped when viam-server's session expired", lambda: not powered(b.address), timeout=10)
    print(f"\nviam-server killed: its session on viamlite expired and the motor stopped "
          f"{time.monotonic() - killed:.2f} s later (viamlite's heartbeat window 0.8 s)")
