"""The REPL: the namespace builder on its own, then ptpython driven in a pseudo-terminal."""
from __future__ import annotations

import os
import sys
import time

import pexpect
import pytest

from viamlite.names import API, ResourceName
from viamlite.cli.repl import banner, build_namespace, history_path, identifier_for

SERVO = API.component("servo")


class FakeMachine:
    def __init__(self, names: list[str]) -> None:
        self.names = [ResourceName(SERVO, n) for n in names]

    @property
    def resource_names(self) -> list[ResourceName]:
        return self.names

    def resource(self, api: API, name: str) -> object:
        if name == "broken":
            raise RuntimeError("the driver failed to start")
        return f"<servo {name}>"


def test_identifiers_from_names() -> None:
    assert identifier_for("servo-1") == "servo_1"
    assert identifier_for("1st arm") == "_1st_arm"
    assert identifier_for("remote1:servo1") == "remote1_servo1"


def test_namespace_reports_clashes_and_failures() -> None:
    ns = build_namespace(FakeMachine(["servo1", "class", "print", "machine", "servo-2", "servo_2", "broken"]))
    assert ns.names["servo1"] == "<servo servo1>"
    assert ns.names["class_"] == "<servo class>"
    assert ns.names["print_"] == "<servo print>"
    assert ns.names["machine_"] == "<servo machine>"
    assert ns.names["servo_2"] == "<servo servo-2>" and ns.names["servo_2_"] == "<servo servo_2>"
    assert "broken" not in ns.names
    problems = "\n".join(ns.problems)
    assert "keyword" in problems and "builtin" in problems and "hide `machine`" in problems
    assert "clashes with another resource" in problems and "the driver failed to start" in problems
    text = banner(ns, "test")
    assert "servo_2" in text and "(resource 'servo-2')" in text and "note:" in text


def test_history_under_the_data_directory(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert history_path() == tmp_path / "viamlite" / "repl_history"


def _wait_exit(child: pexpect.spawn, timeout: float = 10) -> None:
    """The pty closes before the process has exited; wait for it (bounded)."""
    deadline = time.monotonic() + timeout
    while child.isalive() and time.monotonic() < deadline:
        time.sleep(0.05)


def _spawn(args: list[str], tmp_path) -> pexpect.spawn:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "PROMPT_TOOLKIT_NO_CPR": "1", "TERM": "xterm"}
    return pexpect.spawn(sys.executable, ["-m", "viamlite.cli", *args], env=env, encoding="utf-8", timeout=20,
                         dimensions=(40, 160))


def test_repl_moves_a_servo_and_ctrl_c_cancels_a_long_call(demo_server, tmp_path) -> None:
    child = _spawn(["repl", demo_server.address], tmp_path)
    try:
        child.expect("servo1 +rdk:component:servo")
        child.expect(">>>")
        child.sendline("servo1.move(33)")
        child.expect(">>>")
        child.sendline("print('POS', servo1.get_position())")
        child.expect("POS 33")
        child.sendline("motor1.go_for(10, 100)")  # ten minutes unless cancelled
        time.sleep(1.0)
        child.sendintr()
        child.expect("KeyboardInterrupt")
        child.sendline("print('MOVING', motor1.is_moving(), len(machine.get_operations()))")
        child.expect(r"MOVING (\w+) (\d+)")
        assert child.match.group(1) == "False" and child.match.group(2) == "0"
        child.expect(">>>")
        child.sendeof()
        child.expect(pexpect.EOF)
        _wait_exit(child)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert (tmp_path / "viamlite" / "repl_history").read_text().count("servo1.move(33)") == 1


def test_serve_repl_serves_while_the_repl_runs(tmp_path) -> None:
    import viamlite

    child = _spawn(["serve", "--repl", "--bind", "127.0.0.1:0"], tmp_path)
    try:
        child.expect(r"on 127\.0\.0\.1:(\d+) \(gRPC")
        port = int(child.match.group(1))
        child.expect(">>>")
        child.sendline("servo1.move(120); print('MO' + 'VED')")
        child.expect("MOVED")  # the output, not the echo of the input
        with viamlite.connect(f"127.0.0.1:{port}") as remote:
            assert remote["servo1"].get_position() == 120  # the same resources, served
        child.sendeof()
        child.expect("viamlite stopped")
        child.expect(pexpect.EOF)
        _wait_exit(child)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


@pytest.mark.parametrize("args", [["repl"], ["repl", "127.0.0.1:1", "--config", "x.json"]])
def test_repl_needs_exactly_one_target(args) -> None:
    from viamlite.cli import main

    assert main(args) == 2
