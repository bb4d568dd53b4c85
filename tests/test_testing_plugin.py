"""viamlite.testing: the pytest plugins under ``pytest11``, served_machine, wait_for, and the
contracts as a third-party driver author uses them."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from viamlite.components.servo import Servo

SERVO = {"name": "s", "api": "rdk:component:servo", "model": "rdk:builtin:fake"}


def run_pytest(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pytest on ``source`` (a test module) in ``tmp_path``, as a user's project would."""
    (tmp_path / "test_user.py").write_text(textwrap.dedent(source))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, "test_user.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_both_plugins_are_registered_under_pytest11() -> None:
    plugins = {ep.name: ep.value for ep in metadata.entry_points(group="pytest11")}
    assert plugins.get("viamlite.testing.plugin") == "viamlite.testing.plugin"
    assert plugins.get("hil.plugin") == "hil.plugin"


def test_served_machine_serves_grpc_and_the_fast_path(served_machine: Any) -> None:
    served = served_machine({"components": [SERVO]})
    assert served.grpc_address.startswith("127.0.0.1:") and served.fastpath_address.startswith("127.0.0.1:")
    client = served.client()
    Servo.from_robot(client, "s").move(30)
    assert served["s"].get_position() == 30
    fast = served.fastpath()
    assert Servo.from_robot(fast, "s").get_position() == 30
    served.close()
    assert served.machine.resource(Servo.API, "s").closed


def test_served_machine_without_the_fast_path(served_machine: Any) -> None:
    served = served_machine({"components": [SERVO]}, fastpath=False)
    assert served.fastpath_address is None
    with pytest.raises(RuntimeError, match="without the fast path"):
        served.fastpath()


def test_wait_for_returns_the_true_value_or_fails_naming_what(wait_for: Any) -> None:
    values = iter([0, None, 7])
    assert wait_for(lambda: next(values), "the third value") == 7
    with pytest.raises(pytest.fail.Exception, match=r"the queue filling did not happen within 0.05 s \(last: \[\]\)"):
        wait_for(lambda: [], "the queue filling", timeout=0.05)

    def not_yet() -> bool:
        raise ConnectionError("link still opening")

    with pytest.raises(pytest.fail.Exception, match=r"last: ConnectionError\('link still opening'\)"):
        wait_for(not_yet, "the link", timeout=0.05)


def test_hil_plugin_is_inert_without_a_rig(tmp_path: Path) -> None:
    for args in ((), ("-p", "hil.plugin")):
        proc = run_pytest(tmp_path, "def test_nothing():\n    pass\n", *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "hil rig" not in proc.stdout and "hil record" not in proc.stdout, proc.stdout
        assert not (tmp_path / "hil-results").exists() and not list(tmp_path.rglob("junit.xml"))
    help_text = run_pytest(tmp_path, "", "--help").stdout
    assert "--rig" in help_text and "--hil-out" in help_text


def test_hil_fixtures_without_a_rig_say_what_to_add(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, "def test_scenario(rig):\n    pass\n")
    assert proc.returncode != 0
    assert "add --rig hil/rigs/sim.json" in proc.stdout + proc.stderr


CONTRACT_USER = """
    import pytest

    from viamlite_plugins.fake.servo import FakeServo
    from viamlite.testing.contracts import ServoCapabilities, ServoContract


    class OffByOne(FakeServo):
        def get_position(self, *, extra=None):
            return super().get_position() + 1


    class TestFakeServo(ServoContract):
        capabilities = ServoCapabilities()

        @pytest.fixture
        def resource(self):
            with FakeServo("pan") as servo:
                yield servo


    class TestOffByOne(ServoContract):
        @pytest.fixture
        def resource(self):
            with OffByOne("pan") as servo:
                yield servo
"""


def test_a_driver_author_gets_the_contract_and_it_catches_a_wrong_position(tmp_path: Path) -> None:
    proc = run_pytest(tmp_path, CONTRACT_USER, "-rf")
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    failed = sorted(line.split("::", 1)[1].split(" ")[0] for line in out.splitlines() if line.startswith("FAILED"))
    assert failed == ["TestOffByOne::test_bad_angles_are_invalid_arguments_and_change_nothing",
                      "TestOffByOne::test_calls_take_extra",
                      "TestOffByOne::test_move_then_get_position",
                      "TestOffByOne::test_stop_leaves_it_still_where_it_was"], out
    assert "moved to 0, get_position answers 1" in out
    assert "4 failed, 10 passed" in out, out  # TestFakeServo: all 7; TestOffByOne: the other 3
