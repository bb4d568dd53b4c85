"""Narrow behaviours of the fleet member, each against an in-test gRPC server standing in for
the fleet's RobotService (the whole member against the real fleet is tests/test_cloud_member_e2e.py):
log batches and their bound, the queue's overflow, retries and re-authentication, the
cache, the part's address, and a config that turns API keys on."""
from __future__ import annotations

import hashlib
import json
import logging
import stat
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest

from viamlite.config import parse_config
from viamlite.gen import auth_pb2
from viamlite.gen.app import robot_pb2
from viamlite.reconnect import Backoff
from viamlite_plugins.cloud.member.agent import part_address
from viamlite_plugins.cloud.member.cache import ConfigCache
from viamlite_plugins.cloud.member.configsync import ConfigSync
from viamlite_plugins.cloud.member.link import ADDRESS_HEADER, FleetLink
from viamlite_plugins.cloud.member.logsync import LogQueue, LogSender

PART = "part-1"


class FakeFleet:
    """AuthService and RobotService as a fleet answers them, with switches for failures."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: list[list[str]] = []
        self.metadata: list[dict[str, str]] = []
        self.authentications: list[tuple[str, str, str]] = []
        self.down = False  # answer UNAVAILABLE
        self.max_batch = 100  # INVALID_ARGUMENT beyond
        self.expire_next = 0  # answer UNAUTHENTICATED this many times
        self.hang = threading.Event()  # while set, Log calls wait (a fleet that stopped answering)
        self.release = threading.Event()
        self.config = robot_pb2.RobotConfig()
        self.tokens: set[str] = set()
        self.server = grpc.server(futures.ThreadPoolExecutor(4))
        self.server.add_generic_rpc_handlers([
            grpc.method_handlers_generic_handler("proto.rpc.v1.AuthService", {
                "Authenticate": grpc.unary_unary_rpc_method_handler(
                    self._authenticate, request_deserializer=auth_pb2.AuthenticateRequest.FromString,
                    response_serializer=auth_pb2.AuthenticateResponse.SerializeToString)}),
            grpc.method_handlers_generic_handler("viam.app.v1.RobotService", {
                "Log": grpc.unary_unary_rpc_method_handler(
                    self._log, request_deserializer=robot_pb2.LogRequest.FromString,
                    response_serializer=robot_pb2.LogResponse.SerializeToString),
                "Config": grpc.unary_unary_rpc_method_handler(
                    self._config, request_deserializer=robot_pb2.ConfigRequest.FromString,
                    response_serializer=robot_pb2.ConfigResponse.SerializeToString)}),
        ])
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()

    def _authenticate(self, request: Any, context: grpc.ServicerContext) -> Any:
        if self.down:
            context.abort(grpc.StatusCode.UNAVAILABLE, "down")
        with self.lock:
            self.authentications.append((request.entity, request.credentials.type, request.credentials.payload))
            token = f"token-{len(self.authentications)}"
            self.tokens.add(token)
        if request.credentials.payload != "s3cret":
            context.abort(grpc.StatusCode.PERMISSION_DENIED, "wrong secret")
        return auth_pb2.AuthenticateResponse(access_token=token)

    def _check(self, context: grpc.ServicerContext) -> None:
        if self.down:
            context.abort(grpc.StatusCode.UNAVAILABLE, "down")
        meta = dict(context.invocation_metadata())
        with self.lock:
            self.metadata.append(meta)
            if self.expire_next:
                self.expire_next -= 1
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "token expired")
        if meta.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "no token")

    def _log(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._check(context)
        if self.hang.is_set():
            self.release.wait(10)
        if len(request.logs) > self.max_batch:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"logs: at most {self.max_batch} entries")
        with self.lock:
            self.batches.append([entry.message for entry in request.logs])
        return robot_pb2.LogResponse()

    def _config(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._check(context)
        return robot_pb2.ConfigResponse(config=self.config)

    def messages(self) -> list[str]:
        with self.lock:
            return [m for batch in self.batches for m in batch]

    def stop(self) -> None:
        self.server.stop(0)


@pytest.fixture
def fleet() -> Any:
    server = FakeFleet()
    yield server
    server.stop()


def _cloud(fleet: FakeFleet, secret: str = "s3cret") -> Any:
    config = parse_config({"cloud": {"id": PART, "secret": secret, "app_address": f"http://127.0.0.1:{fleet.port}"}})
    return config


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("unit", logging.INFO, __file__, 1, message, None, None)


def _fill(queue: LogQueue, count: int, prefix: str = "line") -> None:
    for i in range(count):
        queue.handle(_record(f"{prefix} {i:04d}"))


def _sender(fleet: FakeFleet, queue: LogQueue) -> tuple[LogSender, FleetLink]:
    link = FleetLink(_cloud(fleet).cloud)
    link.part_address = "127.0.0.1:8080"
    return LogSender(link, PART, queue, backoff=Backoff(0.01, 0.01, factor=1, at_once=False)), link


@pytest.fixture
def queue() -> Any:
    """A LogQueue that also gets the member's own records (as on the root logger in serve)."""
    made = LogQueue()
    logger = logging.getLogger("viamlite.cloud.logs")
    level = logger.level
    logger.addHandler(made)
    logger.setLevel(logging.INFO)
    yield made
    logger.removeHandler(made)
    logger.setLevel(level)


