"""Build the real Viam peers of the interop tests and benchmarks: viam-server and the Viam CLI,
from rdk's Go module at the version pinned in ``tests/peers/go.mod``.

    python3 tools/build_peers.py            # build when missing or out of date, else say they are current
    python3 tools/build_peers.py --check    # exit 0 when current, 1 when a build is needed
    python3 tools/build_peers.py --print-dir
    python3 tools/build_peers.py --force

The programs' code comes from the Go module proxy (``tests/peers`` is a module that requires
``go.viam.com/rdk`` and repeats its ``replace``); nothing of it is kept in this tree. The build is
pure Go, as rdk's Makefile makes its static builds: ``CGO_ENABLED=0``, tags ``no_cgo,osusergo,netgo``.
Go's own module and build caches are reused, so a rebuild after a clean output directory is a link.

The binaries go to ``$VIAMLITE_PEERS_DIR`` (default ``$XDG_CACHE_HOME/viamlite/peers``, else
``~/.cache/viamlite/peers``) under ``rdk-<version>/``: ``viam-server`` and ``viam``, with a stamp
of what built them (go.mod, go.sum, the Go version and the flags); a matching stamp skips the build.
``$GO`` names the go command (default: ``go`` on PATH, else ``/usr/local/go/bin/go``); the build runs
under ``nice`` (``$VIAMLITE_PEERS_NICE``, default 19) with ``-p $VIAMLITE_PEERS_JOBS`` (default 2).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "tests" / "peers"
#: (output name, package) of each peer.
PEERS = (("viam-server", "go.viam.com/rdk/web/cmd/server"), ("viam", "go.viam.com/rdk/cli/viam"))
TAGS = "no_cgo,osusergo,netgo"
STAMP = "build-stamp"


def rdk_version() -> str:
    """The rdk version ``tests/peers/go.mod`` requires."""
    text = (MODULE / "go.mod").read_text()
    match = re.search(r"^\s*(?:require\s+)?go\.viam\.com/rdk\s+(v\S+)", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"{MODULE / 'go.mod'}: no requirement of go.viam.com/rdk found")
    return match.group(1)


def peer_dir() -> Path:
    """Where the binaries of the pinned version are (or would be) built."""
    base = os.environ.get("VIAMLITE_PEERS_DIR")
    if base:
        root = Path(base)
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "viamlite" / "peers"
    return root / f"rdk-{rdk_version()}"


def go_command() -> str | None:
    go = os.environ.get("GO") or shutil.which("go")
    if not go and Path("/usr/local/go/bin/go").exists():
        go = "/usr/local/go/bin/go"
    return go


def ldflags(version: str) -> str:
    # The version viam-server reports in GetVersion, as rdk's Makefile sets it; -s -w: no symbols.
    return f"-s -w -X go.viam.com/rdk/config.Version={version}"


def stamp(go: str) -> str:
    version = subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout.strip()
    digest = hashlib.sha256()
    for part in ((MODULE / "go.mod").read_bytes(), (MODULE / "go.sum").read_bytes(), version.encode(),
                 TAGS.encode(), ldflags(rdk_version()).encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def is_current(go: str | None = None) -> bool:
    """True when both binaries exist and the stamp says they were built from what is here now."""
    out = peer_dir()
    if not all((out / name).is_file() and os.access(out / name, os.X_OK) for name, _ in PEERS):
        return False
    go = go or go_command()
    if go is None:  # no Go to compare against: binaries that exist are the ones to use
        return True
    try:
        return (out / STAMP).read_text().strip() == stamp(go)
    except OSError:
        return False


def build(go: str, force: bool = False) -> int:
    out = peer_dir()
    if not force and is_current(go):
        print(f"viam-server and viam (rdk {rdk_version()}) are current in {out}")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0"}
    nice = os.environ.get("VIAMLITE_PEERS_NICE", "19")
    jobs = os.environ.get("VIAMLITE_PEERS_JOBS", "2")
    prefix = ["nice", "-n", nice] if shutil.which("nice") and nice != "0" else []
    version = rdk_version()
    t0 = time.monotonic()
    # The modules first, so that the time and size of the download are told apart from the build.
    download = subprocess.run([*prefix, go, "mod", "download"], cwd=MODULE, env=env, check=False)
    if download.returncode:
        print(f"go mod download failed in {MODULE} (exit {download.returncode}): is the Go module proxy "
              "reachable (GOPROXY)?", file=sys.stderr)
        return 1
    downloaded = time.monotonic() - t0
    (out / STAMP).unlink(missing_ok=True)
    for name, package in PEERS:
        t1 = time.monotonic()
        cmd = [*prefix, go, "build", "-p", jobs, "-trimpath", "-tags", TAGS, "-ldflags", ldflags(version),
               "-o", str(out / name), package]
        result = subprocess.run(cmd, cwd=MODULE, env=env, check=False)
        if result.returncode:
            print(f"building {name} failed (exit {result.returncode}): CGO_ENABLED=0 {' '.join(cmd)} in {MODULE}",
                  file=sys.stderr)
            return 1
        size = (out / name).stat().st_size / 2**20
        print(f"built {out / name} ({size:.0f} MB) in {time.monotonic() - t1:.0f} s")
    (out / STAMP).write_text(stamp(go) + "\n")
    print(f"viam-server and viam (rdk {version}) built in {time.monotonic() - t0:.0f} s "
          f"(modules {downloaded:.0f} s) into {out}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="exit 0 when the binaries are current, 1 otherwise")
    group.add_argument("--print-dir", action="store_true", help="print the directory of the binaries")
    group.add_argument("--force", action="store_true", help="build even when the binaries are current")
    args = parser.parse_args()
    if args.print_dir:
        print(peer_dir())
        return 0
    go = go_command()
    if args.check:
        return 0 if is_current(go) else 1
    if go is None:
        print("no go command found (PATH, $GO or /usr/local/go/bin/go): install Go to build viam-server and "
              "the Viam CLI", file=sys.stderr)
        return 1
    return build(go, force=args.force)


if __name__ == "__main__":
    sys.exit(main())
