"""The cloud commands' parts on their own, and what issue 16 changed beside them: the shell
service (its proto against the viam-sdk's, a pty and pipes, the exit status, authenticated
callers only), the command tree (aliases, ``--debug`` and ``--base-url`` anywhere), the login
cache, base URLs, name-or-id resolution, and the client's timeouts."""
from __future__ import annotations

import json
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from viamlite.cli.main import build_parser
from viamlite_plugins.cloud.commands import cache
from viamlite_plugins.cloud.commands.app import BaseURL
from viamlite_plugins.cloud.commands.errors import CommandError, UsageError
from viamlite_plugins.cloud.commands.resolve import Resolver

KEY_ID, KEY = "11111111-2222-3333-4444-555555555555", "k" * 32
SHELL = {"name": "shell", "api": "rdk:service:shell", "model": "rdk:builtin:shell"}
AUTH = {"handlers": [{"type": "api-key", "config": {"keys": [KEY_ID], KEY_ID: KEY}}]}


# -- the shell service -------------------------------------------------------------------


def test_the_shell_proto_equals_the_sdks() -> None:
    pytest.importorskip("viam.gen.service.shell.v1.shell_pb2", reason="needs the viam-sdk test dependency")
    from google.protobuf import descriptor_pool

    from tests.wirecheck import differences, names
    from viamlite.gen import shell_pb2

    problems = differences([shell_pb2.DESCRIPTOR], descriptor_pool.Default())
    assert not [p for p in problems if "remote_path" not in p], "\n".join(problems)
    assert {"viam.service.shell.v1.ShellService", "viam.service.shell.v1.ShellRequest",
            "viam.service.shell.v1.ShellResponse"} <= names([shell_pb2.DESCRIPTOR])
    method = shell_pb2.DESCRIPTOR.services_by_name["ShellService"].methods_by_name["Shell"]
    assert method.client_streaming and method.server_streaming


def _shell(channel: Any, name: str, text: str, *, tty: bool, metadata: tuple = ()) -> tuple[str, str, str | None]:
    """(output, error output, exit status) of one Shell call sending ``text``."""
    from viamlite.adapters.shell import EXIT_STATUS
    from viamlite.gen import shell_pb2 as pb
    from viamlite.rpc import wire

    first = pb.ShellRequest(name=name, data_in=text)
    wire.dict_to_struct({"tty": tty, "rows": 30, "cols": 100}, first.extra)
    call = channel.stream_stream("/viam.service.shell.v1.ShellService/Shell",
                                 request_serializer=pb.ShellRequest.SerializeToString,
                                 response_deserializer=pb.ShellResponse.FromString)
    responses = call(iter([first]), metadata=metadata, timeout=30)
    out, err, eof = "", "", False
    for response in responses:
        out, err, eof = out + response.data_out, err + response.data_err, eof or response.eof
    assert eof
    return out, err, dict(responses.trailing_metadata()).get(EXIT_STATUS)


@pytest.fixture
def shell_machine() -> Any:
    """A served machine with API keys and a shell service: its address."""
    from viamlite.adapters.serving import MachineServer
    from viamlite.auth import Authority
    from viamlite.machine import Machine

    machine = Machine.from_config({"services": [SHELL], "auth": AUTH})
    server = MachineServer(machine, authority=Authority(lambda: machine.config.auth.keys, lambda: 3600.0))
    port = server.start("127.0.0.1:0")
    yield machine, f"127.0.0.1:{port}"
    server.stop(0)
    machine.close()


def test_a_shell_on_pipes_and_on_a_pty_with_its_exit_status(shell_machine: Any) -> None:
    from viamlite.transport.dial import dial

    machine, address = shell_machine
    dialed = dial(address, api_key_id=KEY_ID, api_key=KEY, insecure=True)
    try:
        out, err, status = _shell(dialed.channel, "shell", "echo out-$((2+3)); echo oops >&2; exit 4\n", tty=False)
        assert (out, err, status) == ("out-5\n", "oops\n", "4")
        out, _, status = _shell(dialed.channel, "shell", "stty size; echo on-a-$(tty | cut -c1-8)\nexit 3\n", tty=True)
        assert status == "3" and "30 100" in out and "on-a-/dev/pts" in out
        assert machine.resource_by_name("shell").get_status()["sessions"] == 0
        with pytest.raises(grpc.RpcError) as missing:
            _shell(dialed.channel, "nope", "exit\n", tty=False)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        dialed.close()
    with pytest.raises(grpc.RpcError) as refused:  # no token: the gate refuses it
        _shell(grpc.insecure_channel(address), "shell", "exit\n", tty=False)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_machine_without_api_keys_refuses_every_shell(served_machine: Any) -> None:
    served = served_machine({"services": [SHELL]}, fastpath=False)
    with pytest.raises(grpc.RpcError) as refused:
        _shell(served.channel, "shell", "echo never\n", tty=False)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "only authenticated callers" in refused.value.details() and "auth" in refused.value.details()


