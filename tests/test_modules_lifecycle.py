"""Module support in-process and its parts: the config entry, the module's argv and
environment, a module that fails to start, one removed from the config, TCP mode, implicit
dependencies, logs routed to their module, and the parent's socket with API keys on."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from viamlite.config import ModuleConfig, parse_config
from viamlite.errors import ConfigError

pytest.importorskip("viam")

from tests.test_modules import Served, launcher


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Modules' data folders go under the test's own VIAMLITE_HOME."""
    monkeypatch.setenv("VIAMLITE_HOME", str(tmp_path / "home"))


def test_module_entries_are_checked_and_errors_name_the_field(tmp_path: Path) -> None:
    exe = launcher(tmp_path, "sensor_module.py")
    config = parse_config({"modules": [{"name": "m", "executable_path": exe, "env": {"A": "b"}, "log_level": "DEBUG",
                                        "tcp_mode": True, "first_run_timeout": "2m"}]})
    (module,) = config.modules
    assert (module.type, module.executable_path, dict(module.env), module.log_level, module.tcp_mode,
            module.first_run_timeout) == ("local", exe, {"A": "b"}, "debug", True, 120.0)
    registry = parse_config({"modules": [{"type": "registry", "name": "r", "module_id": "acme:thing",
                                          "version": "1.2.3"}]}).modules[0]
    assert (registry.type, registry.module_id, registry.version) == ("registry", "acme:thing", "1.2.3")
    not_executable = tmp_path / "plain"
    not_executable.write_text("")
    bad = {
        "modules[0].name": {"name": "parent", "executable_path": exe},
        "modules[0].executable_path": {"name": "m", "executable_path": str(tmp_path / "missing")},
        "modules[0].module_id": {"type": "registry", "name": "m"},
        "modules[0].env.N": {"name": "m", "executable_path": exe, "env": {"N": 1}},
        "modules[0].log_level": {"name": "m", "executable_path": exe, "log_level": "loud"},
        "modules[0].type": {"name": "m", "type": "remote"},
        "modules[0].tcp_mode": {"name": "m", "executable_path": exe, "tcp_mode": "yes"},
        "modules[0].first_run_timeout": {"name": "m", "executable_path": exe, "first_run_timeout": "soon"},
    }
    for path, entry in bad.items():
        with pytest.raises(ConfigError) as info:
            parse_config({"modules": [entry]})
        assert info.value.path == path and info.value.fix, (path, str(info.value))
    with pytest.raises(ConfigError, match="cannot be executed") as info:
        parse_config({"modules": [{"name": "m", "executable_path": str(not_executable)}]})
    assert "chmod +x" in str(info.value)
    with pytest.raises(ConfigError, match="already used") as info:
        parse_config({"modules": [{"name": "m", "executable_path": exe}, {"name": "m", "executable_path": exe}]})
    assert info.value.path == "modules[1].name"
    with pytest.raises(ConfigError, match="not allowed"):
        parse_config({"modules": [{"name": "x" * 201, "executable_path": exe}]})


def test_relative_executable_paths_start_at_the_config_file(tmp_path: Path) -> None:
    launcher(tmp_path, "sensor_module.py")
    path = tmp_path / "machine.json"
    path.write_text(json.dumps({"modules": [{"name": "m", "executable_path": "sensor_module-launcher"}]}))
    from viamlite.config import load_config

    assert load_config(path).modules[0].executable_path == str(tmp_path / "sensor_module-launcher")


def test_argv_and_environment_follow_the_module_protocol(tmp_path: Path) -> None:
    from viamlite.modules.process import module_argv, module_environment

    exe = launcher(tmp_path, "sensor_module.py")
    config = ModuleConfig(name="m", executable_path=exe, env={"VIAM_HOME": "/override", "EXTRA": "1"},
                          log_level="warn")
    assert module_argv(config, exe, "/s/m-abcde.sock", debug=False) == [exe, "/s/m-abcde.sock", "--log-level=warning"]
    tcp = ModuleConfig(name="m", executable_path=exe, tcp_mode=True)
    assert module_argv(tcp, exe, "127.0.0.1:9", debug=True) == [exe, "127.0.0.1:9", "--log-level=debug", "--tcp-mode"]
    assert module_argv(tcp, exe, "127.0.0.1:9", debug=False) == [exe, "127.0.0.1:9", "--tcp-mode"]
    raw = {"cloud": {"id": "part-1", "primary_org_id": "org-1", "location_id": "loc-1", "machine_id": "mach-1",
                     "fqdn": "part.local"}}
    env = module_environment(config, "/s/m.sock", raw, ("key-id", "key"), home=tmp_path, base={"PATH": "/bin"})
    assert env["PATH"] == "/bin"
    assert env["VIAM_HOME"] == "/override" and env["EXTRA"] == "1"  # the module's own env wins
    assert env["VIAM_MODULE_DATA"] == str(tmp_path / "module-data" / "part-1" / "m")
    assert env["VIAM_MODULE_NAME"] == "m" and env["VIAM_MODULE_ROOT"] == str(tmp_path)
    assert (env["VIAM_PRIMARY_ORG_ID"], env["VIAM_LOCATION_ID"], env["VIAM_MACHINE_ID"], env["VIAM_MACHINE_PART_ID"],
            env["VIAM_MACHINE_FQDN"]) == ("org-1", "loc-1", "mach-1", "part-1", "part.local")
    assert (env["VIAM_API_KEY_ID"], env["VIAM_API_KEY"]) == ("key-id", "key")
    registry = ModuleConfig(name="r", type="registry", module_id="acme:r", executable_path=exe)
    env = module_environment(registry, "/s/r.sock", {}, None, home=tmp_path, base={})
    assert env["VIAM_MODULE_ID"] == "acme:r" and "VIAM_MODULE_ROOT" not in env and "VIAM_API_KEY" not in env
    assert env["VIAM_MODULE_DATA"] == str(tmp_path / "module-data" / "local" / "r")


