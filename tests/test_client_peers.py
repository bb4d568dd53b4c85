"""The client against other peers: a viam-sdk server, and viamlite serving API keys over TLS."""
from __future__ import annotations

import time

import pytest

import viamlite
from viamlite.components.servo import Servo
from viamlite.errors import (
    ConnectError,
    NotSupportedError,
    PermissionDeniedError,
    UnauthenticatedError,
)

from .conftest import ServeProcess, write_config
from .peers import SdkServer

KEY_ID = "8a2f4c6e-0000-4000-8000-00000000c0de"
KEY = "s3cret-key-for-tests"
AUTH_CONFIG = {
    "components": [{"name": "servo1", "api": "rdk:component:servo", "model": "fake"}],
    "auth": {"handlers": [{"type": "api-key", "config": {"keys": [KEY_ID], KEY_ID: KEY}}]},
}


@pytest.fixture(scope="module")
def sdk_server():
    server = SdkServer()
    yield server
    server.stop()


def test_sdk_server_resources_work_and_missing_robot_methods_are_not_supported(sdk_server) -> None:
    with viamlite.connect(sdk_server.address) as machine:
        assert [n.full_name for n in machine.resource_names] == ["servo1"]
        servo = Servo.from_robot(machine, "servo1")
        servo.move(75)
        assert servo.get_position() == 75
        assert machine.stop_all() == []
        with pytest.raises(NotSupportedError, match="does not offer GetMachineStatus"):
            machine.get_machine_status()
        with pytest.raises(NotSupportedError, match="GetVersion"):
            machine.get_version()


def test_sdk_server_kill_and_restart_recovers(sdk_server) -> None:
    machine = viamlite.connect(sdk_server.address, check_interval=0.2)
    try:
        servo = Servo.from_robot(machine, "servo1")
        servo.move(10)
        sdk_server.stop()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                servo.get_position()
                time.sleep(0.05)
            except ConnectError:
                break
        with pytest.raises(ConnectError, match="reconnecting"):
            servo.get_position()
        sdk_server.start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                servo.move(20)
                break
            except ConnectError:
                time.sleep(0.1)
        assert servo.get_position() == 20
    finally:
        machine.close()


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    path = write_config(tmp_path_factory.mktemp("cfg"), AUTH_CONFIG)
    proc = ServeProcess(["--bind", "127.0.0.1:0", "--config", str(path)], env={"VIAMLITE_HOME": str(home)})
    yield proc
    proc.stop()


def test_api_key_over_tls(auth_server) -> None:
    with viamlite.connect(auth_server.address, api_key_id=KEY_ID, api_key=KEY) as machine:
        assert machine.connection.tls
        servo = Servo.from_robot(machine, "servo1")
        servo.move(33)
        assert servo.get_position() == 33
        assert machine.get_version().version == viamlite.__version__


def test_wrong_key_and_no_key_are_auth_errors(auth_server) -> None:
    with pytest.raises(PermissionDeniedError):
        viamlite.connect(auth_server.address, api_key_id=KEY_ID, api_key="wrong")
    with pytest.raises(UnauthenticatedError):
        viamlite.connect(auth_server.address)