def test_a_hung_up_shell_is_killed(shell_machine: Any) -> None:
    from viamlite.gen import shell_pb2 as pb
    from viamlite.rpc import wire
    from viamlite.transport.dial import dial

    machine, address = shell_machine
    dialed = dial(address, api_key_id=KEY_ID, api_key=KEY, insecure=True)
    first = pb.ShellRequest(name="shell", data_in="sleep 600\n")
    wire.dict_to_struct({"tty": False}, first.extra)
    gate = threading.Event()

    def requests() -> Any:
        yield first
        gate.wait(30)

    call = dialed.channel.stream_stream("/viam.service.shell.v1.ShellService/Shell",
                                        request_serializer=pb.ShellRequest.SerializeToString,
                                        response_deserializer=pb.ShellResponse.FromString)(requests())
    shell = machine.resource_by_name("shell")
    deadline = time.monotonic() + 10
    while shell.get_status()["sessions"] != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    call.cancel()
    gate.set()
    while shell.get_status()["sessions"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shell.get_status()["sessions"] == 0
    dialed.close()


def test_a_shell_that_is_no_program_is_a_config_error() -> None:
    from viamlite.errors import ConfigError
    from viamlite.machine import Machine

    with pytest.raises(ConfigError, match="no-such-shell.*not a program"):
        Machine.from_config({"services": [{**SHELL, "attributes": {"shell": "/no-such-shell"}}]})


# -- the command tree ------------------------------------------------------------------------


def test_debug_and_base_url_before_or_after_any_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "--debug"]).debug is True
    assert parser.parse_args(["--debug", "serve"]).debug is True
    assert parser.parse_args(["serve"]).debug is False
    assert parser.parse_args(["machines", "part", "run", "--debug", "--address", "x:1", "M"]).debug is True
    assert parser.parse_args(["--base-url", "http://a:1", "whoami"]).base_url == "http://a:1"
    assert parser.parse_args(["whoami", "--base-url", "http://a:1"]).base_url == "http://a:1"
    assert parser.parse_args(["whoami"]).base_url is None


@pytest.mark.parametrize("alias", ["machines", "machine", "robots", "robot"])
def test_machines_aliases_and_robot_for_machine(alias: str) -> None:
    args = build_parser().parse_args([alias, "part", "run", "--robot", "r", "--part", "p", "--data", "{}",
                                      "viam.component.servo.v1.ServoService.MoveRequest"])
    assert (args.machine, args.part, args.method) == ("r", "p", "viam.component.servo.v1.ServoService.MoveRequest")
    assert build_parser().parse_args([alias, "status", "--robot", "r"]).machine == "r"
    keys = build_parser().parse_args([alias, "api-key", "create", "--robot-id", "r"])
    assert keys.machine_id == "r"


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture) -> None:
    from viamlite.cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["machines", "part", "add-resource", "--name", "x", "--model-name", "m"])  # no API given
    assert done.value.code == 2
    assert main(["machines", "part", "run", "--data", "{}"]) == 2  # no METHOD
    assert "name the METHOD" in capsys.readouterr().err


# -- login cache and base URLs ------------------------------------------------------------------


def test_the_login_cache_is_private_and_belongs_to_one_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIAMLITE_HOME", str(tmp_path / "home"))
    assert cache.load() is None and cache.clear() is None
    path = cache.save(cache.Login("http://127.0.0.1:8443", KEY_ID, KEY))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text())["auth"] == {"key_id": KEY_ID, "key": KEY}
    assert cache.load() == cache.Login("http://127.0.0.1:8443", KEY_ID, KEY)
    path.write_text("{not json")
    with pytest.raises(CommandError, match="log in again"):
        cache.load()


def test_base_urls() -> None:
    assert BaseURL.parse("https://app.viam.com") == BaseURL("https://app.viam.com", "app.viam.com", 443, False)
    assert BaseURL.parse("http://localhost").port == 8080  # as the Viam CLI reads it
    assert BaseURL.parse("http://127.0.0.1:9000").plaintext
    assert BaseURL.parse("127.0.0.1:9000").target == "127.0.0.1:9000"
    assert BaseURL.parse("http://127.0.0.1:9000/").same_as(BaseURL.parse("http://127.0.0.1:9000"))
    for bad in ("ftp://x", "http://", "http://h:port"):
        with pytest.raises(UsageError):
            BaseURL.parse(bad)


