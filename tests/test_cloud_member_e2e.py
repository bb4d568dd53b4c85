"""End to end: ``viamlite serve`` with a ``cloud`` block is a member of a real ``viamlite
fleet serve`` (another process, on SQLite and on PostgreSQL), driven by the official viam-sdk:
it comes online, runs the config the fleet gives it, applies edits live, is moved through a
fleet-issued key, sends its logs, keeps them while the fleet is down, starts from its cached
config when the fleet is unreachable, and restarts when the fleet asks."""
from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fleetpeer import FleetProcess, Owner, fleet_init
from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
_BANNER = re.compile(r"^viamlite serving .* on 127\.0\.0\.1:(\d+) \(gRPC, ([^)]*)\), pid (\d+)")
SERVO = {"name": "servo1", "api": "rdk:component:servo", "model": "rdk:builtin:fake"}
SENSOR = {"name": "sensor1", "api": "rdk:component:sensor", "model": "rdk:builtin:fake"}
ONLINE = 1  # viam.app.v1.RobotPart.online_state
#: Each scenario runs two or three real processes through restarts: more than the suite's default.
pytestmark = pytest.mark.timeout(300)


class Member:
    """``viamlite serve --config PATH`` as a subprocess; its output read as it comes."""

    def __init__(self, config: Path, home: Path, extra: tuple[str, ...] = ()) -> None:
        env = {**os.environ, "VIAMLITE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "viamlite.cli", "serve", "--config", str(config), "--bind", "127.0.0.1:0",
             "--no-fastpath", *extra], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self.lines.append("<exited>")
            self._changed.notify_all()

    def wait_line(self, pattern: str, *, after: int = 0, timeout: float = 30) -> tuple[int, re.Match[str]]:
        """The first output line from index ``after`` matching ``pattern``: (index, match)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for i in range(after, len(self.lines)):
                    match = regex.search(self.lines[i])
                    if match:
                        return i, match
                    if self.lines[i] == "<exited>":
                        raise AssertionError(f"viamlite serve exited ({self.proc.poll()}) before {pattern!r}:\n"
                                             + self.output())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n" + self.output())
                self._changed.wait(left)

    def banner(self, after: int = 0) -> tuple[int, int, str]:
        """(line index, port, mode) of the serving banner."""
        i, match = self.wait_line(_BANNER.pattern, after=after)
        return i, int(match.group(1)), match.group(2)

    def output(self) -> str:
        return "\n".join(self.lines[-80:])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)


async def eventually(what: str, check: Callable[[], Awaitable[Any]], timeout: float = 20) -> Any:
    """Poll ``check`` until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = await check()
        except Exception as exc:  # not there yet (a machine restarting, a fleet coming back)
            last = exc
        if last and not isinstance(last, Exception):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")
        await asyncio.sleep(0.2)


async def app_client(fleet: FleetProcess, owner: Owner) -> Any:
    from viam.app.viam_client import ViamClient
    from viam.rpc.dial import DialOptions

    options = DialOptions.with_api_key(owner.api_key, owner.api_key_id)
    options.insecure = not fleet.tls
    options.disable_webrtc = True
    return await ViamClient.create_from_dial_options(options, app_url=fleet.address)


async def robot_at(address: str, key_id: str, key: str) -> Any:
    """The viam-sdk's RobotClient on the part itself, with a fleet-issued key."""
    from viam.robot.client import RobotClient

    options = RobotClient.Options.with_api_key(api_key=key, api_key_id=key_id)
    options.dial_options.disable_webrtc = True
    options.refresh_interval = 0
    return await RobotClient.at_address(address, options)


async def raw_part(app: Any, part_id: str) -> Any:
    """The RobotPart message itself (the SDK's RobotPart leaves out online_state)."""
    from viam.proto.app import GetRobotPartRequest

    return (await app._app_client.GetRobotPart(GetRobotPartRequest(id=part_id), metadata=app._metadata)).part


async def logs_matching(app: Any, part_id: str, text: str, count: int = 1000) -> list[Any]:
    return await app.get_robot_part_logs(part_id, filter=text, num_log_entries=count)


def part_run(port: int, key_id: str, key: str, data: dict[str, Any], method: str) -> subprocess.CompletedProcess:
    """``viamlite machines part run`` against the part, with an API key."""
    return subprocess.run([sys.executable, "-m", "viamlite.cli", "machines", "part", "run", "--address",
                           f"127.0.0.1:{port}", "--key-id", key_id, "--key", key, "--data", json.dumps(data),
                           f"viam.component.servo.v1.{method}"], cwd=ROOT, capture_output=True, text=True, timeout=60)


def write_member_config(path: Path, part: Any, fleet: FleetProcess, refresh: str = "1s") -> None:
    path.write_text(json.dumps({"cloud": {"id": part.id, "secret": part.secret, "app_address": fleet.base_url,
                                          "refresh_interval": refresh}}))


