"""The ``fastpath`` config block (viamlite-only; viam-server ignores it) and ``serve``'s flags.

    "fastpath": {
        "enabled": true,                       // default true
        "address": "127.0.0.1:8081",           // default 127.0.0.1:<gRPC port + 1>; "" turns TCP off
        "unix_socket": "/run/viamlite.sock",   // default under $XDG_RUNTIME_DIR; "" turns it off
        "max_frame_bytes": 1048576,
        "max_connections": 1024                // beyond it a connection gets GOODBYE
    }

``viamlite serve --fastpath HOST:PORT`` overrides ``address``; ``--no-fastpath`` turns the
fast path off.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viamlite.address import AddressError, split_host_port
from viamlite.errors import ConfigError
from viamlite.fastpath.schema import MAX_STREAM_FRAME

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.fastpath.server import FastPathServer
    from viamlite.machine import Machine

KEYS = ("enabled", "address", "unix_socket", "max_frame_bytes", "max_connections")


@dataclass(frozen=True)
class FastPathConfig:
    """What the block says; ``None`` address or socket: use the default."""

    enabled: bool = True
    address: str | None = None
    unix_socket: str | None = None
    max_frame: int = MAX_STREAM_FRAME
    max_connections: int = 1024


def parse(raw: Mapping[str, Any], source: str = "") -> FastPathConfig:
    """Read the ``fastpath`` block of a raw config dict; ConfigError naming the field when wrong."""
    block = raw.get("fastpath")
    if block is None:
        return FastPathConfig()
    if not isinstance(block, dict):
        raise ConfigError("expected an object", path="fastpath", file=source,
                          fix='write "fastpath": {"address": "127.0.0.1:8081"}')
    for key in block:
        if key not in KEYS:
            raise ConfigError(f"unknown key {key!r}", path=f"fastpath.{key}", file=source,
                              fix=f"use only {', '.join(KEYS)}")
    enabled = block.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"expected true or false, got {enabled!r}", path="fastpath.enabled", file=source,
                          fix='write "enabled": false to turn the fast path off')
    address = block.get("address")
    if address is not None:
        if not isinstance(address, str):
            raise ConfigError(f"expected a string, got {address!r}", path="fastpath.address", file=source,
                              fix='write "address": "127.0.0.1:8081" (port 0 picks a free one), or "" for no TCP')
        if address:
            check_address(address, "fastpath.address", source)
    sock = block.get("unix_socket")
    if sock is not None and not isinstance(sock, str):
        raise ConfigError(f"expected a path string, got {sock!r}", path="fastpath.unix_socket", file=source,
                          fix='write "unix_socket": "/run/user/1000/viamlite.sock", or "" for no unix socket')
    max_frame = block.get("max_frame_bytes", MAX_STREAM_FRAME)
    if isinstance(max_frame, bool) or not isinstance(max_frame, int) or not 64 <= max_frame <= 64 << 20:
        raise ConfigError(f"expected a whole number of bytes from 64 to {64 << 20}, got {max_frame!r}",
                          path="fastpath.max_frame_bytes", file=source, fix='write "max_frame_bytes": 1048576')
    max_connections = block.get("max_connections", 1024)
    if isinstance(max_connections, bool) or not isinstance(max_connections, int) or not 1 <= max_connections <= 65536:
        raise ConfigError(f"expected a whole number from 1 to 65536, got {max_connections!r}",
                          path="fastpath.max_connections", file=source, fix='write "max_connections": 1024')
    return FastPathConfig(enabled, address, sock, max_frame, max_connections)


def check_address(address: str, where: str, source: str = "") -> None:
    """A ConfigError naming ``where`` unless ``address`` is HOST:PORT (viamlite.address parses it)."""
    try:
        split_host_port(address)
    except AddressError as exc:
        raise ConfigError(str(exc), path=where, file=source,
                          fix="write HOST:PORT, such as 127.0.0.1:8081 (port 0 picks a free one)") from None


def default_address(grpc_bind_port: int) -> str:
    """Loopback, the gRPC port + 1 (a free port when gRPC's was chosen freely)."""
    return f"127.0.0.1:{grpc_bind_port + 1 if grpc_bind_port else 0}"


def default_unix_socket(grpc_port: int) -> str:
    """``$XDG_RUNTIME_DIR/viamlite/fastpath-<gRPC port>.sock``, else under ``/tmp/viamlite-<uid>/``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "viamlite" if runtime and os.path.isdir(runtime) else (
        Path(tempfile.gettempdir()) / f"viamlite-{os.getuid()}")
    return str(base / f"fastpath-{grpc_port}.sock")


def start(machine: "Machine", raw: Mapping[str, Any], *, grpc_bind_port: int, grpc_port: int,
          address: str | None = None, disabled: bool = False, source: str = "",
          authenticator: Any = None) -> "tuple[FastPathServer, str] | None":
    """Start the fast path ``serve`` asks for; returns (server, banner line) or None when off.

    Raises ConfigError for a bad block or flag, and the server's BindError when it cannot listen.
    """
    cfg = parse(raw, source)
    if address:
        check_address(address, "--fastpath")
    if disabled or not cfg.enabled:
        return None
    from viamlite.fastpath.server import FastPathServer

    server = FastPathServer(machine, authenticator=authenticator, max_frame=cfg.max_frame,
                            max_connections=cfg.max_connections)
    where = []
    try:
        tcp = address or (cfg.address if cfg.address is not None else default_address(grpc_bind_port))
        if tcp:
            host, port = server.listen_tcp(tcp)
            where.append(f"{host}:{port}")
        path = cfg.unix_socket if cfg.unix_socket is not None else default_unix_socket(grpc_port)
        if path:
            where.append(f"unix:{server.listen_unix(path)}")
    except BaseException:
        server.stop()
        raise
    if not where:
        server.stop()
        return None
    return server, f"viamlite fast path on {' and '.join(where)} (msgpack, protocol 1)"
