"""Viam modules written with the official viam-sdk, run by ``viamlite serve`` and driven by the
viam-sdk client: launch and handshake, a dependency read through the parent's socket, a custom
API called through ``viamlite machines part run``, a module killed and restarted, a config edit
reconfiguring a module's resource, logs under the module's name, and the parent's socket off
the network."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("viam")

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "tests" / "modules"


def launcher(tmp: Path, script: str) -> str:
    """An executable that runs a test module with this interpreter (the viam-sdk is installed here)."""
    path = tmp / f"{Path(script).stem}-launcher"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{MODULES / script}" "$@"\n')
    path.chmod(0o755)
    return str(path)


def machine_config(tmp: Path, value: float = 7) -> dict[str, Any]:
    return {
        "modules": [
            {"type": "local", "name": "counter", "executable_path": launcher(tmp, "sensor_module.py"),
             "env": {"COUNTER_TEST": "1"}},
            {"type": "local", "name": "servos", "executable_path": launcher(tmp, "servo_module.py")},
            {"type": "local", "name": "reader", "executable_path": launcher(tmp, "motor_sensor_module.py")},
            {"type": "local", "name": "gizmos", "executable_path": launcher(tmp, "gizmo_module.py")},
        ],
        "components": [
            {"name": "s1", "api": "rdk:component:sensor", "model": "viamlite-test:sensor:counter",
             "attributes": {"value": value}},
            {"name": "servo1", "api": "rdk:component:servo", "model": "viamlite-test:servo:memory",
             "attributes": {"start": 30}},
            {"name": "m1", "api": "rdk:component:motor", "model": "fake"},
            {"name": "r1", "api": "rdk:component:sensor", "model": "viamlite-test:sensor:motor-reader",
             "attributes": {"motor": "m1"}},
            {"name": "g1", "api": "acme:component:gizmo", "model": "acme:demo:mygizmo"},
        ],
    }


class Served:
    """``viamlite serve`` in a subprocess, its log lines collected."""

    def __init__(self, config_path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.config_path = config_path
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "viamlite.cli", "serve", "--config", str(config_path), "--bind", "127.0.0.1:0",
             "--no-fastpath", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, **(env or {})})
        self.port = 0
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 90
        while not self.port and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("viamlite serve ended early:\n" + "\n".join(self.lines))
            time.sleep(0.05)
        assert self.port, "viamlite serve did not start in 90 s:\n" + "\n".join(self.lines)
        self.address = f"127.0.0.1:{self.port}"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            match = re.match(r"viamlite serving .* on \S+:(\d+) ", line)
            if match:
                self.port = int(match.group(1))

    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for_log(self, pattern: str, timeout: float = 20.0, after: int = 0) -> str:
        """The first line matching ``pattern`` from line number ``after`` on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines)[after:]:
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no log line matched {pattern!r}:\n{self.log()[-6000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("modules")
    config_path = tmp / "machine.json"
    config_path.write_text(json.dumps(machine_config(tmp)))
    machine = Served(config_path, env={"VIAMLITE_HOME": str(tmp / "home")})
    yield machine
    machine.stop()
    assert machine.proc.returncode == 0, machine.log()[-4000:]


def sdk(address: str, work: Any) -> Any:
    """Run ``work(robot)`` with a viam-sdk RobotClient connected to ``address``."""
    from viam.robot.client import RobotClient
    from viam.rpc.dial import DialOptions

    async def main() -> Any:
        opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True))
        robot = await RobotClient.at_address(address, opts)
        try:
            return await work(robot)
        finally:
            await robot.close()

    return asyncio.run(main())


def robot_call(address: str, method: str, request: Any, response_class: Any) -> Any:
    import grpc

    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(f"/viam.robot.v1.RobotService/{method}",
                                   request_serializer=type(request).SerializeToString,
                                   response_deserializer=response_class.FromString)
        return call(request, timeout=30)


def readings(address: str, name: str) -> dict[str, Any]:
    from viam.components.sensor import Sensor

    async def work(robot: Any) -> Any:
        return await Sensor.from_robot(robot, name).get_readings()

    return sdk(address, work)