def _drain(sender: LogSender, rounds: int = 100) -> None:
    for _ in range(rounds):
        if not len(sender.queue):
            return
        sender.send_once()


def test_logs_go_in_batches_of_at_most_100_with_the_parts_credentials_and_address(fleet: FakeFleet) -> None:
    queue = LogQueue()
    _fill(queue, 250)
    sender, link = _sender(fleet, queue)
    _drain(sender)
    assert [len(b) for b in fleet.batches] == [100, 100, 50]
    assert fleet.messages() == [f"line {i:04d}" for i in range(250)]
    assert fleet.authentications == [(PART, "robot-secret", "s3cret")]
    assert all(meta[ADDRESS_HEADER] == "127.0.0.1:8080" for meta in fleet.metadata)
    link.close()


def test_while_the_fleet_is_down_records_stay_queued_and_none_is_lost_or_repeated(fleet: FakeFleet,
                                                                                   queue: LogQueue) -> None:
    _fill(queue, 120, "before")
    sender, link = _sender(fleet, queue)
    fleet.down = True
    for _ in range(3):
        assert sender.send_once() > 0  # a pause before the next attempt
    _fill(queue, 80, "during")
    assert fleet.batches == [] and len(queue) >= 200
    fleet.down = False
    _drain(sender)
    sent = fleet.messages()
    assert [m for m in sent if m.startswith(("before", "during"))] == (
        [f"before {i:04d}" for i in range(120)] + [f"during {i:04d}" for i in range(80)])
    assert any(m.startswith("logs are kept here") for m in sent)  # the outage is reported, once
    assert sum(m.startswith("logs are kept here") for m in sent) == 1
    assert any(m.startswith("the fleet is reachable again") for m in sent)
    link.close()


def test_overflow_drops_the_oldest_counts_them_and_says_so_in_a_warning(fleet: FakeFleet, queue: LogQueue) -> None:
    queue.capacity = 50
    _fill(queue, 80)
    assert queue.dropped == 30 and len(queue) == 50
    sender, link = _sender(fleet, queue)
    _drain(sender)
    sent = fleet.messages()
    assert [m for m in sent if m.startswith("line")] == [f"line {i:04d}" for i in range(30, 80)]
    warnings = [m for m in sent if m.startswith("Overflowed")]
    assert len(warnings) == 1 and warnings[0].startswith("Overflowed 30 logs")
    link.close()


def test_a_batch_put_back_into_a_full_queue_drops_its_oldest(fleet: FakeFleet) -> None:
    queue = LogQueue(capacity=10)
    _fill(queue, 10)
    batch = queue.take(4)
    _fill(queue, 3, "new")
    queue.put_back(batch)  # room for 1 of the 4: the newest of them stays
    assert queue.dropped == 3
    assert [r.getMessage() for r in queue.take(10)][:2] == ["line 0003", "line 0004"]


def test_a_batch_the_fleet_finds_too_large_is_sent_in_halves(fleet: FakeFleet) -> None:
    fleet.max_batch = 30
    queue = LogQueue()
    _fill(queue, 100)
    sender, link = _sender(fleet, queue)
    _drain(sender)
    assert fleet.messages() == [f"line {i:04d}" for i in range(100)]
    assert max(len(b) for b in fleet.batches) <= 30
    link.close()


def test_an_expired_token_is_renewed_once_and_the_call_retried(fleet: FakeFleet) -> None:
    queue = LogQueue()
    _fill(queue, 5)
    sender, link = _sender(fleet, queue)
    fleet.expire_next = 1
    _drain(sender)
    assert fleet.messages() == [f"line {i:04d}" for i in range(5)]
    assert len(fleet.authentications) == 2
    link.close()


def test_a_wrong_secret_at_start_with_no_cache_is_a_config_error_naming_the_cloud_block(
        fleet: FakeFleet, tmp_path: Path) -> None:
    from viamlite.errors import ConfigError

    local = _cloud(fleet, secret="wrong")
    sync = ConfigSync(FleetLink(local.cloud), local, ConfigCache(PART, tmp_path))
    with pytest.raises(ConfigError) as info:
        sync.initial()
    assert info.value.path == "cloud" and "refused part 'part-1' and its secret" in str(info.value)
    assert "cloud.secret" in str(info.value)


