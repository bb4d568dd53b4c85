"""Remote parts without a network: config, wire rewriting, the name table, frames, live changes."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from viamlite.remotes import protowire
from viamlite.config import RemoteConfig, parse_config
from viamlite.errors import ConfigError
from viamlite.hookspecs import hookimpl
from viamlite.machine import Machine
from viamlite.names import API
from viamlite.plugins import build_plugin_manager
from viamlite.remotes import (
    ForwardOptions,
    LinkState,
    Reachability,
    RemoteFrame,
    RemoteLink,
    RemoteResource,
    service_matches,
)
from viamlite.spatial import Pose, Vector3

SERVO = API.component("servo")
SENSOR = API.component("sensor")
ARM = API.component("arm")


# -- config ------------------------------------------------------------------------


def remote(**extra: Any) -> dict[str, Any]:
    return {"name": "b", "address": "127.0.0.1:9", **extra}


def test_remote_config_reads_every_key() -> None:
    cfg = parse_config({"remotes": [remote(
        prefix="line-cam-3-", insecure=True, connection_check_interval="5s", reconnect_interval="250ms",
        auth={"entity": "key-id", "credentials": {"type": "api-key", "payload": "k3y"}},
        frame={"parent": "world", "translation": {"x": 1, "y": 2, "z": 3},
               "orientation": {"type": "ov_degrees", "value": {"x": 0, "y": 0, "z": 1, "th": 90}}})]}).remotes[0]
    assert (cfg.prefix, cfg.insecure, cfg.auth_entity, cfg.auth_payload) == ("line-cam-3-", True, "key-id", "k3y")
    assert (cfg.connection_check_interval, cfg.reconnect_interval) == (5.0, 0.25)
    assert cfg.frame is not None and cfg.frame.translation == (1.0, 2.0, 3.0)
    assert "k3y" not in repr(cfg)
    plain = parse_config({"remotes": [remote()]}).remotes[0]
    assert (plain.connection_check_interval, plain.reconnect_interval, plain.prefix) == (10.0, 1.0, "")


@pytest.mark.parametrize(("entry", "path", "fix"), [
    (remote(address="nowhere"), "remotes[0].address", "arm.local:8080"),
    (remote(reconnect_interval="soon"), "remotes[0].reconnect_interval", "unit"),
    (remote(connection_check_interval="0s"), "remotes[0].connection_check_interval", "10ms"),
    (remote(auth={"entity": "id", "credentials": {"type": "robot-secret", "payload": "x"}}),
     "remotes[0].auth.credentials.type", "api-key"),
    (remote(auth={"credentials": {"type": "api-key", "payload": "x"}}), "remotes[0].auth.entity", "entity"),
    (remote(auth={"entity": "id", "credentials": {"type": "api-key"}}), "remotes[0].auth.credentials.payload", "payload"),
    (remote(prefix="a b"), "remotes[0].prefix", "letters"),
    (remote(frame={"parent": "nowhere"}), "remotes[0].frame.parent", "world"),
])
def test_remote_config_errors_name_the_field_and_fix(entry: dict[str, Any], path: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"remotes": [entry]})
    assert info.value.path == path
    assert fix in info.value.fix


# -- the wire ----------------------------------------------------------------------


def test_name_field_is_read_and_rewritten_on_raw_bytes() -> None:
    from viamlite.gen import common_pb2, servo_pb2

    request = servo_pb2.MoveRequest(name="b-servo1", angle_deg=300)
    request.extra.update({"k": "v"})
    data = request.SerializeToString()
    assert protowire.read_string(data) == "b-servo1"
    renamed = servo_pb2.MoveRequest.FromString(protowire.replace_string(data, "servo1"))
    assert (renamed.name, renamed.angle_deg, renamed.extra["k"]) == ("servo1", 300, "v")
    empty = protowire.replace_string(common_pb2.GetGeometriesRequest().SerializeToString(), "x")
    assert common_pb2.GetGeometriesRequest.FromString(empty).name == "x"
    assert protowire.read_string(b"\x0a\x05ab") is None  # truncated: not a name
    assert protowire.read_string(servo_pb2.GetPositionResponse(position_deg=3).SerializeToString()) is None


def test_service_names_match_their_api() -> None:
    assert service_matches("viam.component.movementsensor.v1.MovementSensorService", API.component("movement_sensor"))
    assert service_matches("viam.component.arm.v1.ArmService", ARM)
    assert not service_matches("viam.component.arm.v1.ArmService", SERVO)


# -- the name table with links that need no network ------------------------------------


class FakeLink(RemoteLink):
    """A link whose lists a test sets; records what it forwarded."""

    def __init__(self, config: RemoteConfig) -> None:
        super().__init__(config)
        self.started = self.closed = False
        self.forwarded: list[tuple[str, bytes]] = []
        self.on_change: Callable[[], None] = lambda: None

    def set(self, resources: Sequence[RemoteResource], frames: Sequence[RemoteFrame] = (),
            state: LinkState = LinkState.CONNECTED, peer: str = "") -> None:
        self.resources, self.frames, self.state, self.peer_id = tuple(resources), tuple(frames), state, peer
        self.on_change()

    def start(self, on_change: Callable[[], None]) -> None:
        self.started, self.on_change = True, on_change

    def close(self) -> None:
        self.closed = True

    def unary(self, path: str, request: bytes, options: ForwardOptions) -> bytes:
        self.forwarded.append((path, request))
        return b""

    def stream(self, path: str, requests: bytes | Iterator[bytes], options: ForwardOptions) -> Iterator[bytes]:
        yield b""

    def stop_all(self, via: Sequence[str]) -> None:
        self.forwarded.append(("StopAll", ",".join(via).encode()))


class FakeLinks:
    def __init__(self) -> None:
        self.links: dict[str, FakeLink] = {}

    @hookimpl
    def viamlite_remote_link(self, config: RemoteConfig, machine_id: str) -> RemoteLink:
        self.links[config.name] = FakeLink(config)
        return self.links[config.name]


def machine_with(remotes: list[dict[str, Any]], components: list[dict[str, Any]] | None = None) -> tuple[Machine, FakeLinks]:
    links = FakeLinks()
    config = {"components": components or [{"name": "servo1", "api": "rdk:component:servo", "model": "fake"}],
              "remotes": remotes}
    return Machine.from_config(config, plugin_manager=build_plugin_manager(extra=[links])), links


def names(machine: Machine) -> set[tuple[str, str, tuple[str, ...]]]:
    return {(r.api.subtype, r.name, r.remote_path) for r in machine.remotes.routes()}


def test_prefix_is_prepended_and_local_names_shadow_remote_ones() -> None:
    machine, links = machine_with([remote(prefix="line-cam-3-"), {"name": "c", "address": "127.0.0.1:10"}])
    with machine:
        assert links.links["b"].started
        links.links["b"].set([RemoteResource(SERVO, "servo1"), RemoteResource(SENSOR, "camera")])
        links.links["c"].set([RemoteResource(SERVO, "servo1"), RemoteResource(SERVO, "servo2")])
        assert names(machine) == {("servo", "line-cam-3-servo1", ("b",)), ("sensor", "line-cam-3-camera", ("b",)),
                                  ("servo", "servo2", ("c",))}
        route = machine.remotes.lookup(SERVO, "line-cam-3-servo1")
        assert route is not None and route.remote_name == "servo1" and route.link is links.links["b"]
        assert machine.remotes.lookup(SERVO, "servo1") is None, "the local servo1 shadows c's"
        shadowed = [s for s in machine.remotes.statuses() if s.reachability is Reachability.SHADOWED_BY_LOCAL]
        assert [(s.name, s.remote) for s in shadowed] == [("servo1", "c")]


def test_same_name_on_two_remotes_is_left_out_with_a_warning_naming_prefix(caplog: pytest.LogCaptureFixture) -> None:
    machine, links = machine_with([remote(), {"name": "c", "address": "127.0.0.1:10"}])
    with machine, caplog.at_level(logging.WARNING, logger="viamlite.remotes"):
        links.links["b"].set([RemoteResource(SERVO, "arm-servo"), RemoteResource(SERVO, "only-b")])
        links.links["c"].set([RemoteResource(SERVO, "arm-servo")])
        assert names(machine) == {("servo", "only-b", ("b",))}
        assert "arm-servo" in caplog.text and '"prefix"' in caplog.text
        ambiguous = {(s.name, s.remote) for s in machine.remotes.statuses()
                     if s.reachability is Reachability.AMBIGUOUS_REMOTE}
        assert ambiguous == {("arm-servo", "b"), ("arm-servo", "c")}


def test_remotes_of_remotes_are_flattened_and_loops_cut() -> None:
    machine, links = machine_with([remote(prefix="b-")])
    with machine:
        me = machine.remotes.machine_id
        links.links["b"].set([
            RemoteResource(SERVO, "servo1", (), ("idB",)),
            RemoteResource(SERVO, "c-servo9", ("c",), ("idC", "idB")),
            RemoteResource(SERVO, "a-servo1", ("a",), (me, "idB")),  # our own, come back through b
        ], peer="idB")
        assert names(machine) == {("servo", "b-servo1", ("b",)), ("servo", "b-c-servo9", ("b", "c"))}
        assert machine.remotes.lookup(SERVO, "b-c-servo9").remote_name == "c-servo9"  # type: ignore[union-attr]


def test_disconnected_remote_keeps_its_resources_listed_as_unreachable() -> None:
    machine, links = machine_with([remote(prefix="b-")])
    with machine:
        links.links["b"].set([RemoteResource(SERVO, "servo1")])
        links.links["b"].error = "connection refused"
        links.links["b"].set([RemoteResource(SERVO, "servo1")], state=LinkState.DISCONNECTED)
        (status,) = machine.remotes.statuses()
        assert (status.name, status.remote, status.reachability) == ("b-servo1", "b", Reachability.REMOTE_DISCONNECTED)
        assert "127.0.0.1:9" in status.error and "connection refused" in status.error


def test_stop_all_skips_machines_already_on_the_way() -> None:
    machine, links = machine_with([remote(), {"name": "c", "address": "127.0.0.1:10"}])
    with machine:
        links.links["b"].set([], peer="idB")
        links.links["c"].set([], peer="idC")
        assert machine.remotes.stop_all(("idB",)) == []
        assert links.links["b"].forwarded == []
        assert links.links["c"].forwarded == [("StopAll", f"idB,{machine.remotes.machine_id}".encode())]


def test_frames_attach_at_world_or_under_the_remotes_world_with_prefixes() -> None:
    frame = {"parent": "servo1", "translation": {"x": 100, "y": 0, "z": 0}}
    components = [{"name": "servo1", "api": "rdk:component:servo", "model": "fake", "frame": {"parent": "world"}}]
    machine, links = machine_with([remote(prefix="b-", frame=frame), {"name": "c", "address": "127.0.0.1:10"}], components)
    with machine:
        links.links["b"].set([RemoteResource(SERVO, "arm"), RemoteResource(SERVO, "tip")], [
            RemoteFrame("arm", "world", Pose(Vector3(0, 10, 0))), RemoteFrame("tip", "arm", Pose(Vector3(0, 0, 5)))])
        links.links["c"].set([RemoteResource(SENSOR, "cam")], [RemoteFrame("cam", "world", Pose(Vector3(1, 1, 1)))])
        frames = {name: parent for name, parent, _, _ in machine.remotes.frames()}
        assert frames == {"b_world": "servo1", "b-arm": "b_world", "b-tip": "b-arm", "cam": "world"}
        tip = machine.frame_system().pose_in("b-tip", "world")
        assert (round(tip.point.x), round(tip.point.y), round(tip.point.z)) == (100, 10, 5)


def test_config_changes_to_remotes_apply_live() -> None:
    machine, links = machine_with([remote(prefix="b-")])
    with machine:
        first = links.links["b"]
        first.set([RemoteResource(SERVO, "servo1")])
        config = {"components": [{"name": "servo1", "api": "rdk:component:servo", "model": "fake"}]}
        machine.apply(parse_config({**config, "remotes": [remote(prefix="b-")]}))
        assert links.links["b"] is first and not first.closed, "an unchanged remote keeps its link"
        machine.apply(parse_config({**config, "remotes": [remote(prefix="new-")]}))
        assert first.closed and links.links["b"] is not first
        links.links["b"].set([RemoteResource(SERVO, "servo1")])
        assert names(machine) == {("servo", "new-servo1", ("b",))}
        machine.apply(parse_config(config))
        assert links.links["b"].closed and names(machine) == set()


def test_no_link_plugin_is_a_config_error() -> None:
    pm = build_plugin_manager(env={"VIAMLITE_PLUGINS": "fake"})
    with pytest.raises(ConfigError, match="no installed plugin") as info:
        Machine.from_config({"remotes": [remote()]}, plugin_manager=pm)
    assert info.value.path == "remotes[0]"


def test_an_expired_session_stops_the_remote_actuators_it_moved() -> None:
    import time

    from viamlite.gen import servo_pb2

    links = FakeLinks()
    config = {"remotes": [remote(prefix="b-")], "network": {"sessions": {"heartbeat_window": "50ms"}}}
    with Machine.from_config(config, plugin_manager=build_plugin_manager(extra=[links])) as machine:
        links.links["b"].set([RemoteResource(SERVO, "servo1")])
        session = machine.sessions.start()
        machine.sessions.track(session.id, (SERVO, "b-servo1"))
        deadline = time.monotonic() + 3
        while not links.links["b"].forwarded and time.monotonic() < deadline:
            time.sleep(0.02)
        ((path, data),) = links.links["b"].forwarded
        assert path == "/viam.component.servo.v1.ServoService/Stop"
        assert servo_pb2.StopRequest.FromString(data).name == "servo1"


class _SessionCall:
    """A call carrying a session id, as the gRPC transport would hand it to the router."""

    def __init__(self, sid: str) -> None:
        self.sid = sid

    def metadata(self) -> list[tuple[str, str]]:
        return [("viam-sid", self.sid)]

    def add_done_callback(self, callback: Any) -> None:
        pass

    def is_active(self) -> bool:
        return True

    def time_remaining(self) -> None:
        return None


def test_relayed_calls_of_apis_without_an_adapter_join_their_session() -> None:
    from viamlite.adapters.session import join_session
    from viamlite.remotes.forward import RemoteRouter
    from viamlite.rpc import Code, RpcError

    arm = API.component("arm")
    links = FakeLinks()
    config = {"remotes": [remote(prefix="b-")], "network": {"sessions": {"heartbeat_window": "10s"}}}
    with Machine.from_config(config, plugin_manager=build_plugin_manager(extra=[links])) as machine:
        links.links["b"].set([RemoteResource(arm, "arm1")])
        router = RemoteRouter(machine, join_session)
        session = machine.sessions.start()
        path = "/viam.component.arm.v1.ArmService/MoveToPosition"
        relay = router(path, protowire.replace_string(b"", "b-arm1", 1), _SessionCall(session.id))
        assert relay is not None
        assert list(session.moved) == [(arm, "b-arm1")]  # an expired session will stop it there
        with pytest.raises(RpcError) as info:
            router(path, protowire.replace_string(b"", "b-arm1", 1), _SessionCall("expired-or-unknown"))
        assert (info.value.code, info.value.message) == (Code.INVALID_ARGUMENT, "SESSION_EXPIRED")
