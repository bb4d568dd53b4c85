"""Build the firmware and the simulator harness with make, or say what is missing."""

from __future__ import annotations

import fcntl
import glob
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIRMWARE_DIR = REPO / "firmware"
SIM_DIR = FIRMWARE_DIR / "sim"
APT_PACKAGES = "gcc-avr avr-libc simavr libsimavr-dev libsimavrparts1"
FIRMWARE_ELFS = {
    115200: "viamlite-fw.elf",
    500000: "viamlite-fw-500k.elf",
    1000000: "viamlite-fw-1m.elf",
}


class BuildError(RuntimeError):
    """make failed; the message carries its output."""


def toolchain_missing() -> str | None:
    """Why the AVR toolchain or simavr cannot be used here, or None when all is present."""
    fix = f"apt-get install {APT_PACKAGES}"
    for tool in ("make", "avr-gcc"):
        if not shutil.which(tool):
            return f"{tool} not found: {fix}"
    if not (shutil.which("cc") or shutil.which("gcc")):
        return "no host C compiler (cc) to build the simulator: apt-get install gcc"
    if not Path("/usr/lib/avr/include/avr/io.h").exists():
        return f"avr-libc headers not found (/usr/lib/avr/include/avr/io.h): {fix}"
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        return f"simavr headers not found (/usr/include/simavr/sim_avr.h): {fix}"
    for lib in ("simavr", "simavrparts"):
        if not glob.glob(f"/usr/lib/*/lib{lib}.so") + glob.glob(f"/usr/lib/lib{lib}.so"):
            return f"lib{lib}.so not found: {fix}"
    return None


@contextmanager
def _build_lock():
    """One make at a time per checkout (tests and the HIL plugin may build concurrently)."""
    lock_dir = FIRMWARE_DIR / "build"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _make(directory: Path, *args: str) -> None:
    reason = toolchain_missing()
    if reason:
        raise BuildError(reason)
    cmd = ["make", "-C", str(directory), *args]
    with _build_lock():
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()
        raise BuildError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{output[-4000:]}")


def build_firmware(baud: int = 115200) -> Path:
    """Run `make -C firmware` and return the ELF built for `baud` (115200, 500000, 1000000)."""
    if baud not in FIRMWARE_ELFS:
        raise ValueError(f"no firmware build for baud {baud}; use one of {sorted(FIRMWARE_ELFS)}")
    _make(FIRMWARE_DIR)
    elf = FIRMWARE_DIR / "build" / FIRMWARE_ELFS[baud]
    if not elf.exists():
        raise BuildError(f"make -C firmware succeeded but {elf} is missing; check firmware/Makefile")
    return elf


def build_sim() -> Path:
    """Run `make -C firmware/sim` and return the viamlite-sim binary."""
    _make(SIM_DIR)
    binary = SIM_DIR / "build" / "viamlite-sim"
    if not binary.exists():
        raise BuildError(f"make -C firmware/sim succeeded but {binary} is missing")
    return binary


def sim_test_program(name: str) -> Path:
    """One of the simulator's own AVR test programs (firmware/sim/tests/NAME.c), built."""
    build_sim()
    elf = SIM_DIR / "build" / "tests" / f"{name}.elf"
    if not elf.exists():
        raise BuildError(f"no simulator test program {name!r} ({elf}); see firmware/sim/Makefile")
    return elf