def wait_until(check: Any, timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # the condition is not there yet
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{what or 'condition'} not met in {timeout} s (last error: {last!r})")


def test_viam_sdk_client_drives_the_modules_resources(served: Served) -> None:
    from viam.components.sensor import Sensor
    from viam.components.servo import Servo

    async def work(robot: Any) -> Any:
        names = {(n.subtype, n.name) for n in robot.resource_names}
        sensor = await Sensor.from_robot(robot, "s1").get_readings()
        servo = Servo.from_robot(robot, "servo1")
        start = await servo.get_position()
        await servo.move(120)
        command = await Sensor.from_robot(robot, "s1").do_command({"ping": 1})
        return names, sensor, start, await servo.get_position(), command

    names, sensor, start, moved, command = sdk(served.address, work)
    assert {("sensor", "s1"), ("servo", "servo1"), ("motor", "m1"), ("sensor", "r1"), ("gizmo", "g1")} <= names
    assert sensor["value"] == 7 and sensor["calls"] >= 1
    assert sensor["pid"] != os.getpid()  # it really is another process
    assert (start, moved) == (30, 120)
    assert command["echo"] == {"ping": 1}


def test_dependency_is_read_through_the_parent_socket(served: Served) -> None:
    from viam.components.motor import Motor
    from viam.components.sensor import Sensor

    async def work(robot: Any) -> Any:
        before = await Sensor.from_robot(robot, "r1").get_readings()
        await Motor.from_robot(robot, "m1").set_power(0.5)
        after = await Sensor.from_robot(robot, "r1").get_readings()
        await Motor.from_robot(robot, "m1").stop()
        return before, after

    before, after = sdk(served.address, work)
    assert before["motor"] == "m1" and before["powered"] is False
    assert after["powered"] is True and after["power"] == pytest.approx(0.5)


def test_custom_api_is_callable_through_machines_part_run(served: Served) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "viamlite.cli", "machines", "part", "run", "--address",
                               served.address, *args], cwd=ROOT, capture_output=True, text=True, timeout=60)

    one = run("--data", json.dumps({"name": "g1", "arg1": "arg1"}), "acme.component.gizmo.v1.GizmoService.DoOne")
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout) == {"ret1": True, "echo": "arg1"}
    count = run("--data", json.dumps({"name": "g1", "n": 3}), "acme.component.gizmo.v1.GizmoService.CountTo")
    assert count.returncode == 0, count.stderr
    assert [item.get("i", 0) for item in json_documents(count.stdout)] == [0, 1, 2], count.stdout
    missing = run("--data", json.dumps({"name": "nope", "arg1": "x"}), "acme.component.gizmo.v1.GizmoService.DoOne")
    assert missing.returncode != 0


