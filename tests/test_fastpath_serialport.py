"""The fast-path client on a pyserial port: the serial framing end to end, and port errors."""
from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from viamlite.components.servo import Servo
from viamlite.fastpath.serialport import PortError, open_port, open_serial
from viamlite.fastpath.server import FastPathServer
from viamlite.machine import Machine
from viamlite.cli.serve import demo_config


@pytest.fixture
def serial_server() -> Iterator[SimpleNamespace]:
    """viamlite's own fast-path server speaking the serial framing on a TCP socket."""
    machine = Machine(demo_config())
    server = FastPathServer(machine)
    listener = socket.create_server(("127.0.0.1", 0))
    conns = []

    def accept() -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            conns.append(server.serve_socket(sock, peer="serial", framing="serial"))

    threading.Thread(target=accept, daemon=True).start()
    yield SimpleNamespace(url=f"socket://127.0.0.1:{listener.getsockname()[1]}", conns=conns, machine=machine)
    listener.close()
    server.stop()
    machine.close()


def test_client_over_a_pyserial_port(serial_server: SimpleNamespace) -> None:
    with open_serial(serial_server.url, 115200) as fw:
        assert fw.info["version"] == 1
        servo = Servo.from_robot(fw, "servo1")
        servo.move(33)
        assert servo.get_position() == 33
        handle = fw.resolve("servo1")
        assert fw.pipeline(handle, "get_position", [()] * 20) == [33] * 20
        with fw.subscribe(handle, "get_position", rate_hz=200) as sub:
            samples = [sub.next(timeout=2.0) for _ in range(5)]
        assert [s.seq for s in samples] == sorted(s.seq for s in samples)
        assert all(s.value == 33 for s in samples)


def test_missing_port_says_what_to_check(tmp_path) -> None:
    with pytest.raises(PortError, match="does not exist: is the board plugged in"):
        open_port(str(tmp_path / "ttyACM9"), 115200)


def test_busy_port_is_reported() -> None:
    master, slave = os.openpty()
    try:
        first = open_port(os.ttyname(slave), 115200)
        try:
            with pytest.raises(PortError, match="is busy"):
                open_port(os.ttyname(slave), 115200)
        finally:
            first.close()
    finally:
        os.close(master)
        os.close(slave)


def test_no_hello_reply_is_a_clear_timeout() -> None:
    master, slave = os.openpty()  # nothing answers on the other end
    try:
        with pytest.raises(TimeoutError, match="is the firmware running at this baud rate"):
            open_serial(os.ttyname(slave), 115200, timeout=0.2)
    finally:
        os.close(master)
        os.close(slave)