def _machine(config: dict[str, Any]) -> Any:
    from viamlite.machine import Machine

    return Machine.from_config(config)


def test_a_module_that_fails_to_start_leaves_its_resources_unhealthy(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho 'cannot find my hardware' >&2\nexit 3\n")
    broken.chmod(0o755)
    config = {"modules": [{"name": "broken", "executable_path": str(broken)}],
              "components": [{"name": "b1", "api": "rdk:component:sensor", "model": "acme:sensor:broken"},
                             {"name": "m1", "api": "rdk:component:motor", "model": "fake"}]}
    with _machine(config) as machine:
        b1 = machine.entry("b1")
        assert b1 is not None and b1.state == "unhealthy"
        assert "module(s) 'broken' not running" in b1.error and "exited with code 3" in b1.error
        assert "cannot find my hardware" in b1.error
        assert machine.entry("m1").state == "ready"  # the rest of the machine runs
        (status,) = machine.get_machine_status().modules
        assert status.name == "broken" and status.state in ("unhealthy", "starting") and status.failures >= 1


def test_implicit_dependency_from_validate_config_and_module_removal(tmp_path: Path) -> None:
    reader = launcher(tmp_path, "motor_sensor_module.py")
    config = {"modules": [{"name": "reader", "executable_path": reader}],
              "components": [{"name": "r1", "api": "rdk:component:sensor", "model": "viamlite-test:sensor:motor-reader",
                              "attributes": {"motor": "m9"}}]}
    from viamlite.machine import Machine

    machine = Machine()
    try:
        with pytest.raises(ConfigError, match="'m9'") as info:
            machine.apply(parse_config(config))  # ValidateConfig named m9; the config has none
        assert info.value.path == "components[0].attributes"
        config["components"].append({"name": "m9", "api": "rdk:component:motor", "model": "fake"})
        machine.apply(parse_config(config))
        order = [e.config.name for e in machine.entries()]
        assert order.index("m9") < order.index("r1")  # built after what it needs
        from viamlite.components.sensor import Sensor

        assert Sensor.from_robot(machine, "r1").get_readings()["motor"] == "m9"
        process = machine.modules.modules["reader"].process
        pid = process.pid
        machine.apply(parse_config({"components": [{"name": "m9", "api": "rdk:component:motor", "model": "fake"}]}))
        assert machine.modules.modules == {} and machine.entry("r1") is None
        assert process.poll() is not None, f"module process {pid} still runs after it left the config"
    finally:
        machine.close()


def test_tcp_mode_module(tmp_path: Path) -> None:
    config = {"modules": [{"name": "counter", "executable_path": launcher(tmp_path, "sensor_module.py"),
                           "tcp_mode": True}],
              "components": [{"name": "s1", "api": "rdk:component:sensor", "model": "viamlite-test:sensor:counter",
                              "attributes": {"value": 4}}]}
    with _machine(config) as machine:
        from viamlite.components.sensor import Sensor

        module = machine.modules.modules["counter"]
        assert module.process.socket is None and module.process.address.startswith("127.0.0.1:")
        assert Sensor.from_robot(machine, "s1").get_readings()["value"] == 4


def test_log_entries_are_attributed_to_their_module(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = {"modules": [{"name": "counter", "executable_path": launcher(tmp_path, "sensor_module.py")},
                          {"name": "servos", "executable_path": launcher(tmp_path, "servo_module.py")}],
              "components": [{"name": "s1", "api": "rdk:component:sensor", "model": "viamlite-test:sensor:counter"},
                             {"name": "servo1", "api": "rdk:component:servo", "model": "viamlite-test:servo:memory"}]}
    from viamlite.gen import common_pb2

    with _machine(config) as machine:
        manager = machine.modules
        assert manager.module_of("rdk:component:servo/servo1") == "servos"
        assert manager.module_of("counter") == "counter"
        assert manager.module_of("some.library") == "unknown"  # two modules run: it cannot tell
        with caplog.at_level("INFO"):
            manager.log_entries([common_pb2.LogEntry(level="error", logger_name="rdk:component:sensor/s1",
                                                     message="x.py:3\tdisk full")])
        record = next(r for r in caplog.records if "disk full" in r.getMessage())
        assert record.name == "viamlite.module.counter" and record.levelname == "ERROR"


def test_parent_socket_needs_no_key_while_the_network_port_does(tmp_path: Path) -> None:
    import grpc

    from viamlite.gen import robot_pb2 as pb

    config = {"auth": {"handlers": [{"type": "api-key", "config": {"keys": ["key-id"], "key-id": "secret-key"}}]},
              "modules": [{"name": "reader", "executable_path": launcher(tmp_path, "motor_sensor_module.py")}],
              "components": [{"name": "m1", "api": "rdk:component:motor", "model": "fake"},
                             {"name": "r1", "api": "rdk:component:sensor",
                              "model": "viamlite-test:sensor:motor-reader", "attributes": {"motor": "m1"}}]}
    path = tmp_path / "machine.json"
    path.write_text(json.dumps(config))
    served = Served(path, "--no-tls", env={"VIAMLITE_HOME": str(tmp_path / "home")})
    try:
        served.wait_for_log(r"built rdk:component:sensor/r1")  # the module reached m1 through the parent, keyless
        with grpc.insecure_channel(served.address) as channel:
            call = channel.unary_unary("/viam.robot.v1.RobotService/ResourceNames",
                                       request_serializer=pb.ResourceNamesRequest.SerializeToString,
                                       response_deserializer=pb.ResourceNamesResponse.FromString)
            with pytest.raises(grpc.RpcError) as info:
                call(pb.ResourceNamesRequest(), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        from tests.test_modules import tcp_listening_ports

        assert tcp_listening_ports(served.proc.pid) == {served.port}
    finally:
        served.stop()


def test_a_module_that_never_opens_its_socket_times_out_and_stops(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    hung = tmp_path / "hung"
    hung.write_text("#!/bin/sh\nexec sleep 300\n")
    hung.chmod(0o755)
    monkeypatch.setenv("VIAM_MODULE_STARTUP_TIMEOUT", "1s")
    config = {"modules": [{"name": "hung", "executable_path": str(hung)}],
              "components": [{"name": "h1", "api": "rdk:component:sensor", "model": "acme:sensor:hung"}]}
    machine = _machine(config)
    try:
        h1 = machine.entry("h1")
        assert h1.state == "unhealthy" and "did not open its socket in time" in h1.error
    finally:
        t0 = time.monotonic()
        machine.close()
    assert time.monotonic() - t0 < 15  # a launch under way (the retry) ends with the machine


def test_a_registry_entry_runs_the_program_a_plugin_resolves(tmp_path: Path) -> None:
    from viamlite import hookimpl
    from viamlite.components.sensor import Sensor
    from viamlite.machine import Machine
    from viamlite.plugins import build_plugin_manager

    entrypoint = launcher(tmp_path, "sensor_module.py")
    asked: list[tuple[str, str]] = []

    class Packages:  # what a fleet's package cache answers, once the package is unpacked
        @hookimpl
        def viamlite_module_executable(self, config: ModuleConfig, machine: Any) -> str | None:
            asked.append((config.module_id, config.version))
            return entrypoint if config.module_id == "acme:counter" else None

    config = {"modules": [{"type": "registry", "name": "counter", "module_id": "acme:counter", "version": "1.0.0"}],
              "components": [{"name": "s1", "api": "rdk:component:sensor", "model": "viamlite-test:sensor:counter",
                              "attributes": {"value": 5}}]}
    with Machine.from_config(config, plugin_manager=build_plugin_manager(extra=[Packages()])) as machine:
        assert Sensor.from_robot(machine, "s1").get_readings()["value"] == 5
        assert asked == [("acme:counter", "1.0.0")]
        env = machine.modules.modules["counter"].process.env
        assert env["VIAM_MODULE_ID"] == "acme:counter" and "VIAM_MODULE_ROOT" not in env
    without = {**config, "modules": [{**config["modules"][0], "module_id": "acme:other"}]}
    with Machine.from_config(without) as machine:
        s1 = machine.entry("s1")
        assert s1.state == "unhealthy" and "registry module acme:other 1.0.0 is not on this machine" in s1.error
