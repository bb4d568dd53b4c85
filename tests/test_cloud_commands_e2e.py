"""End to end: the cloud commands typed as a user types them, against a real ``viamlite fleet
serve`` and a ``viamlite serve`` member (both other processes), on SQLite (plaintext app, as
the Viam CLI pairs with a local app) and on PostgreSQL (TLS app, self-signed certificate).

One fleet and one member serve the whole sequence: login, whoami, organizations and locations,
machines create/list/status, add-resource, part run through the app (the seed's examples,
with the seed's names), logs and a tail, keys at three scopes (a location key cannot see
another location's machine), restart, shell, the refusals, logout; and the seed's snippet.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fleetpeer import FleetProcess, Owner, fleet_init
from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[1]
ORG, LOC, MACHINE, PART = "Robot's Org", "myLoc", "myrobot", "myrobot-main"
_BANNER = re.compile(r"^viamlite serving .* on 127\.0\.0\.1:(\d+) \(gRPC")


class Cli:
    """``viamlite ...`` with its own ``VIAMLITE_HOME``: the command line's own entry point
    (``viamlite.cli.main``) given the words, in this process (a command costs milliseconds
    instead of an interpreter's start), or as a real process with ``real=True`` (and always
    with ``stdin``)."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.home = home
        self.env = {**os.environ, "VIAMLITE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        monkeypatch.setenv("VIAMLITE_HOME", str(home))

    def __call__(self, *args: str, stdin: str | None = None, ok: bool = True, timeout: float = 60,
                 real: bool = False) -> subprocess.CompletedProcess:
        if real or stdin is not None:
            result = subprocess.run([sys.executable, "-m", "viamlite.cli", *args], input=stdin, capture_output=True,
                                    text=True, env=self.env, cwd=ROOT, timeout=timeout)
        else:
            result = self._here(list(args))
        if ok:
            assert result.returncode == 0, f"viamlite {' '.join(args)} -> {result.returncode}:\n{result.stderr}"
        return result

    @staticmethod
    def _here(args: list[str]) -> subprocess.CompletedProcess:
        from viamlite.cli.main import main

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 2
        return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def refused(self, *args: str, code: int = 1) -> str:
        """The one line a refused command prints (asserted: its exit code, one line, no traceback)."""
        result = self(*args, ok=False)
        assert result.returncode == code, f"viamlite {' '.join(args)} -> {result.returncode} (want {code}):\n" \
                                          f"{result.stdout}{result.stderr}"
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        return lines[0]

    def popen(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "viamlite.cli", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env, cwd=ROOT)


class Member:
    """``viamlite serve --config machine.json`` (a fleet member), its output collected."""

    def __init__(self, config: Path, home: Path) -> None:
        env = {**os.environ, "VIAMLITE_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "viamlite.cli", "serve", "--config", str(config), "--bind",
                                      "127.0.0.1:0", "--no-fastpath"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def banners(self) -> list[int]:
        return [int(m.group(1)) for line in list(self.lines) if (m := _BANNER.search(line))]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def eventually(what: str, check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except AssertionError as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last!r})")


def _on_a_terminal(cli: Cli, args: list[str], typed: bytes, timeout: float = 30) -> tuple[bytes, int]:
    """Run ``viamlite ARGS`` on a pseudo-terminal, type ``typed``; (what it showed, exit code)."""
    import select

    master, slave = os.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "viamlite.cli", *args], stdin=slave, stdout=slave, stderr=slave,
                            env=cli.env, cwd=ROOT, start_new_session=True)
    os.close(slave)
    os.write(master, typed)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:  # the process closed the terminal
                    break
                if not data:
                    break
                shown += data
            elif proc.poll() is not None:
                break
        return shown, proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)


def _sdk(fleet: FleetProcess, owner: Owner, work: Callable[[Any], Any]) -> Any:
    async def go() -> Any:
        client = await fleet.viam_client(owner.api_key_id, owner.api_key)
        try:
            return await work(client.app_client)
        finally:
            client.close()

    return asyncio.run(asyncio.wait_for(go(), 60))


@pytest.fixture
def fleet(fleet_db_url: str, tmp_path: Path) -> Any:  # noqa: F811
    owner = fleet_init(fleet_db_url, "--organization", ORG, "--location", LOC)
    process = FleetProcess(fleet_db_url, tls=fleet_db_url.startswith("postgresql"), home=tmp_path / "fleet-home")
    yield process, owner
    process.stop()


