"""The HIL pytest plugin: ``python -m pytest -p hil.plugin hil/scenarios --rig hil/rigs/sim.json``.

Installed with viamlite, pytest loads it in every run (the ``pytest11`` entry point
``hil.plugin``, so ``-p hil.plugin`` names the same plugin). It stays inert (no options
read, no files written, no hooks acting) unless the run is a HIL run: ``--rig`` is given,
or the paths to test are in ``hil/scenarios``.

Options:

* ``--rig FILE``: the rig file (default, in a run of ``hil/scenarios``: ``hil/rigs/sim.json``).
* ``--hil-out DIR``: where the JSON record (``record.json``) and, unless ``--junitxml``
  is given, the JUnit XML (``junit.xml``) go (default ``hil-results/<rig name>``).

Fixtures: ``rigfile`` (the parsed file), ``rig`` (the started or opened rig, one per run),
``fw`` (a fast-path client on the firmware, shared by the scenarios), ``hil_figures`` (a dict a
scenario fills with what it measured; it goes into the record and, as properties, into
the JUnit XML).

The record holds the rig, the firmware's HELLO, each scenario's outcome, duration and
figures, and what the rig reported on closing (the simulator's pacing).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # pragma: no cover
    from hil.rig import Rig, RigFile

_ROOT = Path(__file__).resolve().parent
_RECORD = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "hardware in the loop")
    group.addoption("--rig", default=None,
                    help="rig file (JSON): hil/rigs/sim.json runs the firmware in the simulator, "
                         "hil/rigs/serial.json a board on a serial port")
    group.addoption("--hil-out", default=None,
                    help="directory for record.json and junit.xml (default hil-results/<rig name>)")


def _rig_path(config: pytest.Config) -> str | None:
    """The rig file of a HIL run; None when this run is not one."""
    rig = config.getoption("--rig", None)
    if rig is not None:
        return str(rig)
    scenarios = _ROOT / "scenarios"
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::", 1)[0]).resolve()
        if path == scenarios or scenarios in path.parents:
            return str(_ROOT / "rigs" / "sim.json")
    return None


def _active(config: pytest.Config) -> bool:
    return _RECORD in config.stash


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    rig = _rig_path(config)
    if rig is None:
        return
    from hil.rig import RigError, load_rig  # only in a HIL run: loading the plugin imports no viamlite

    try:
        rigfile = load_rig(rig)
    except RigError as exc:
        raise pytest.UsageError(str(exc)) from None
    out = Path(config.getoption("--hil-out") or Path("hil-results") / rigfile.name)
    out.mkdir(parents=True, exist_ok=True)
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(out / "junit.xml")
    # Figures go into the XML as testcase properties, which the xunit1 schema allows.
    config.inicfg["junit_family"] = "xunit1"
    config.stash[_RECORD] = {
        "rig": {"name": rigfile.name, "kind": rigfile.kind, "port": rigfile.port, "file": str(rigfile.path)},
        "host": {"python": platform.python_version(), "machine": platform.machine(), "system": platform.system()},
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "firmware": {},
        "scenarios": {},
        "out": str(out),
    }
    config._hil_rigfile = rigfile  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _active(config):
        return None
    rigfile: RigFile = config._hil_rigfile  # type: ignore[attr-defined]
    return f"hil rig: {rigfile.name} ({rigfile.kind}, port {rigfile.port}) from {rigfile.path}"


@pytest.fixture(scope="session")
def rigfile(pytestconfig: pytest.Config) -> RigFile:
    if not _active(pytestconfig):
        raise pytest.UsageError("the HIL fixtures need a rig: add --rig hil/rigs/sim.json (the firmware in the "
                                "simulator) or another rig file")
    return pytestconfig._hil_rigfile  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def rig(rigfile: RigFile, pytestconfig: pytest.Config) -> Iterator[Rig]:
    from hil.build import toolchain_missing
    from hil.rig import open_rig

    if rigfile.kind == "sim" or rigfile.port == "sim":
        missing = toolchain_missing()
        if missing:
            if os.environ.get("VIAMLITE_REQUIRE_TOOLCHAIN") == "1":
                pytest.fail(f"the simulator rig needs the AVR toolchain: {missing}")
            pytest.skip(f"the simulator rig needs the AVR toolchain: {missing}")
    the_rig = open_rig(rigfile)
    try:
        yield the_rig
    finally:
        pytestconfig.stash[_RECORD]["rig"].update(the_rig.close())


@pytest.fixture
def fw(rig: Rig, pytestconfig: pytest.Config) -> Any:
    """The rig's shared session (a scenario that closes it gets a fresh one next time)."""
    client = rig.session()
    pytestconfig.stash[_RECORD]["firmware"] = {k: v for k, v in client.info.items() if k != "methods"}
    return client


@pytest.fixture
def hil_figures(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    figures: dict[str, Any] = {}
    yield figures
    if not _active(request.config):
        return
    entry = request.config.stash[_RECORD]["scenarios"].setdefault(request.node.nodeid, {})
    entry["figures"] = figures
    for key, value in figures.items():
        request.node.user_properties.append((key, json.dumps(value) if isinstance(value, (dict, list)) else value))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if not _active(item.config):
        return report
    scenarios = item.config.stash[_RECORD]["scenarios"]
    entry = scenarios.setdefault(item.nodeid, {})
    if report.when == "call" or (report.when != "call" and report.outcome == "failed") \
            or (report.when == "setup" and report.outcome == "skipped"):
        entry["outcome"] = report.outcome if report.when == "call" or report.outcome == "skipped" else "error"
        entry["duration_s"] = round(report.duration, 3)
        if report.outcome != "passed":
            entry["reason"] = str(report.longrepr).splitlines()[-1] if report.longrepr else ""
    return report


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    record = session.config.stash.get(_RECORD, None)
    if record is None:
        return
    record["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    outcomes = [s.get("outcome") for s in record["scenarios"].values()]
    record["summary"] = {kind: outcomes.count(kind) for kind in ("passed", "failed", "error", "skipped")}
    path = Path(record["out"]) / "record.json"
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    record = config.stash.get(_RECORD, None)
    if record is not None:
        terminalreporter.write_line(f"hil record: {Path(record['out']) / 'record.json'}; "
                                    f"JUnit XML: {config.option.xmlpath}")