@pytest.fixture
def owner(fleet_db_url: str) -> tuple[str, Owner]:  # noqa: F811
    return fleet_db_url, fleet_init(fleet_db_url)


def _run(coro: Awaitable[Any], timeout: float = 150) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def test_a_member_comes_online_runs_the_fleets_config_is_moved_with_a_fleet_key_logs_and_restarts(
        owner: tuple[str, Owner], tmp_path: Path) -> None:
    from viam.components.servo import Servo

    db_url, org = owner
    fleet = FleetProcess(db_url, tls=True, home=tmp_path / "fleet-home")
    member: Member | None = None

    async def scenario() -> None:
        nonlocal member
        viam = await app_client(fleet, org)
        app = viam.app_client
        try:
            robot_id = await app.new_robot("cell-1", org.location_id)
            part = (await app.get_robot_parts(robot_id))[0]
            await app.update_robot_part(part.id, part.name, {"components": [SENSOR]})
            config = tmp_path / "machine.json"
            write_member_config(config, part, fleet)
            member = Member(config, tmp_path / "machine-home")
            _, port, mode = await asyncio.to_thread(member.banner)
            assert mode == "TLS, API keys"  # the fleet's keys are on: TLS with the self-signed certificate

            # Online: the fleet learned where the part serves and when it last called.
            async def online() -> Any:
                got = await raw_part(app, part.id)
                return got if got.HasField("last_access") and got.online_state == ONLINE and got.fqdn else None

            got = await eventually("the part online, at its address", online)
            assert got.fqdn == f"127.0.0.1:{port}"

            # A servo added through the SDK appears on the machine, which the SDK then moves
            # with the organization's key (known to the machine only by its hash).
            await app.update_robot_part(part.id, part.name, {"components": [SENSOR, SERVO]})
            edited = time.monotonic()
            robot = await viam.connect_to_machine(id=robot_id)
            try:
                async def has_servo() -> bool:
                    await robot.refresh()
                    return any(n.name == "servo1" for n in robot.resource_names)

                await eventually("servo1 on the machine", has_servo, timeout=15)
                print(f"servo1 appeared {time.monotonic() - edited:.2f} s after update_robot_part "
                      f"(refresh_interval 1 s)")
                servo = Servo.from_robot(robot, "servo1")
                await servo.move(75)
                assert await servo.get_position() == 75
            finally:
                await robot.close()
            with pytest.raises(Exception, match="(?i)invalid api key|permission|unauthenticated"):
                await robot_at(f"127.0.0.1:{port}", org.api_key_id, "not-the-key")

            # A key made now, scoped to this machine, reaches it through `viamlite machines part
            # run` once the fleet's next config carries its hash; a key for another machine does not.
            from viam.app.app_client import APIKeyAuthorization

            key, key_id = await app.create_key(org.organization_id, [APIKeyAuthorization(
                role="operator", resource_type="robot", resource_id=robot_id)], "cell-1-operator")
            other = await app.new_robot("cell-9", org.location_id)
            other_key, other_key_id = await app.create_key(org.organization_id, [APIKeyAuthorization(
                role="operator", resource_type="robot", resource_id=other)], "cell-9-operator")
            move = {"name": "servo1", "angle_deg": 60}

            async def part_run_moves() -> bool:
                result = await asyncio.to_thread(part_run, port, key_id, key, move, "ServoService.Move")
                return result.returncode == 0

            await eventually("the machine-scoped key accepted by the part", part_run_moves, timeout=15)
            position = await asyncio.to_thread(part_run, port, key_id, key, {"name": "servo1"},
                                               "ServoService.GetPosition")
            assert position.returncode == 0 and json.loads(position.stdout) == {"positionDeg": 60}, position.stderr
            refused = await asyncio.to_thread(part_run, port, other_key_id, other_key, move, "ServoService.Move")
            assert refused.returncode != 0 and "invalid API key" in refused.stderr
            await app.delete_key(key_id)  # revoked in the fleet: the part stops taking it

            async def part_run_refused() -> bool:
                result = await asyncio.to_thread(part_run, port, key_id, key, move, "ServoService.Move")
                return result.returncode != 0 and "invalid API key" in result.stderr

            await eventually("the deleted key refused by the part", part_run_refused, timeout=15)

            # The machine's log records come back through the fleet, and through a tail.
            built = await eventually("the machine's logs in the fleet",
                                     lambda: logs_matching(app, part.id, "built rdk:component:servo/servo1"))
            assert built[0].logger_name == "viamlite.machine" and built[0].level == "info"
            assert built[0].caller["File"].endswith("runtime.py") and built[0].host
            stream = await app.tail_robot_part_logs(part.id, errors_only=False, filter="motor1")
            await app.update_robot_part(part.id, part.name, {"components": [SENSOR, SERVO, {
                "name": "motor1", "api": "rdk:component:motor", "model": "rdk:builtin:fake"}]})
            batch = await asyncio.wait_for(stream.__anext__(), 20)
            assert batch and all("motor1" in entry.message for entry in batch)

            # A config that does not check is reported in the fleet's logs; the last good one runs.
            await app.update_robot_part(part.id, part.name, {"components": [SERVO, {
                "name": "arm9", "api": "rdk:component:servo", "model": "acme:no:such"}]})
            refused = await eventually("the refusal in the fleet's logs",
                                       lambda: logs_matching(app, part.id, "config from the fleet not applied"))
            assert refused[0].level == "error" and "acme:no:such" in refused[0].message
            robot = await robot_at(f"127.0.0.1:{port}", org.api_key_id, org.api_key)
            try:
                names = {n.name for n in robot.resource_names}
                assert {"sensor1", "servo1", "motor1"} <= names and "arm9" not in names
            finally:
                await robot.close()

            # MarkPartForRestart: the machine stops its actuators, closes its resources and runs
            # the same command again (same pid), back on the fleet's config.
            await app.update_robot_part(part.id, part.name, {"components": [SENSOR, SERVO]})
            await eventually("motor1 removed", lambda: logs_matching(app, part.id, "closed rdk:component:motor/motor1"))
            first_banner = member.wait_line(_BANNER.pattern)[0]
            await app.mark_part_for_restart(part.id)
            stopped, _ = await asyncio.to_thread(member.wait_line, r"^viamlite stopped: every actuator stopped",
                                                 after=first_banner, timeout=30)
            restarting, _ = await asyncio.to_thread(member.wait_line, r"^viamlite restarting: ", after=stopped)
            _, new_port, _ = await asyncio.to_thread(member.banner, restarting)
            assert member.proc.poll() is None
            pid = int(member.wait_line(_BANNER.pattern, after=restarting)[1].group(3))
            assert pid == member.proc.pid
            before = member.lines[first_banner:stopped]
            assert any("the fleet asked for a restart" in line for line in before)
            assert any("stopped rdk:component:servo/servo1" in line for line in before)
            assert any("closed rdk:component:servo/servo1" in line for line in before)

            async def moved_address() -> Any:
                got = await raw_part(app, part.id)
                return got.fqdn == f"127.0.0.1:{new_port}"

            await eventually("the new address in the fleet", moved_address)
            robot = await viam.connect_to_machine(id=robot_id)
            try:
                assert await Servo.from_robot(robot, "servo1").get_position() == 0  # a fresh fake servo
            finally:
                await robot.close()
            assert await logs_matching(app, part.id, "the fleet asked for a restart")
        finally:
            viam.close()

    try:
        _run(scenario())
    finally:
        if member is not None:
            assert member.stop() == 0, member.output()
        fleet.stop()