# -- name or id ---------------------------------------------------------------------------------------


class _Named:
    def __init__(self, id: str, name: str, **more: Any) -> None:
        self.id, self.name = id, name
        self.__dict__.update(more)


class _App:
    """Answers the chain's calls from lists, and records them."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        org = _Named("0b7e8e4e-0000-4000-8000-000000000001", "Robot's Org")
        self.locations = [_Named("0b7e8e4e-0000-4000-8000-000000000002", "myLoc"),
                          _Named("0b7e8e4e-0000-4000-8000-000000000003", "lab")]
        self.robots = {"myLoc": [_Named("0b7e8e4e-0000-4000-8000-000000000004", "myrobot")],
                       "lab": [_Named("0b7e8e4e-0000-4000-8000-000000000005", "twin"),
                               _Named("0b7e8e4e-0000-4000-8000-000000000006", "twin")]}
        self.org = org

    def call(self, method: str, request: Any = None, *, what: str = "", **fields: Any) -> Any:
        self.calls.append(method)
        ns = type("R", (), {})
        if method == "ListOrganizations":
            ns.organizations = [self.org]
        elif method == "ListLocations":
            ns.locations = self.locations
        elif method == "ListRobots":
            name = next(loc.name for loc in self.locations if loc.id == fields["location_id"])
            ns.robots = self.robots[name]
        elif method == "GetRobotParts":
            robot = next(r for rs in self.robots.values() for r in rs if r.id == fields["robot_id"])
            ns.parts = [_Named(robot.id[:-2] + "aa", f"{robot.name}-main", main_part=True, robot=robot.id)]
        else:
            raise CommandError(f"{what} was not found")
        return ns


def test_names_ids_and_the_first_one() -> None:
    app = _App()
    resolve = Resolver(app)  # type: ignore[arg-type]
    assert resolve.organization().name == "Robot's Org"
    assert resolve.organization(app.org.id) is resolve.organization("Robot's Org")
    assert resolve.location(app.org).name == "myLoc"  # empty: the first
    assert resolve.robot("myrobot", "Robot's Org", "myLoc").name == "myrobot"
    assert resolve.part("", "myrobot").name == "myrobot-main"  # empty part: the main part
    assert resolve.part("myrobot-main").name == "myrobot-main"  # by name, across the locations
    assert app.calls.count("ListOrganizations") == 1  # each list read once
    with pytest.raises(CommandError, match=r"no location 'nope' in organization \"Robot's Org\".*'myLoc', 'lab'"):
        resolve.location(app.org, "nope")
    with pytest.raises(CommandError, match="2 machines .* are called 'twin': give --machine the id"):
        resolve.robot("twin", "", "lab")
    with pytest.raises(CommandError, match="no organization 'Other'.*viamlite organizations list"):
        resolve.organization("Other")


# -- the client: timeouts, resource_names --------------------------------------------------------------


def test_connect_timeout_bounds_a_machine_that_never_answers() -> None:
    import viamlite
    from viamlite.errors import ConnectError

    with socket.socket() as silent:  # accepts connections (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        started = time.monotonic()
        with pytest.raises(ConnectError):
            viamlite.connect(f"127.0.0.1:{silent.getsockname()[1]}", timeout=1)
        took = time.monotonic() - started
    print(f"connect(timeout=1) to a silent port gave up after {took:.2f} s")


def test_a_per_call_timeout_on_resource_calls(served_machine: Any) -> None:
    from viamlite.components.motor import Motor
    from viamlite.components.servo import Servo
    from viamlite.errors import DeadlineExceededError

    served = served_machine({"components": [
        {"name": "m", "api": "rdk:component:motor", "model": "fake", "attributes": {"max_rpm": 60}},
        {"name": "s", "api": "rdk:component:servo", "model": "fake"}]}, fastpath=False)
    with served.client() as machine:
        motor = Motor.from_robot(machine, "m")
        with pytest.raises(DeadlineExceededError):
            motor.go_for(1, 100, timeout=0.3)  # 100 minutes of motion
        servo = Servo.from_robot(machine, "s")
        servo.move(42, timeout=5)
        assert servo.get_position(timeout=5) == 42
        with pytest.raises(ValueError, match="positive"):
            servo.get_position(timeout=0)
        names = machine.resource_names  # a property, as in the viam-sdk
        assert sorted(n.name for n in names) == ["m", "s"]
        with pytest.warns(DeprecationWarning, match="property"):
            assert machine.resource_names() == list(names)