@pytest.mark.timeout(300)
def test_the_cloud_commands_as_a_user_types_them(fleet: Any, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    process, owner = fleet
    base = process.base_url
    cli = Cli(tmp_path / "home", monkeypatch)
    member: Member | None = None
    try:
        # -- not logged in; a wrong key; an unreachable app --------------------------------
        assert cli("whoami", real=True).stdout.strip() == "Not logged in"
        line = cli.refused("organizations", "list")
        assert "not logged in" in line and "login api-key --key-id ID --key KEY" in line
        line = cli.refused("--base-url", base, "login", "api-key", "--key-id", owner.api_key_id, "--key", "x" * 32)
        assert f"refused API key {owner.api_key_id!r}" in line and "check the key id and key" in line
        assert not (cli.home / "cli.json").exists()
        line = cli.refused("--base-url", "http://127.0.0.1:1", "login", "api-key", "--key-id", owner.api_key_id,
                           "--key", owner.api_key)
        assert "cannot reach the app at http://127.0.0.1:1" in line and "--base-url" in line

        # -- login, whoami, organizations, locations ------------------------------------------
        out = cli("--base-url", base, "login", "api-key", "--key-id", owner.api_key_id, "--key", owner.api_key,
                  real=True).stdout
        assert f"logged in as 'key-{owner.api_key_id}' to {base}" in out
        cached = cli.home / "cli.json"
        assert stat.S_IMODE(cached.stat().st_mode) == 0o600 and stat.S_IMODE(cli.home.stat().st_mode) == 0o700
        assert json.loads(cached.read_text()) == {"base_url": base, "auth": {"key_id": owner.api_key_id,
                                                                             "key": owner.api_key}}
        assert cli("whoami").stdout.strip() == f"key-{owner.api_key_id} at {base}"
        token = cli("login", "print-access-token").stdout.strip()
        assert token.count(".") == 2 and len(token) > 40  # a signed token of the app's
        assert f"\t{ORG} (id: {owner.organization_id})" in cli("organizations", "list").stdout.splitlines()
        assert cli.json("organizations", "list") == [{"id": owner.organization_id, "name": ORG,
                                                     "public_namespace": ""}]
        assert cli("locations", "list").stdout.splitlines() == [f"\t{LOC} (id: {owner.location_id})"]
        assert [loc["name"] for loc in cli.json("locations", "list", ORG)] == [LOC]
        assert cli("whoami", "--base-url", base).returncode == 0  # the same app, flags after the command too

        # -- machines create, list, status ------------------------------------------------------
        created = cli.json("machines", "create", "--name", MACHINE, "--location", LOC)
        robot_id, part_id = created["id"], created["main_part_id"]
        assert created["main_part"] == PART
        assert cli("machines", "list").stdout.splitlines() == [f"{MACHINE} (id: {robot_id}) (main part id: {part_id})"]
        (listed,) = cli.json("robots", "list", "--organization", ORG, "--location", owner.location_id)
        assert (listed["name"], listed["main_part_id"], listed["online_state"]) == (MACHINE, part_id, "awaiting setup")
        status = cli.json("machine", "status", "--machine", MACHINE)
        assert [(p["name"], p["main_part"]) for p in status["parts"]] == [(PART, True)]

        # -- add-resource, cloud-config, and the member comes online --------------------------------
        cli("machines", "part", "add-resource", "--part", PART, "--name", "myServo", "--model-name",
            "rdk:builtin:fake", "--resource-subtype", "servo")
        cli("machines", "part", "add-resource", "--machine", MACHINE, "--name", "shell", "--model-name",
            "rdk:builtin:shell", "--api", "rdk:service:shell")
        line = cli.refused("machines", "part", "add-resource", "--part", PART, "--name", "myServo", "--model-name",
                           "rdk:builtin:fake", "--resource-subtype", "servo")
        assert "already has a resource called 'myServo'" in line
        machine_json = tmp_path / "machine.json"
        cli("machines", "part", "cloud-config", "--part", PART, "--output", str(machine_json))
        assert stat.S_IMODE(machine_json.stat().st_mode) == 0o600
        block = json.loads(machine_json.read_text())["cloud"]
        assert (block["id"], block["app_address"]) == (part_id, base) and block["secret"]
        block["refresh_interval"] = "1s"  # the test's patience: new keys reach the member within a second
        machine_json.write_text(json.dumps({"cloud": block}))
        member = Member(machine_json, tmp_path / "machine-home")

        def online() -> Any:
            got = cli.json("machines", "part", "status", "--part", PART)
            return got if got["online_state"] == "online" and got["fqdn"] else None

        address = eventually("the member online", online)["fqdn"]
        assert address == f"127.0.0.1:{member.banners()[0]}"

        # -- part run through the app: the seed's examples, with its names -----------------------------
        out = cli("robots", "part", "run", "--robot", robot_id, "--organization", ORG, "--location", LOC, "--part",
                  PART, "--data", '{"name": "myServo", "angle_deg": 30}',
                  "viam.component.servo.v1.ServoService.MoveRequest", real=True).stdout
        assert json.loads(out) == {}
        get = ("machines", "part", "run", "--part", PART, "--data", '{"name": "myServo"}',
               "viam.component.servo.v1.ServoService.GetPosition")
        assert json.loads(cli(*get).stdout) == {"positionDeg": 30}
        cli("machines", "part", "run", "--robot", robot_id, "--organization", ORG, "--location", LOC, "--part",
            PART, "--data", '{"name": "myServo", "angle_deg": 75}', "viam.component.servo.v1.ServoService.Move",
            real=True)
        assert json.loads(cli(*get).stdout) == {"positionDeg": 75}
        direct = cli("machines", "part", "run", "--address", address, "--key-id", owner.api_key_id, "--key",
                     owner.api_key, "--data", '{"name": "myServo"}', "viam.component.servo.v1.ServoService.GetPosition")
        assert json.loads(direct.stdout) == {"positionDeg": 75}  # --address: no app at all

        # -- the seed's snippet: print(machine.resource_names) against viamlite.connect -------------------
        import viamlite

        with viamlite.connect(address, api_key_id=owner.api_key_id, api_key=owner.api_key, timeout=10) as machine:
            print(machine.resource_names)
        printed = capsys.readouterr().out
        assert "name='myServo'" in printed and "name='shell'" in printed and "bound method" not in printed

        # -- logs, and a tail that shows a line written on the machine ---------------------------------
        logs = cli("machines", "part", "logs", "--part", PART, "--count", "1000").stdout
        assert re.search(r"INFO\tviamlite\.machine\tbuilt rdk:component:servo/myServo", logs), logs[-2000:]
        saved = tmp_path / "logs.ndjson"
        cli("machines", "logs", "--machine", MACHINE, "--keyword", "built rdk", "--format", "json", "--output",
            str(saved))
        entries = [json.loads(line) for line in saved.read_text().splitlines()]
        assert entries and all("built rdk" in e["message"] for e in entries)
        tail = cli.popen("machines", "part", "logs", "--part", PART, "--tail")
        tailed: list[str] = []
        threading.Thread(target=lambda: tailed.extend(tail.stdout), daemon=True).start()  # type: ignore[arg-type]
        marker = f"written on the machine {uuid.uuid4()}"

        def shows() -> bool:
            cli("machines", "part", "run", "--part", PART, "--data",
                json.dumps({"logs": [{"message": marker, "level": "info", "loggerName": "operator"}]}),
                "viam.robot.v1.RobotService.Log")
            time.sleep(0.5)
            return any(marker in line for line in tailed)

        eventually("the machine's log line in the tail", shows, timeout=30)
        tail.send_signal(signal.SIGINT)
        assert tail.wait(15) == 0
        assert re.search(rf"INFO\toperator\t{marker}", "".join(tailed))

        # -- api-key create at each scope, then login with each -------------------------------------------
        other_loc = _sdk(process, owner, lambda app: app.create_location(owner.organization_id, "otherLoc"))
        cli("machines", "create", "--name", "other", "--location", "otherLoc")
        org_key = cli.json("organizations", "api-key", "create", "--org-id", owner.organization_id, "--name", "ops")
        text = cli("locations", "api-key", "create", "--location-id", owner.location_id).stdout
        loc_key = {"key_id": re.search(r"^Key ID: (\S+)$", text, re.M).group(1),  # type: ignore[union-attr]
                   "key": re.search(r"^Key Value: (\S+)$", text, re.M).group(1)}  # type: ignore[union-attr]
        machine_key = cli.json("machines", "api-key", "create", "--machine-id", robot_id)
        assert machine_key["resource_type"] == "robot" and machine_key["organization_id"] == owner.organization_id
        line = cli.refused("--base-url", "http://127.0.0.1:2", "machines", "list")
        assert f"logged in to {base}, not http://127.0.0.1:2" in line and "viamlite logout" in line

        def login(key: dict[str, str]) -> None:
            assert "Logged out from" in cli("logout").stdout
            cli("--base-url", base, "login", "api-key", "--key-id", key["key_id"], "--key", key["key"])

        login(org_key)
        assert {m["name"] for m in cli.json("machines", "list", "--all")} == {MACHINE, "other"}
        login(loc_key)
        assert [m["name"] for m in cli.json("machines", "list", "--location", LOC)] == [MACHINE]
        line = cli.refused("machines", "status", "--machine", "other", "--location", "otherLoc")
        assert "no location 'otherLoc'" in line
        line = cli.refused("machines", "status", "--machine", "other")
        assert "no machine 'other'" in line and MACHINE in line
        login(machine_key)
        assert [m["name"] for m in cli.json("machines", "list")] == [MACHINE]
        # the member learns the new key from the fleet's config: part run with it, once it has
        eventually("part run with the machine's new key", lambda: json.loads(cli(*get, ok=False).stdout or "null"))
        assert json.loads(cli(*get).stdout) == {"positionDeg": 75}

        # -- refusals: unknown names and ids; a deleted key ----------------------------------------------
        assert "no organization 'Nope Org'" in cli.refused("machines", "list", "--organization", "Nope Org")
        assert "no machine 'nope'" in cli.refused("machines", "status", "--machine", "nope")
        assert "no part 'nope-main'" in cli.refused("machines", "part", "status", "--part", "nope-main")
        unknown = str(uuid.uuid4())
        assert "was not found" in cli.refused("machines", "part", "logs", "--part", unknown)
        debug = cli("machines", "status", "--machine", "nope", "--debug", ok=False, real=True)
        assert debug.returncode == 1 and "Traceback" in debug.stderr and "no machine 'nope'" in debug.stderr
        _sdk(process, owner, lambda app: app.delete_key(loc_key["key_id"]))
        assert "Logged out" in cli("logout").stdout
        line = cli.refused("--base-url", base, "login", "api-key", "--key-id", loc_key["key_id"], "--key",
                           loc_key["key"])
        assert "refused API key" in line

        # -- restart, then shell (a command's output and exit status) -----------------------------------
        cli("--base-url", base, "login", "api-key", "--key-id", owner.api_key_id, "--key", owner.api_key)
        assert "Deleted machine 'other'" in cli("machines", "delete", "--machine", "other", "--location",
                                                  "otherLoc").stdout
        assert {m["name"] for m in cli.json("machines", "list", "--all")} == {MACHINE}
        cli("machines", "part", "add-resource", "--part", PART, "--name", "tmp", "--model-name", "rdk:builtin:fake",
            "--api", "rdk:component:sensor")
        assert "Removed component 'tmp'" in cli("machines", "part", "remove-resource", "--part", PART, "--name",
                                                "tmp").stdout
        assert "no resource called 'tmp'" in cli.refused("machines", "part", "remove-resource", "--part", PART,
                                                         "--name", "tmp")
        assert "to restart" in cli("machines", "part", "restart", "--part", PART).stdout
        eventually("the member restarted", lambda: len(member.banners()) >= 2, timeout=40)  # type: ignore[union-attr]
        new_address = f"127.0.0.1:{member.banners()[-1]}"
        eventually("the new address in the fleet", lambda: online() and online()["fqdn"] == new_address)
        assert json.loads(cli(*get).stdout) == {}  # a fresh fake servo after the restart (at 0, left out of JSON)
        shell = cli("machines", "part", "shell", "--part", PART, stdin="echo shell-says-$((6 * 7))\nexit 7\n",
                    ok=False)
        assert shell.returncode == 7 and "shell-says-42" in shell.stdout, shell.stderr
        out, code = _on_a_terminal(cli, ["machines", "part", "shell", "--part", PART], b"echo tty-$((2*21)); exit 5\r")
        assert code == 5 and b"tty-42" in out, out

        # -- logout ------------------------------------------------------------------------------------------
        assert cli("logout").stdout.strip() == f"Logged out from 'key-{owner.api_key_id}' at {base}"
        assert cli("whoami", real=True).stdout.strip() == "Not logged in"
        assert not cached.exists()
    finally:
        if member is not None:
            member.stop()