def test_a_member_keeps_its_logs_while_the_fleet_is_down_and_starts_from_its_cached_config(
        owner: tuple[str, Owner], tmp_path: Path) -> None:
    from viam.components.servo import Servo

    db_url, org = owner
    home = tmp_path / "fleet-home"
    fleet = FleetProcess(db_url, home=home)  # plaintext: http:// in the cloud block
    members: list[Member] = []

    async def scenario() -> None:
        nonlocal fleet
        viam = await app_client(fleet, org)
        app = viam.app_client
        robot_id = await app.new_robot("cell-2", org.location_id)
        part = (await app.get_robot_parts(robot_id))[0]
        await app.update_robot_part(part.id, part.name, {"components": [SERVO]})
        viam.close()
        config = tmp_path / "machine.json"
        write_member_config(config, part, fleet)
        machine_home = tmp_path / "machine-home"
        member = Member(config, machine_home)
        members.append(member)
        _, port, _ = await asyncio.to_thread(member.banner)
        cache = machine_home / f"cached_cloud_config_{part.id}.json"
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600
        assert json.loads(cache.read_text())["components"] == [SERVO]
        viam = await app_client(fleet, org)
        await eventually("the part's first logs in the fleet",
                         lambda: logs_matching(viam.app_client, part.id, "starting from the fleet's config"))
        viam.close()

        # The fleet goes away: the machine keeps serving and keeps its logs.
        fleet.kill()
        robot = await robot_at(f"127.0.0.1:{port}", org.api_key_id, org.api_key)
        try:
            servo = Servo.from_robot(robot, "servo1")
            await servo.move(30)
            assert await servo.get_position() == 30
            from datetime import datetime, timezone

            for i in range(250):  # more than two batches
                await robot.log("buffer-test", "info", datetime.now(timezone.utc), f"buffered line {i:03d}", "")
        finally:
            await robot.close()
        await asyncio.to_thread(member.wait_line, r"logs are kept here .* until the fleet can be reached again")

        # The fleet comes back on the same address: every record arrives, none lost.
        fleet = FleetProcess(db_url, port=int(fleet.port), home=home)
        viam = await app_client(fleet, org)
        app = viam.app_client
        try:
            async def all_buffered() -> Any:
                found = await logs_matching(app, part.id, "buffered line")
                return found if len(found) >= 250 else None

            found = await eventually("the buffered logs in the fleet", all_buffered, timeout=30)
            messages = sorted(entry.message for entry in found)
            assert messages == [f"buffered line {i:03d}" for i in range(250)]
            assert {entry.logger_name for entry in found} == {"buffer-test"}
            assert await logs_matching(app, part.id, "logs are kept here")  # the outage itself is reported
        finally:
            viam.close()

        # Restarted while the fleet is down, the machine starts from its cached config.
        fleet.kill()
        assert member.stop() == 0, member.output()
        member = Member(config, machine_home)
        members.append(member)
        _, port, mode = await asyncio.to_thread(member.banner)
        assert mode == "TLS, API keys"  # the cached config carries the keys' hashes
        assert member.wait_line(r"starting from the cached config")
        robot = await robot_at(f"127.0.0.1:{port}", org.api_key_id, org.api_key)
        try:
            await Servo.from_robot(robot, "servo1").move(45)
            assert await Servo.from_robot(robot, "servo1").get_position() == 45
        finally:
            await robot.close()

        # The fleet back: the machine joins it again and takes its edits.
        fleet = FleetProcess(db_url, port=int(fleet.port), home=home)
        viam = await app_client(fleet, org)
        app = viam.app_client
        try:
            await app.update_robot_part(part.id, part.name, {"components": [SERVO, SENSOR]})
            await asyncio.to_thread(member.wait_line, r"built rdk:component:sensor/sensor1", timeout=30)
            assert await eventually("the cache-start warning in the fleet",
                                    lambda: logs_matching(app, part.id, "starting from the cached config"))

            async def cached_both() -> bool:  # the cache is rewritten once the new config is applied
                return json.loads(cache.read_text())["components"] == [SERVO, SENSOR]

            assert await eventually("the new config in the cache", cached_both)
        finally:
            viam.close()

    try:
        _run(scenario())
    finally:
        for member in members:
            member.stop()
        fleet.stop()


