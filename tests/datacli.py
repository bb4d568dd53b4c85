"""``viamlite ...`` as a user types it, in a subprocess with its own ``VIAMLITE_HOME``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class Cli:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {**os.environ, "VIAMLITE_HOME": str(home), "PYTHONUNBUFFERED": "1"}

    def __call__(self, *args: str, stdin: str | None = None, ok: bool = True,
                 timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "viamlite.cli", *args], input=stdin, capture_output=True,
                                text=True, env=self.env, cwd=ROOT, timeout=timeout)
        if ok:
            assert result.returncode == 0, f"viamlite {' '.join(args)} -> {result.returncode}:\n{result.stderr}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def refused(self, *args: str, code: int = 1) -> str:
        """The one line a refused command prints (its exit code, one line, no traceback)."""
        result = self(*args, ok=False)
        assert result.returncode == code, f"viamlite {' '.join(args)} -> {result.returncode} (want {code}):\n" \
                                          f"{result.stdout}{result.stderr}"
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        return lines[0]
