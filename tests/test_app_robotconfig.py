"""Machine configs (viam-server JSON) and the app API's RobotConfig, both ways; log records and LogEntry."""
from __future__ import annotations

import copy
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from viamlite.app import durations
from viamlite.app.logs import (
    CLIENT_LOG,
    entry_time,
    entry_to_record,
    level_name,
    level_number,
    record_to_entry,
)
from viamlite.app.robotconfig import (
    component_from_proto,
    component_to_proto,
    config_to_proto,
    proto_to_config,
    service_from_proto,
    service_to_proto,
)
from viamlite.config import parse_config
from viamlite.errors import ConfigError
from viamlite.gen.app import robot_pb2

ROOT = Path(__file__).resolve().parent.parent

# A machine with every kind of block viamlite and viam-server read, written the way
# viam-server writes it (so JSON -> proto -> JSON gives it back unchanged).
FULL: dict[str, Any] = {
    "cloud": {"id": "a7f1c3d2-0000-4000-8000-000000000001", "secret": "part-secret", "fqdn": "127.0.0.1:8080",
              "local_fqdn": "m1.local", "signaling_address": "127.0.0.1:8443", "signaling_insecure": True,
              "location_secrets": [{"id": "ls1", "secret": "s1"}], "primary_org_id": "org", "location_id": "loc",
              "machine_id": "mach", "managed_by": "fleet"},
    "components": [
        {"name": "servo1", "api": "rdk:component:servo", "model": "rdk:builtin:fake",
         "frame": {"parent": "world", "translation": {"x": 100, "y": 0, "z": 50.5},
                   "orientation": {"type": "ov_degrees", "value": {"x": 0, "y": 0, "z": 1, "th": 90}},
                   "geometry": {"type": "box", "x": 40, "y": 20, "z": 40, "label": "body",
                                "translation": {"x": 0, "y": 0, "z": 20}}},
         "attributes": {"max": 180, "ratio": 0.5, "names": ["a", "b"], "nested": {"on": True, "none": None}},
         "log_configuration": {"level": "debug"}},
        {"name": "arm-cam", "api": "rdk:component:camera", "model": "acme:cams:usb", "depends_on": ["servo1"],
         "frame": {"parent": "servo1", "translation": {"x": 0, "y": 0, "z": 80},
                   "orientation": {"type": "euler_angles", "value": {"roll": 0.1, "pitch": 0, "yaw": 1.5}},
                   "geometry": {"type": "capsule", "r": 5, "l": 30}},
         "service_configs": [{"type": "data_manager",
                              "attributes": {"capture_methods": [{"method": "GetImages", "capture_frequency_hz": 2}]}}]},
        {"name": "wheel", "api": "rdk:component:motor", "model": "rdk:builtin:fake",
         "frame": {"parent": "world", "translation": {"x": 0, "y": 0, "z": 0},
                   "orientation": {"type": "quaternion", "value": {"w": 1, "x": 0, "y": 0, "z": 0}},
                   "geometry": {"type": "sphere", "r": 12.5}}},
    ],
    "services": [{"name": "data", "api": "rdk:service:data_manager", "model": "rdk:builtin:builtin",
                  "attributes": {"sync_interval_mins": 0.1, "capture_dir": "/tmp/capture"}}],
    "remotes": [{"name": "arm-part", "address": "arm.local:8080", "prefix": "arm-", "insecure": True,
                 "connection_check_interval": "5s", "reconnect_interval": "1.5s",
                 "auth": {"entity": "key-id", "credentials": {"type": "api-key", "payload": "key"}},
                 "frame": {"parent": "world", "translation": {"x": 1, "y": 2, "z": 3}}}],
    "modules": [{"type": "local", "name": "my-mod", "executable_path": sys.executable, "env": {"K": "V"},
                 "log_level": "debug", "tcp_mode": True, "first_run_timeout": "1h0m0s"},
                {"type": "registry", "name": "reg-mod", "module_id": "acme:reg-mod", "executable_path": "/x/bin"}],
    "processes": [{"id": "p1", "name": "/usr/bin/env", "args": ["true"], "one_shot": True, "log": True,
                   "stop_signal": 15, "stop_timeout": "10s", "env": {"A": "1"}, "cwd": "/tmp", "username": "pi"}],
    "packages": [{"name": "model1", "package": "org/model1", "version": "latest", "type": "ml_model"}],
    "network": {"fqdn": "m1.example", "bind_address": "0.0.0.0:8080", "tls_cert_file": "/etc/cert.pem",
                "tls_key_file": "/etc/key.pem", "sessions": {"heartbeat_window": "2s"},
                "traffic_tunnel_endpoints": [{"port": 22, "connection_timeout": "30s"}]},
    "auth": {"handlers": [{"type": "api-key", "config": {"keys": ["key-id"], "key-id": "key"}}],
             "tls_auth_entities": ["m1.example"],
             "external_auth_config": {"jwks": {"json": {"keys": [{"kty": "RSA", "kid": "1"}]}}}},
    "debug": False,
    "disable_partial_start": True,
    "enable_web_profile": True,
    "log": [{"pattern": "rdk.resource_manager", "level": "debug"}],
    "revision": "r42",
    "maintenance": {"sensor_name": "rdk:component:sensor/door", "maintenance_allowed_key": "closed"},
    "disable_log_deduplication": True,
    "jobs": [{"name": "j1", "schedule": "5s", "resource": "servo1", "method": "GetPosition",
              "command": {"x": 1}, "log_configuration": {"level": "info"}}],
    "tracing": {"enabled": True, "disk": True, "otlp_endpoint": "localhost:4317"},
}