def json_documents(text: str) -> list[Any]:
    """The JSON documents printed one after another in ``text``."""
    decoder, out, pos = json.JSONDecoder(), [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return out
        item, pos = decoder.raw_decode(text, pos)
        out.append(item)


def test_module_apis_and_models_are_reported(served: Served) -> None:
    from viamlite.gen import robot_pb2 as pb

    subtypes = robot_call(served.address, "ResourceRPCSubtypes", pb.ResourceRPCSubtypesRequest(),
                          pb.ResourceRPCSubtypesResponse)
    services = {(s.subtype.namespace, s.subtype.type, s.subtype.subtype): s.proto_service
                for s in subtypes.resource_rpc_subtypes}
    assert services[("acme", "component", "gizmo")] == "acme.component.gizmo.v1.GizmoService"
    assert services[("rdk", "component", "sensor")] == "viam.component.sensor.v1.SensorService"
    models = robot_call(served.address, "GetModelsFromModules", pb.GetModelsFromModulesRequest(),
                        pb.GetModelsFromModulesResponse)
    found = {(m.module_name, m.api, m.model, m.from_local_module) for m in models.models}
    assert ("counter", "rdk:component:sensor", "viamlite-test:sensor:counter", True) in found
    assert ("gizmos", "acme:component:gizmo", "acme:demo:mygizmo", True) in found
    status = robot_call(served.address, "GetMachineStatus", pb.GetMachineStatusRequest(), pb.GetMachineStatusResponse)
    modules = {m.module_name: m for m in status.modules}
    assert set(modules) == {"counter", "servos", "reader", "gizmos"}
    assert all(m.state == pb.ModuleStatus.STATE_READY for m in modules.values()), status.modules
    import viamlite

    with viamlite.connect(served.address) as client:  # viamlite's own client reads them too
        assert {(m.name, m.state) for m in client.get_machine_status().modules} == {
            ("counter", "ready"), ("servos", "ready"), ("reader", "ready"), ("gizmos", "ready")}


def test_logs_and_output_go_into_the_machine_log_under_the_module_name(served: Served) -> None:
    from viam.components.sensor import Sensor

    served.wait_for_log(r"viamlite\.module\.counter: \[stdout\] counter sensor module starting")
    served.wait_for_log(r"viamlite\.module\.counter: \[stderr\] counter sensor module: a line on stderr")

    async def work(robot: Any) -> Any:
        await Sensor.from_robot(robot, "s1").do_command({"log": "hello through RobotService.Log"})

    sdk(served.address, work)
    line = served.wait_for_log(r"hello through RobotService\.Log")
    assert "WARNING" in line and "viamlite.module.counter" in line and "rdk:component:sensor/s1" in line


def test_parent_socket_is_a_private_unix_socket_and_not_on_the_network(served: Served) -> None:
    line = served.wait_for_log(r"modules' parent socket: ")
    path = Path(line.split("modules' parent socket: ", 1)[1].split(" ", 1)[0])
    assert stat.S_ISSOCK(path.stat().st_mode)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    listening = tcp_listening_ports(served.proc.pid)
    assert listening == {served.port}, f"the machine listens on TCP ports {listening}, only {served.port} expected"


def tcp_listening_ports(pid: int) -> set[int]:
    """The TCP ports process ``pid`` listens on (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_killed_module_is_restarted_and_its_resources_come_back(served: Served) -> None:
    from viamlite.gen import robot_pb2 as pb

    pid = int(readings(served.address, "s1")["pid"])
    mark = len(served.lines)
    os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    served.wait_for_log(r"module 'counter' was killed by SIGKILL", after=mark)
    back = wait_until(lambda: readings(served.address, "s1"), timeout=30, what="s1 answering again")
    elapsed = time.monotonic() - t0
    restarted = served.wait_for_log(r"module 'counter' ready in", after=mark)
    assert int(back["pid"]) != pid and back["value"] == 7
    status = robot_call(served.address, "GetMachineStatus", pb.GetMachineStatusRequest(), pb.GetMachineStatusResponse)
    module = next(m for m in status.modules if m.module_name == "counter")
    assert module.state == pb.ModuleStatus.STATE_READY and module.consecutive_failures >= 1
    s1 = next(r for r in status.resources if r.name.name == "s1")
    assert s1.state == pb.ResourceStatus.STATE_READY, s1
    print(f"\nSIGKILL to s1 answering again: {elapsed:.2f} s ({restarted.split('viamlite.modules: ')[-1]})")


def test_restart_module_on_request(served: Served) -> None:
    from viam.components.servo import Servo

    from viamlite.gen import robot_pb2 as pb

    robot_call(served.address, "RestartModule", pb.RestartModuleRequest(module_name="servos"), pb.RestartModuleResponse)
    served.wait_for_log(r"restarting module 'servos' on request")

    async def work(robot: Any) -> Any:
        return await Servo.from_robot(robot, "servo1").get_position()

    assert sdk(served.address, work) == 30  # a new process: the servo was added again from its config
    import grpc

    with pytest.raises(grpc.RpcError) as info:
        robot_call(served.address, "RestartModule", pb.RestartModuleRequest(module_name="nope"),
                   pb.RestartModuleResponse)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def test_config_edit_reconfigures_a_module_resource(served: Served) -> None:
    config = json.loads(served.config_path.read_text())
    config["components"][0]["attributes"]["value"] = 9
    served.config_path.write_text(json.dumps(config))
    wait_until(lambda: readings(served.address, "s1")["value"] == 9, timeout=30, what="s1 reconfigured")
    served.wait_for_log(r"reconfigured rdk:component:sensor/s1")
    config["components"][0]["attributes"]["value"] = "not a number"
    served.config_path.write_text(json.dumps(config))
    line = served.wait_for_log(r"config change not applied")
    assert "components[0].attributes" in line and "module 'counter' refused" in line
    assert readings(served.address, "s1")["value"] == 9  # the running config stays