def test_a_member_started_before_its_fleet_joins_it_and_restarts_onto_its_keys(
        owner: tuple[str, Owner], tmp_path: Path) -> None:
    """No fleet and no cache at the first start: the machine serves with no resources and no keys,
    keeps asking, and when the fleet comes up, restarts onto its config (which turns keys on)."""
    import socket

    from viam.components.servo import Servo

    db_url, org = owner
    home = tmp_path / "fleet-home"
    fleet = FleetProcess(db_url, home=home)
    port = fleet.port
    members: list[Member] = []

    async def scenario() -> None:
        nonlocal fleet
        viam = await app_client(fleet, org)
        robot_id = await viam.app_client.new_robot("cell-3", org.location_id)
        part = (await viam.app_client.get_robot_parts(robot_id))[0]
        await viam.app_client.update_robot_part(part.id, part.name, {"components": [SERVO]})
        viam.close()
        fleet.stop()
        with socket.socket() as probe:  # nothing listens there now
            assert probe.connect_ex(("127.0.0.1", port)) != 0
        config = tmp_path / "machine.json"
        write_member_config(config, part, fleet)
        member = Member(config, tmp_path / "machine-home")
        members.append(member)
        first, _, mode = await asyncio.to_thread(member.banner)
        assert mode == "plaintext"
        assert member.wait_line(r"no usable cached config: starting with no resources")

        fleet = FleetProcess(db_url, port=port, home=home)
        restarting, _ = await asyncio.to_thread(member.wait_line, r"turns API keys on, which changes how the machine "
                                                r"listens: restarting onto it", after=first, timeout=30)
        _, new_port, mode = await asyncio.to_thread(member.banner, restarting)
        assert mode == "TLS, API keys" and member.proc.poll() is None
        robot = await robot_at(f"127.0.0.1:{new_port}", org.api_key_id, org.api_key)
        try:
            await Servo.from_robot(robot, "servo1").move(20)
            assert await Servo.from_robot(robot, "servo1").get_position() == 20
        finally:
            await robot.close()
        viam = await app_client(fleet, org)
        try:
            assert await eventually("the start without a fleet in its logs", lambda: logs_matching(
                viam.app_client, part.id, "no usable cached config"))
        finally:
            viam.close()

    try:
        _run(scenario())
    finally:
        for member in members:
            assert member.stop() == 0, member.output()
        fleet.stop()
