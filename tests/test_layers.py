"""The layer rules, checked: import-linter's contracts (`.importlinter`), and what a served
demo machine imports."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What ``viamlite serve`` of the demo machine must never load: database libraries, the app
#: API's code, Blinka and the hardware libraries it pulls in, and Pillow and linuxpy until a
#: camera makes a frame.
NEVER_ON_SERVE = ("sqlalchemy", "psycopg", "alembic", "board", "digitalio", "busio", "adafruit_blinka",
                  "viamlite_plugins.fleet", "viamlite_plugins.cloud", "viamlite.gen.app", "PIL", "linuxpy",
                  "viamlite.modules")
#: Bundled plugin packages whose own module (hook implementations only, found through the entry
#: point as every command starts) may load, and the cloud commands' flags (argparse only);
#: nothing else under them may.
HOOKS_ONLY = ("viamlite_plugins.cloud", "viamlite_plugins.cloud.options", "viamlite_plugins.cloud.data_options",
              "viamlite_plugins.cloud.module_options", "viamlite_plugins.fleet")


def test_import_contracts_are_kept() -> None:
    pytest.importorskip("importlinter")
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='.importlinter', no_cache=True, no_logo=True))")
    # its own process: import-linter sets up logging of its own
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "BROKEN" not in out and out.count("KEPT") >= 5, out


def test_serving_the_demo_machine_imports_no_database_app_api_or_blinka(tmp_path: Path) -> None:
    dump = tmp_path / "modules.json"
    code = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: open({str(dump)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
        "from viamlite.cli import main\n"
        "sys.exit(main(['serve', '--no-tls', '--bind', '127.0.0.1:0', '--fastpath', '127.0.0.1:0']))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "VIAMLITE_HOME": str(tmp_path / "home")})
    try:
        deadline = time.monotonic() + 30
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, f"viamlite serve ended early: {proc.stderr.read() if proc.stderr else ''}"
            if line.startswith("viamlite fast path on"):
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    loaded = json.loads(dump.read_text())
    assert "viamlite.fastpath.server" in loaded and "viamlite.machine.runtime" in loaded  # it really served
    bad = sorted(m for m in loaded if m not in HOOKS_ONLY and any(m == n or m.startswith(n + ".") or
                                                                  m.startswith(n + "_") for n in NEVER_ON_SERVE))
    assert not bad, f"serving the demo machine imported {bad}"