def _hash(key: str) -> str:
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def test_the_fleets_config_is_cached_0600_and_a_change_that_turns_keys_on_asks_for_a_restart(
        fleet: FakeFleet, tmp_path: Path) -> None:
    from google.protobuf import struct_pb2

    from viamlite.app.robotconfig import config_to_proto
    from viamlite.machine import Machine

    fleet.config = config_to_proto({"components": [
        {"name": "servo1", "api": "rdk:component:servo", "model": "rdk:builtin:fake"}]})
    local = _cloud(fleet)
    cache = ConfigCache(PART, tmp_path)
    sync = ConfigSync(FleetLink(local.cloud), local, cache)
    config = sync.initial()
    assert sync.started_from == "fleet" and [r.name for r in config.resources] == ["servo1"]
    assert config.cloud is not None and config.cloud.app_address == local.cloud.app_address
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert json.loads(cache.path.read_text())["components"][0]["name"] == "servo1"

    restarts: list[bool] = []
    with Machine(config) as machine:
        sync.start(machine, lambda: restarts.append(True))
        sync.stop()  # refreshed by hand below
        keys = struct_pb2.Struct()
        keys.update({"keys": ["k1"], "key_hashes": {"k1": _hash("the-key")}})
        with_keys = robot_pb2.RobotConfig()
        with_keys.CopyFrom(fleet.config)
        with_keys.auth.handlers.add(type=robot_pb2.CREDENTIALS_TYPE_API_KEY, config=keys)
        fleet.config = with_keys
        assert sync.refresh() is False and restarts == [True]
        cached = json.loads(cache.path.read_text())
        assert cached["auth"]["handlers"][0]["config"]["key_hashes"] == {"k1": _hash("the-key")}
        assert "the-key" not in cache.path.read_text()


def test_a_corrupt_cache_is_ignored_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = ConfigCache("p/1", tmp_path)
    assert cache.path.name == "cached_cloud_config_p_1.json"
    cache.path.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        assert cache.load() is None
    assert "is not JSON" in caplog.text


@pytest.mark.parametrize("host, ips, expected", [
    ("127.0.0.1", ["10.0.0.5"], "127.0.0.1:8080"),
    ("0.0.0.0", ["10.0.0.5", "10.0.0.6"], "10.0.0.5:8080"),
    ("", [], "127.0.0.1:8080"),
    ("::", ["fd00::5"], "[fd00::5]:8080"),
    ("localhost", [], "localhost:8080"),
])
def test_the_part_address_is_the_bound_host_or_for_a_wildcard_the_first_ip(host: str, ips: list[str],
                                                                           expected: str) -> None:
    assert part_address(host, 8080, ips) == expected


def test_the_plugin_answers_only_for_a_cloud_block() -> None:
    import viamlite_plugins.cloud as plugin

    assert plugin.viamlite_config_source(config=parse_config({"cloud": {"id": "p"}}), plugin_manager=None) is None


def test_closing_sends_what_is_queued_even_right_after_an_outage(fleet: FakeFleet, queue: LogQueue) -> None:
    _fill(queue, 150)
    sender, link = _sender(fleet, queue)
    fleet.down = True
    assert sender.send_once() > 0
    fleet.down = False  # back, but the sender has not tried again yet: a restart comes now
    sender.close()
    assert [m for m in fleet.messages() if m.startswith("line")] == [f"line {i:04d}" for i in range(150)]
    link.close()


def _serve(config: dict[str, Any], tmp_path: Path, **env: str) -> Any:
    import os
    import subprocess
    import sys

    path = tmp_path / "machine.json"
    path.write_text(json.dumps(config))
    return subprocess.run([sys.executable, "-m", "viamlite.cli", "serve", "--config", str(path), "--bind",
                           "127.0.0.1:0", "--no-fastpath"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "VIAMLITE_HOME": str(tmp_path / "home"), **env})


def test_serve_with_a_wrong_secret_and_no_cache_exits_2_naming_the_cloud_block(fleet: FakeFleet, tmp_path: Path) -> None:
    result = _serve({"cloud": {"id": PART, "secret": "wrong", "app_address": f"http://127.0.0.1:{fleet.port}"}},
                    tmp_path)
    assert result.returncode == 2, result.stderr
    assert "config error" in result.stderr and ": cloud: " in result.stderr and "refused part 'part-1'" in result.stderr


def test_serve_with_a_cloud_block_and_the_cloud_plugin_left_out_exits_2(tmp_path: Path) -> None:
    result = _serve({"cloud": {"id": PART, "secret": "s", "app_address": "http://127.0.0.1:9"}}, tmp_path,
                    VIAMLITE_PLUGINS="fake")
    assert result.returncode == 2
    assert "no plugin serves fleets" in result.stderr and "VIAMLITE_PLUGINS" in result.stderr


def test_logging_never_waits_for_a_fleet_that_stopped_answering(fleet: FakeFleet) -> None:
    queue = LogQueue(capacity=1000)
    sender, link = _sender(fleet, queue)
    sender.timeout = 10.0
    fleet.hang.set()
    _fill(queue, 10, "first")
    sender.start()
    deadline = threading.Event()
    while not fleet.metadata and not deadline.wait(0.01):  # the sender is now inside a call that hangs
        pass
    _fill(queue, 5000, "meanwhile")  # would hang here if a record waited for the sender
    assert len(queue) == 1000 and queue.dropped >= 4000
    fleet.hang.clear()
    fleet.release.set()
    sender.close()
    link.close()
