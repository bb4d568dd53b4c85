"""The serial plugin's models and link against a Python stand-in for the firmware.

The stand-in (tests/firmware_peer.py) answers on a TCP socket reached through pyserial's
``socket://`` URL: the link's unplug, reset and watchdog handling run as on a real port.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from viamlite_plugins.serial import link as serial_link
from viamlite_plugins.serial.encoder import SerialEncoder
from viamlite_plugins.serial.servo import SerialServo

from tests.firmware_peer import FirmwarePeer
from viamlite.components.board import Board
from viamlite.components.encoder import Encoder
from viamlite.components.sensor import Sensor
from viamlite.components.servo import Servo
from viamlite.errors import (
    ConfigError,
    InvalidArgumentError,
    NotSupportedError,
    UnhealthyResourceError,
)
from viamlite.machine import Machine
from viamlite.state import ConnectionState


@pytest.fixture
def peer() -> Iterator[FirmwarePeer]:
    p = FirmwarePeer()
    yield p
    p.close()


def component(name: str, api: str, model: str, **attributes: object) -> dict:
    return {"name": name, "api": f"rdk:component:{api}", "model": f"viamlite:serial:{model}", "attributes": attributes}


def machine_on(peer: FirmwarePeer, *components: dict) -> Machine:
    return Machine.from_config({"components": list(components)})


def wait_for(check: Callable[[], bool], what: str, timeout: float = 6.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# -- validation --------------------------------------------------------------------------
@pytest.mark.parametrize("model, attributes, where, words", [
    ("servo", {"pin": 9}, "attributes.port", "is the board plugged in|ls /dev/ttyACM"),
    ("servo", {"port": "/dev/x"}, "attributes.pin", "pin is missing"),
    ("servo", {"port": "/dev/x", "pin": 1}, "attributes.pin", "UART"),
    ("servo", {"port": "/dev/x", "pin": 20}, "attributes.pin", "does not exist on the ATmega328P"),
    ("servo", {"port": "/dev/x", "pin": "Q3"}, "attributes.pin", "not a pin name"),
    ("servo", {"port": "/dev/x", "pin": 9, "min_us": 2000, "max_us": 1000}, "attributes.max_us", "not above min_us"),
    ("servo", {"port": "/dev/x", "pin": 9, "max_us": 3000}, "attributes.max_us", "out of range"),
    ("servo", {"port": "/dev/x", "pin": 9, "index": 4}, "attributes.index", "out of range"),
    ("servo", {"port": "/dev/x", "pin": 9, "watchdog_ms": 10}, "attributes.watchdog_ms", "too short"),
    ("servo", {"port": "/dev/x", "pin": 9, "on_timeout": "panic"}, "attributes.on_timeout", "release"),
    ("encoder", {"port": "/dev/x", "pin_a": 2, "pin_b": "D2"}, "attributes.pin_b", "same pin as pin_a"),
    ("sensor", {"port": "/dev/x"}, "attributes.analog", "reads no pins"),
    ("sensor", {"port": "/dev/x", "analog": {"pot": 9}}, "attributes.analog.pot", "not an analog pin"),
    ("sensor", {"port": "/dev/x", "analog": {"pot": "A0"}, "digital": {"pot_volts": 3}}, "attributes.digital.pot_volts",
     "also an analog reading"),
    ("board", {"port": "/dev/x", "analogs": [{"name": "a0", "pin": "D3"}]}, "attributes.analogs[0].pin",
     "not an analog pin"),
])
def test_bad_attributes_are_config_errors_naming_the_attribute(model: str, attributes: dict, where: str,
                                                                 words: str) -> None:
    api = {"servo": "servo", "encoder": "encoder", "sensor": "sensor", "board": "board"}[model]
    with pytest.raises(ConfigError, match=words) as info:
        Machine.from_config({"components": [component("x", api, model, **attributes)]})
    assert info.value.path.endswith(where)
    assert info.value.fix


def test_pins_by_any_name() -> None:
    from viamlite_plugins.serial.settings import parse_analog, parse_pin

    assert [parse_pin(p) for p in (9, "9", "D9", "d9", "A0", "A5", 19.0)] == [9, 9, 9, 9, 14, 19, 19]
    assert [parse_analog(p) for p in (0, "5", "A2", 14, "19")] == [14, 19, 16, 14, 19]
    with pytest.raises(ValueError, match="not an analog pin"):
        parse_analog(7)


# -- the models on the stand-in firmware ---------------------------------------------------
def test_every_model_on_one_shared_link(peer: FirmwarePeer) -> None:
    url = peer.url
    with machine_on(peer,
                    component("board", "board", "board", port=url, analogs=[{"name": "a2", "pin": "16"}]),
                    component("pan", "servo", "servo", port=url, pin=9, min_us=600, max_us=2400),
                    component("tilt", "servo", "servo", port=url, pin="D10", index=3),
                    component("wheel", "encoder", "encoder", port=url, pin_a=2, pin_b=3),
                    component("knobs", "sensor", "sensor", port=url, analog={"pot": "A1"}, digital={"bumper": 7}),
                    ) as m:
        assert all(e.state == "ready" for e in m.entries()), [(e.name, e.error) for e in m.entries()]
        assert len(serial_link.links()) == 1 and len(peer.hellos) == 1
        assert peer.hellos[0]["session_timeout_ms"] == 500 and peer.hellos[0]["on_timeout"] == "release"
        pan, tilt = Servo.from_robot(m, "pan"), Servo.from_robot(m, "tilt")
        assert ("servo0", "attach", [9, 600, 2400]) in peer.calls
        assert ("servo3", "attach", [10, 500, 2500]) in peer.calls
        pan.move(90)
        tilt.move(180.0)
        assert (pan.get_position(), tilt.get_position()) == (90, 180)
        assert pan.do_command({"get_state": {}})["pulse_us"] == 1500
        with pytest.raises(InvalidArgumentError, match="0 to 180"):
            pan.move(181)
        with pytest.raises(InvalidArgumentError, match="0 to 180"):
            pan.move(45.5)
        pan.stop()
        assert peer.calls[-1] == ("servo0", "stop", [])
        board = Board.from_robot(m, "board")
        assert board.do_command({"measure_pulse": {"pin": 9}}) == {"pulse_us": 1500}
        board.set_gpio("D5", True)
        assert board.get_gpio("5") is True and board.get_gpio(6) is False
        assert board.read_analog("a2").value == peer.adc[16]
        assert board.read_analog("A5") == (peer.adc[19], 0.0, 5.0, 0.0048828125)
        with pytest.raises(InvalidArgumentError, match="no analog reader 'nope'"):
            board.read_analog("nope")
        with pytest.raises(NotSupportedError, match="no PWM outputs"):
            board.set_pwm("9", 0.5)
        from viamlite.fastpath.errors import FailedPrecondition

        with pytest.raises(FailedPrecondition, match="used by servo0"):  # the firmware's own check
            board.set_gpio("9", True)
        enc = Encoder.from_robot(m, "wheel")
        assert ("encoder0", "attach", [2, 3]) in peer.calls
        peer.encoders[0]["count"] = 42
        assert enc.get_position() == (42, 1)
        enc.reset_position()
        assert enc.get_position().value == 0
        with pytest.raises(NotSupportedError, match="ticks only"):
            enc.get_position(2)
        readings = Sensor.from_robot(m, "knobs").get_readings()
        assert readings == {"pot": peer.adc[15], "pot_volts": round(peer.adc[15] * 0.0048828125, 4), "bumper": False}
        assert m["pan"].get_status()["link"] == "up"
    assert serial_link.links() == {}
    assert ("servo0", "detach", []) in peer.calls and ("servo3", "detach", []) in peer.calls


def test_conflicts_on_one_port_are_config_errors(peer: FirmwarePeer) -> None:
    url = peer.url
    with machine_on(peer,
                    component("a", "servo", "servo", port=url, pin=9, index=1),
                    component("b", "servo", "servo", port=url, pin=9),
                    component("c", "servo", "servo", port=url, pin=11, index=1),
                    component("d", "encoder", "encoder", port=url, pin_a=4, pin_b=9),
                    component("e", "servo", "servo", port=url, pin=12, baud=9600),
                    component("f", "sensor", "sensor", port=url, digital={"x": 2}),
                    component("g", "encoder", "encoder", port=url, pin_a=2, pin_b=3),
                    ) as m:
        errors = {e.config.name: e.error for e in m.entries()}
        assert errors["a"] == "" and errors["f"] == ""
        assert "attributes.pin: pin 9" in errors["b"] and "already used by 'a'" in errors["b"]
        assert "attributes.index: servo1" in errors["c"] and "already used by 'a'" in errors["c"]
        assert "attributes.pin_b: pin 9" in errors["d"]
        assert "attributes.baud: baud 9600 differs from 115200" in errors["e"]
        assert "attributes.pin_a: pin 2" in errors["g"] and "read by 'f'" in errors["g"]
        # the failed ones gave back what they claimed: servo0 is still free
        assert serial_link.links()[url].claims == {"servo1": "a", "pin 9": "a"}


def test_missing_port_makes_the_resource_unhealthy_with_the_fix(tmp_path) -> None:
    with machine_on(None, component("s", "servo", "servo", port=str(tmp_path / "ttyACM7"), pin=9)) as m:
        with pytest.raises(UnhealthyResourceError, match="does not exist: is the board plugged in"):
            m["s"]
    assert serial_link.links() == {}


def test_keeper_feeds_the_watchdog(peer: FirmwarePeer) -> None:
    with SerialServo("s", {"port": peer.url, "pin": 9, "watchdog_ms": 500}) as servo:
        servo.move(30)
        time.sleep(2.0)  # four watchdog periods with no call from the resource
        assert peer.servos[0]["attached"] and peer.hellos[-1]["session_timeout_ms"] == 500
        assert servo.get_status()["events"] == []


def test_watchdog_fires_when_the_host_goes_silent_and_move_attaches_again(peer: FirmwarePeer) -> None:
    with SerialServo("s", {"port": peer.url, "pin": 9, "watchdog_ms": 100}) as servo:
        servo.move(30)
        link = servo.link
        link._keeper.stop(timeout=2)  # the keeper stops pinging, as if the host process were stopped
        wait_for(lambda: not peer.servos[0]["attached"], "the firmware watchdog to release the servo")
        servo.move(60)  # "servo0 is not attached": the servo attaches again and moves
        assert peer.servos[0]["attached"] and peer.servos[0]["angle"] == 60
        assert any("watchdog" in e for e in link.events) or any("watchdog" in e.message for e in link._client.events)


def test_board_reset_is_recovered_with_servo_at_its_last_angle(peer: FirmwarePeer) -> None:
    with machine_on(peer, component("s", "servo", "servo", port=peer.url, pin=9, min_us=700),
                    component("e", "encoder", "encoder", port=peer.url, pin_a=4, pin_b=5)) as m:
        Servo.from_robot(m, "s").move(120)
        peer.reset()
        assert not peer.servos[0]["attached"]
        wait_for(lambda: peer.servos[0]["attached"] and peer.encoders[0]["attached"], "the keeper to restore")
        assert peer.servos[0]["angle"] == 120 and peer.servos[0]["min"] == 700
        assert len(peer.hellos) == 2
        link = serial_link.links()[peer.url]
        assert link.resets == 1 and link.status()["link"] == "up"
        # a reset seen by a call (not the keeper) is recovered before the call goes on
        link._keeper.stop(timeout=2)
        peer.reset()
        assert Servo.from_robot(m, "s").get_position() == 120
        assert link.resets == 2 and peer.encoders[0]["attached"]


def test_unplug_gives_clear_errors_then_reconnects(peer: FirmwarePeer) -> None:
    with machine_on(peer, component("s", "servo", "servo", port=peer.url, pin=9),
                    component("e", "encoder", "encoder", port=peer.url, pin_a=4, pin_b=5)) as m:
        servo = Servo.from_robot(m, "s")
        servo.move(45)
        peer.unplug()
        link = serial_link.links()[peer.url]
        wait_for(lambda: link.state is ConnectionState.DISCONNECTED, "the link to notice the unplug")
        with pytest.raises(serial_link.LinkDownError, match=f"serial port {peer.url} is down .*reconnecting"):
            servo.move(50)
        assert servo.get_status()["link"] == "down"
        peer.plug()
        wait_for(lambda: link.state is ConnectionState.CONNECTED, "the link to reconnect")
        assert peer.servos[0]["attached"] and peer.servos[0]["angle"] == 45
        assert peer.encoders[0]["attached"]  # the board lost power: everything restored
        servo.move(50)
        assert servo.get_position() == 50 and link.reconnects == 1


def test_lost_replies_are_retried_and_a_silent_board_takes_the_link_down(peer: FirmwarePeer) -> None:
    with SerialEncoder("e", {"port": peer.url, "pin_a": 2, "pin_b": 3, "watchdog_ms": 0}) as enc:
        peer.silent = True
        with pytest.raises(serial_link.LinkDownError, match="did not answer encoder0.get_position 3 times"):
            enc.get_position()
        assert enc.link.state in (ConnectionState.DISCONNECTED, ConnectionState.CONNECTING, ConnectionState.HANDSHAKE)
        peer.silent = False
        wait_for(lambda: enc.link.state is ConnectionState.CONNECTED, "the link to come back")
        assert enc.get_position().value == 0
