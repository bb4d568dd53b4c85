"""Config parsing: the viam-server JSON format, and errors that name file, path and fix."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from viamlite.config import load_config, parse_config, parse_duration
from viamlite.errors import ConfigError
from viamlite.names import API, Model

VIAM_SERVER_CONFIG = {
    "components": [
        {"name": "servo1", "namespace": "rdk", "type": "servo", "model": "fake", "attributes": {},
         "depends_on": []},
        {"name": "motor1", "api": "rdk:component:motor", "model": "rdk:builtin:fake",
         "attributes": {"max_rpm": 50}, "depends_on": ["servo1"],
         "frame": {"parent": "world", "translation": {"x": 1, "y": 2, "z": 3},
                   "orientation": {"type": "ov_degrees", "value": {"x": 0, "y": 0, "z": 1, "th": 45}}}},
    ],
    "services": [],
    "remotes": [{"name": "arm-part", "address": "arm.local:8080", "prefix": "arm-",
                 "auth": {"entity": "key-id", "credentials": {"type": "api-key", "payload": "secret"}},
                 "reconnect_interval": "5s"}],
    "network": {"bind_address": "0.0.0.0:9090", "sessions": {"heartbeat_window": "500ms"}},
    "auth": {"handlers": []},
    "packages": [], "modules": [], "cloud": {"id": "part-id"},
}


def test_viam_server_config_parses() -> None:
    cfg = parse_config(VIAM_SERVER_CONFIG)
    servo, motor = cfg.components
    assert servo.api == API("rdk", "component", "servo")
    assert servo.model == Model("rdk", "builtin", "fake")
    assert motor.depends_on == ("servo1",)
    assert motor.attributes["max_rpm"] == 50
    assert motor.frame is not None and motor.frame.translation == (1, 2, 3)
    assert cfg.network.bind_address == "0.0.0.0:9090"
    assert cfg.network.heartbeat_window == pytest.approx(0.5)
    remote = cfg.remotes[0]
    assert (remote.prefix, remote.auth_entity, remote.reconnect_interval) == ("arm-", "key-id", 5.0)
    assert remote.connection_check_interval == 10.0
    assert "secret" not in repr(remote)


def test_service_model_defaults_to_builtin() -> None:
    cfg = parse_config({"services": [{"name": "data_manager-1", "type": "data_manager", "attributes": {}}]})
    assert cfg.services[0].model == Model("rdk", "builtin", "builtin")
    assert cfg.services[0].api == API("rdk", "service", "data_manager")


def test_attributes_are_read_only() -> None:
    cfg = parse_config(VIAM_SERVER_CONFIG)
    with pytest.raises(TypeError):
        cfg.components[1].attributes["max_rpm"] = 1  # type: ignore[index]


@pytest.mark.parametrize("text,seconds", [("2s", 2), ("100ms", 0.1), ("1m30s", 90), ("1.5h", 5400), ("250us", 0.00025)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "x") == pytest.approx(seconds)


@pytest.mark.parametrize(
    "config,path,words",
    [
        ({"components": {}}, "components", "list"),
        ({"components": [{"api": "rdk:component:servo", "model": "fake"}]}, "components[0].name", "no name"),
        ({"components": [{"name": "a b", "api": "rdk:component:servo", "model": "fake"}]}, "components[0].name", "not allowed"),
        ({"components": [{"name": "s", "model": "fake"}]}, "components[0].api", "names no API"),
        ({"components": [{"name": "s", "api": "servo", "model": "fake"}]}, "components[0].api", "three"),
        ({"components": [{"name": "s", "api": "rdk:service:motion", "model": "fake"}]}, "components[0].api", "not a component"),
        ({"components": [{"name": "s", "type": "servo"}]}, "components[0].model", "no model"),
        ({"components": [{"name": "s", "type": "servo", "model": "fake", "attributes": []}]}, "components[0].attributes", "object"),
        ({"components": [{"name": "s", "type": "servo", "model": "fake", "depends_on": ["m"]}]}, "components[0].depends_on[0]", "not in the config"),
        ({"components": [{"name": "s", "type": "servo", "model": "fake"}, {"name": "s", "type": "motor", "model": "fake"}]},
         "components[1].name", "already used"),
        ({"components": [{"name": "s", "type": "servo", "model": "fake",
                          "frame": {"orientation": {"type": "ov_deg", "value": {}}}}]}, "components[0].frame.orientation", "ov_deg"),
        ({"components": [{"name": "s", "type": "servo", "model": "fake",
                          "frame": {"translation": {"x": "1"}}}]}, "components[0].frame.translation.x", "number"),
        ({"network": {"bind_address": "localhost"}}, "network.bind_address", "host:port"),
        ({"network": {"sessions": {"heartbeat_window": "5ms"}}}, "network.sessions.heartbeat_window", "out of range"),
        ({"network": {"sessions": {"heartbeat_window": "soon"}}}, "network.sessions.heartbeat_window", "not a duration"),
        ({"remotes": [{"name": "r"}]}, "remotes[0].address", "no address"),
        ({"components": [{"name": "s", "type": "servo", "model": "fake",
                          "frame": {"geometry": {"type": "box", "x": 1, "y": 1, "z": 1, "translation": {"x": "ten"}}}}]},
         "components[0].frame.geometry.translation.x", "number"),
        ({"components": [{"name": "s", "type": "servo", "model": "fake",
                          "frame": {"geometry": {"type": "sphere", "r": 1, "orientation": {"type": "spin"}}}}]},
         "components[0].frame.geometry.orientation", "spin"),
        ({"components": [{"name": "s", "type": "servo", "model": "fake", "frame": {"parent": "arm"}}]},
         "components[0].frame.parent", "not a frame"),
        ({"components": [{"name": "a", "type": "servo", "model": "fake", "frame": {"parent": "b"}},
                         {"name": "b", "type": "servo", "model": "fake", "frame": {"parent": "a"}}]},
         "components[0].frame.parent", "loop"),
        ({"auth": {"handlers": [{"type": "web-oauth", "config": {}}]}}, "auth.handlers[0].type", "not supported"),
        ({"auth": {"handlers": [{"type": "api-key", "config": {"keys": ["id"]}}]}}, "auth.handlers[0].config.id",
         "has no key"),
        ({"auth": {"handlers": [{"type": "api-key", "config": {"keys": []}}]}}, "auth.handlers[0].config.keys",
         "lists no keys"),
        ({"auth": {"handlers": [{"type": "api-key", "config": {"keys": ["id"], "id": "k"}}], "token_lifetime": "1ms"}},
         "auth.token_lifetime", "too short"),
    ],
)
def test_errors_name_path_and_fix(config: dict, path: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(config)
    err = info.value
    assert err.path == path
    assert words in err.problem
    assert err.fix, "every config error says how to fix it"
    assert "\n" not in str(err)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"components": [ }')
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert str(bad) in str(info.value) and "line 1" in str(info.value)
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"components": [{"name": "s", "type": "servo"}]}))
    with pytest.raises(ConfigError) as info:
        load_config(wrong)
    assert str(info.value).startswith(f"{wrong}: components[0].model:")
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.json")


@pytest.mark.parametrize("entries, path, words", [
    ([{"name": "a0", "pin": 14}, {"name": "a0", "pin": 15}], "analogs[1].name", "'a0' is named twice"),
    (["a0"], "analogs[0]", "must be an object"),
    ([{"pin": 14}], "analogs[0].name", "needs a name"),
])
def test_named_objects_say_which_entry_is_wrong(entries: list, path: str, words: str) -> None:
    from viamlite.attributes import Attributes

    attrs = Attributes({"analogs": entries})
    with pytest.raises(ConfigError, match=words) as err:
        attrs.named_objects("analogs", "analog reader", '{"name": "a0", "pin": "14"}')
    assert path in str(err.value)
    assert [n for n, _ in Attributes({"analogs": [{"name": "x"}, {"name": "y"}]}).named_objects(
        "analogs", "analog reader", "{}")] == ["x", "y"]