def _round_trip(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    dropped: list[str] = []
    proto = config_to_proto(config, dropped=dropped)
    back = proto_to_config(robot_pb2.RobotConfig.FromString(proto.SerializeToString()), dropped=dropped)
    return back, dropped


# --- JSON -> proto -> JSON -----------------------------------------------------------------

def test_the_demo_machine_comes_back_unchanged() -> None:
    demo = json.loads((ROOT / "viamlite" / "demo.json").read_text())
    back, dropped = _round_trip(demo)
    assert back == demo and dropped == []
    assert parse_config(back) == parse_config(demo)


def test_a_full_machine_comes_back_unchanged_and_still_validates() -> None:
    back, dropped = _round_trip(copy.deepcopy(FULL))
    assert dropped == []
    assert back == FULL
    # Whole numbers stay whole, so the JSON text is the same too.
    assert json.dumps(back, sort_keys=True) == json.dumps(FULL, sort_keys=True)
    # The app's cloud block lacks the local app_address; the machine keeps its own.
    machine = parse_config({**back, "cloud": {**back["cloud"], "app_address": "https://127.0.0.1:8443"}})
    assert [r.name for r in machine.remotes] == ["arm-part"] and machine.remotes[0].reconnect_interval == 1.5
    assert machine.network.heartbeat_window == 2.0 and machine.auth is not None and machine.auth.keys == {"key-id": "key"}


def test_the_proto_carries_what_viam_server_reads() -> None:
    proto = config_to_proto(copy.deepcopy(FULL))
    servo = proto.components[0]
    assert (servo.name, servo.api, servo.model) == ("servo1", "rdk:component:servo", "rdk:builtin:fake")
    assert servo.frame.orientation.vector_degrees.theta == 90
    assert servo.frame.geometry.box.dims_mm.x == 40 and servo.frame.geometry.center.z == 20
    assert servo.attributes["max"] == 180 and servo.log_configuration.level == "debug"
    assert proto.components[1].frame.orientation.euler_angles.yaw == 1.5
    assert proto.components[1].service_configs[0].type == "data_manager"
    remote = proto.remotes[0]
    assert remote.auth.credentials.type == robot_pb2.CREDENTIALS_TYPE_API_KEY
    assert (remote.reconnect_interval.seconds, remote.reconnect_interval.nanos) == (1, 500_000_000)
    assert proto.modules[0].path == sys.executable and proto.modules[0].first_run_timeout.seconds == 3600
    assert proto.network.sessions.heartbeat_window.seconds == 2
    assert proto.auth.handlers[0].type == robot_pb2.CREDENTIALS_TYPE_API_KEY
    assert proto.HasField("debug") and not proto.debug and proto.disable_partial_start
    assert proto.maintenance.sensor_name.subtype == "sensor" and proto.maintenance.sensor_name.name == "door"
    assert proto.cloud.location_secrets[0].secret == "s1"


def test_what_viam_server_writes_differently_comes_back_in_its_form() -> None:
    config = {
        "components": [{"name": "s", "type": "servo", "model": "fake",
                        "frame": {"parent": "world",
                                  "geometry": {"type": "box", "x": 1, "y": 1, "z": 1,
                                               "orientation": {"type": "euler_angles", "value": {"yaw": math.pi / 2}}}}}],
        "services": [{"name": "g", "namespace": "acme", "type": "thing", "model": "acme:thing:x"}],
        "remotes": [{"name": "r", "address": "h:1", "connection_check_interval": "90s", "reconnect_interval": "1000ms"}],
    }
    back, dropped = _round_trip(config)
    assert dropped == []
    component = back["components"][0]
    assert component["api"] == "rdk:component:servo" and component["type"] == "servo" and component["model"] == "fake"
    assert back["services"][0]["api"] == "acme:service:thing"
    assert back["remotes"][0]["connection_check_interval"] == "1m30s" and back["remotes"][0]["reconnect_interval"] == "1s"
    orientation = component["frame"]["geometry"]["orientation"]
    assert orientation["type"] == "ov_degrees"
    # The same pose: a quarter turn about z.
    assert orientation["value"]["z"] == pytest.approx(1) and orientation["value"]["th"] == pytest.approx(90)
    assert parse_config(back).components[0].api == parse_config(config).components[0].api


# --- proto -> JSON -> proto -----------------------------------------------------------------

def _full_proto() -> Any:
    proto = config_to_proto(copy.deepcopy(FULL))
    # Fields that no JSON config above sets, so that every field of the message is exercised.
    proto.components[0].namespace, proto.components[0].type = "rdk", "servo"
    proto.services[0].log_configuration.level = "warn"
    proto.remotes[0].managed_by, proto.remotes[0].secret = "fleet", "remote-secret"
    proto.remotes[0].service_configs.add(type="data_manager").attributes.update({"a": 1})
    proto.modules[0].status.error = "bad module"
    proto.packages[0].status.error = "bad package"
    proto.overwrite_fragment_status.add(error="fragment")
    proto.network.no_tls = True
    user = proto.auth.user_permissions.add()
    user.user.type, user.user.id = "user", "u1"
    user.permissions.add(resources=["*"], allowed_methods=["GetPosition"])
    proto.cloud.location_secret = "legacy"
    proto.components[2].frame.orientation.no_orientation.SetInParent()
    proto.tracing.console = True
    return proto


def test_a_full_proto_comes_back_unchanged() -> None:
    proto = _full_proto()
    dropped: list[str] = []
    back = config_to_proto(proto_to_config(proto, dropped=dropped), dropped=dropped)
    assert dropped == []
    assert back == proto
    # Every field of RobotConfig was set, so nothing escaped the check.
    assert {f.name for f, _ in proto.ListFields()} == set(robot_pb2.RobotConfig.DESCRIPTOR.fields_by_name)


def test_the_sdks_reading_of_the_proto_is_the_same() -> None:
    sdk = pytest.importorskip("viam.gen.app.v1.robot_pb2", reason="needs the viam-sdk test dependency")
    proto = _full_proto()
    theirs = sdk.RobotConfig.FromString(proto.SerializeToString())
    assert json_format.MessageToDict(theirs) == json_format.MessageToDict(proto)
    assert theirs.SerializeToString(deterministic=True) == proto.SerializeToString(deterministic=True)


def test_fields_with_no_json_form_are_reported() -> None:
    proto = robot_pb2.RobotConfig()
    component = proto.components.add(name="m", api="rdk:component:generic", model="x:y:z")
    component.frame.geometry.mesh.content_type = "ply"
    proto.remotes.add(name="r", address="h:1").auth.credentials.type = robot_pb2.CREDENTIALS_TYPE_INTERNAL
    dropped: list[str] = []
    config = proto_to_config(proto, dropped=dropped)
    assert dropped == ["remotes[0].auth.credentials.type", "components[0].frame.geometry"]
    assert "geometry" not in config["components"][0]["frame"]


# --- keys the proto cannot carry ------------------------------------------------------------

def test_keys_the_proto_cannot_carry_are_reported_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    config = copy.deepcopy(FULL)
    config["agent"] = {"version": "1"}
    config["cloud"]["app_address"] = "https://127.0.0.1:8443"
    config["cloud"]["refresh_interval"] = "10s"
    config["auth"]["token_lifetime"] = "1h"
    config["components"][0]["notes"] = "hand-written"
    config["components"][0]["frame"]["geometry"]["colour"] = "red"
    dropped: list[str] = []
    proto = config_to_proto(config, dropped=dropped)
    assert sorted(dropped) == sorted(["agent", "cloud.app_address", "cloud.refresh_interval", "auth.token_lifetime",
                                      "components[0].notes", "components[0].frame.geometry.colour"])
    assert proto_to_config(proto) == FULL  # everything else arrived
    with caplog.at_level(logging.WARNING, logger="viamlite.app.robotconfig"):
        config_to_proto(config)
    assert "cloud.app_address" in caplog.text and "auth.token_lifetime" in caplog.text


def test_null_values_mean_not_set() -> None:
    proto = config_to_proto({"components": [{"name": "a", "api": "rdk:component:generic", "model": "fake",
                                             "frame": None, "attributes": None}], "network": None})
    assert not proto.components[0].HasField("frame") and not proto.HasField("network")


# --- bad input ------------------------------------------------------------------------------

BAD = [
    ([], "(top level)", "expected an object"),
    ({"components": {"name": "x"}}, "components", "expected a list"),
    ({"components": ["servo1"]}, "components[0]", "expected an object"),
    ({"components": [{"name": 5, "api": "rdk:component:servo"}]}, "components[0].name", "expected a string"),
    ({"components": [{"name": "a", "api": "rdk:component:servo", "attributes": [1]}]},
     "components[0].attributes", "expected an object"),
    ({"components": [{"name": "a", "model": "fake"}]}, "components[0].api", "names no API"),
    ({"components": [{"name": "a", "api": "rdk:component:servo", "attributes": {"big": 2**60}}]},
     "components[0].attributes.big", "too large"),
    ({"components": [{"name": "a", "api": "rdk:component:servo", "attributes": {"n": math.nan}}]},
     "components[0].attributes.n", "not a number"),
    ({"components": [{"name": "a", "api": "rdk:component:servo", "attributes": {"b": b"raw"}}]},
     "components[0].attributes.b", "not a JSON value"),
    ({"components": [{"name": "a", "api": "rdk:component:servo", "depends_on": ["b", 3]}]},
     "components[0].depends_on[1]", "expected a string"),
    ({"components": [{"name": "a", "api": "rdk:component:servo",
                      "frame": {"orientation": {"type": "sideways"}}}]},
     "components[0].frame.orientation.type", "unknown orientation type"),
    ({"components": [{"name": "a", "api": "rdk:component:servo",
                      "frame": {"orientation": {"type": "ov_degrees", "value": {"q": 1}}}}]},
     "components[0].frame.orientation.value.q", "unknown key"),
    ({"components": [{"name": "a", "api": "rdk:component:servo", "frame": {"geometry": {"type": "cone"}}}]},
     "components[0].frame.geometry.type", "unknown geometry type"),
    ({"components": [{"name": "a", "api": "rdk:component:servo", "frame": {"translation": {"x": "1"}}}]},
     "components[0].frame.translation.x", "expected a number"),
    ({"remotes": [{"name": "r", "address": "h:1", "reconnect_interval": "10 s"}]},
     "remotes[0].reconnect_interval", "not a duration"),
    ({"remotes": [{"name": "r", "address": "h:1", "reconnect_interval": 10}]},
     "remotes[0].reconnect_interval", "expected a duration string"),
    ({"remotes": [{"name": "r", "auth": {"credentials": {"type": "password", "payload": "x"}}}]},
     "remotes[0].auth.credentials.type", "not one the app API carries"),
    ({"remotes": [{"name": "r", "insecure": "yes"}]}, "remotes[0].insecure", "expected true or false"),
    ({"modules": [{"name": "m", "env": {"A": 1}}]}, "modules[0].env.A", "expected a string"),
    ({"processes": [{"id": "p", "stop_signal": 2**40}]}, "processes[0].stop_signal", "out of range"),
    ({"network": {"sessions": {"heartbeat_window": "soon"}}}, "network.sessions.heartbeat_window", "not a duration"),
    ({"auth": {"handlers": [{"type": "oauth", "config": {}}]}}, "auth.handlers[0].type", "not one the app API carries"),
    ({"maintenance": {"sensor_name": "door"}}, "maintenance.sensor_name", "not a resource name"),
    ({"debug": 1}, "debug", "expected true or false"),
]


@pytest.mark.parametrize(("config", "path", "problem"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_input_names_the_field_and_the_fix(config: Any, path: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_to_proto(config, dropped=[])
    assert caught.value.path == path
    assert problem in caught.value.problem
    assert caught.value.fix


# --- one resource, as modules need it -------------------------------------------------------

def test_a_component_for_a_module_has_its_api_model_and_attributes() -> None:
    sdk = pytest.importorskip("viam.gen.app.v1.robot_pb2", reason="needs the viam-sdk test dependency")
    from viam.utils import struct_to_dict

    entry = {"name": "s1", "type": "sensor", "model": "acme:sensor:mine", "attributes": {"pin": 7, "scale": 0.25},
             "depends_on": ["board1"], "log_configuration": {"level": "debug"}}
    proto = component_to_proto(entry)
    theirs = sdk.ComponentConfig.FromString(proto.SerializeToString())
    assert (theirs.name, theirs.api, theirs.model) == ("s1", "rdk:component:sensor", "acme:sensor:mine")
    assert struct_to_dict(theirs.attributes) == {"pin": 7, "scale": 0.25}
    assert list(theirs.depends_on) == ["board1"] and theirs.log_configuration.level == "debug"
    assert component_from_proto(proto) == {**entry, "api": "rdk:component:sensor"}


def test_a_service_converts_both_ways_and_has_no_frame() -> None:
    entry = {"name": "svc", "api": "rdk:service:generic", "model": "acme:gen:x", "attributes": {}}
    assert service_from_proto(service_to_proto(entry)) == entry
    dropped: list[str] = []
    service_to_proto({**entry, "frame": {"parent": "world"}}, dropped=dropped)
    assert dropped == ["service.frame"]
    with pytest.raises(ConfigError, match="services"):
        service_to_proto({"name": "svc", "model": "x"}, path="services[3]")


# --- durations ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "ns", "go"), [
    ("10s", 10_000_000_000, "10s"), ("1.5s", 1_500_000_000, "1.5s"), ("90s", 90_000_000_000, "1m30s"),
    ("1h", 3_600_000_000_000, "1h0m0s"), ("2h45m", 9_900_000_000_000, "2h45m0s"), ("250ms", 250_000_000, "250ms"),
    ("1.5us", 1_500, "1.5µs"), ("1.5µs", 1_500, "1.5µs"), ("100ns", 100, "100ns"), ("0", 0, "0s"),
    ("-2s", -2_000_000_000, "-2s"), (".5s", 500_000_000, "500ms"),
    ("1h2m3.004005006s", 3_723_004_005_006, "1h2m3.004005006s"),
])
def test_go_durations_parse_and_print_as_go_does(text: str, ns: int, go: str) -> None:
    assert durations.parse_ns(text) == ns
    assert durations.format_ns(ns) == go
    message = robot_pb2.SessionsConfig().heartbeat_window
    assert durations.from_proto(durations.to_proto(text, message)) == go


@pytest.mark.parametrize("text", ["", "s", "10", "1x", "1.5", "--1s", "1s ", "9999999999h"])
def test_malformed_durations_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="duration"):
        durations.parse_ns(text, "network.sessions.heartbeat_window")


# --- logs -----------------------------------------------------------------------------------

def _record(level: int = logging.WARNING, **extra: Any) -> logging.LogRecord:
    record = logging.getLogger("rdk.resource_manager").makeRecord(
        "rdk.resource_manager", level, "/src/manager.py", 42, "motor %s stalled", ("m1",), None, func="step")
    record.__dict__.update(extra)
    return record


def test_a_record_becomes_an_entry_the_sdk_reads() -> None:
    sdk = pytest.importorskip("viam.gen.common.v1.common_pb2", reason="needs the viam-sdk test dependency")
    from viam.app.app_client import LogEntry as SdkLogEntry

    entry = record_to_entry(_record(), host="pi4")
    assert (entry.level, entry.logger_name, entry.message, entry.host) == ("warn", "rdk.resource_manager",
                                                                           "motor m1 stalled", "pi4")
    theirs = SdkLogEntry.from_proto(sdk.LogEntry.FromString(entry.SerializeToString()))
    assert theirs.caller is not None and theirs.caller["File"] == "/src/manager.py" and int(theirs.caller["Line"]) == 42
    assert abs(entry_time(entry).timestamp() - _record().created) < 60


@pytest.mark.parametrize(("level", "name"), [(logging.DEBUG, "debug"), (5, "debug"), (logging.INFO, "info"),
                                             (logging.WARNING, "warn"), (logging.ERROR, "error"),
                                             (logging.CRITICAL, "error")])
def test_levels_are_named_as_viam_names_them(level: int, name: str) -> None:
    assert level_name(level) == name
    assert record_to_entry(_record(level)).level == name


@pytest.mark.parametrize(("name", "level"), [("debug", logging.DEBUG), ("INFO", logging.INFO), ("warn", logging.WARNING),
                                             ("WARNING", logging.WARNING), ("error", logging.ERROR),
                                             ("fatal", logging.CRITICAL), ("panic", logging.CRITICAL),
                                             ("nonsense", logging.INFO)])
def test_level_names_of_go_and_python_are_read(name: str, level: int) -> None:
    assert level_number(name) == level


def test_an_entry_becomes_a_record_and_back_unchanged() -> None:
    entry = record_to_entry(_record(), host="pi4")
    entry.stack = "Traceback (most recent call last):\n  boom"
    entry.fields.add().update({"motor": "m1", "rpm": 3})
    record = entry_to_record(entry)
    assert (record.name, record.levelno, record.getMessage()) == ("rdk.resource_manager", logging.WARNING, "motor m1 stalled")
    assert (record.pathname, record.filename, record.lineno, record.funcName) == ("/src/manager.py", "manager.py", 42, "step")
    assert record.host == "pi4" and record.fields == [{"motor": "m1", "rpm": 3}]
    assert "boom" in logging.Formatter().format(record)
    assert record_to_entry(record) == entry


def test_an_exception_travels_as_the_stack() -> None:
    try:
        raise RuntimeError("gearbox jammed")
    except RuntimeError:
        record = _record(logging.ERROR, exc_info=sys.exc_info())
    entry = record_to_entry(record)
    assert "RuntimeError: gearbox jammed" in entry.stack and entry.level == "error"


def test_a_clients_log_entry_goes_out_under_its_own_name() -> None:
    """viamlite's machine API logs a client's RobotService.Log entries as "[name] message"."""
    record = logging.getLogger(CLIENT_LOG).makeRecord(CLIENT_LOG, logging.INFO, "/x.py", 1, "[%s] %s",
                                                      ("rdk:component:sensor/s1", "main.py:12\treading"), None)
    entry = record_to_entry(record)
    assert (entry.logger_name, entry.message) == ("rdk:component:sensor/s1", "main.py:12\treading")


def test_an_entry_without_caller_or_time_still_becomes_a_record() -> None:
    from viamlite.app.logs import LogEntry

    record = entry_to_record(LogEntry(level="", message="bare"))
    assert (record.levelno, record.getMessage(), record.lineno, record.created) == (logging.INFO, "bare", 0, 0.0)


def test_record_fields_that_json_cannot_carry_travel_as_text() -> None:
    entry = record_to_entry(_record(fields=[{"ok": 1}, {"raw": b"\x00"}]))
    assert [dict(f) for f in (entry_to_record(entry).fields)] == [{"ok": 1}, {"value": repr({"raw": b"\x00"})}]
