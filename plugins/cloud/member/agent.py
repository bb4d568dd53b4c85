"""What the member tells its fleet about itself: the host (AgentInfo) and the address where
its gRPC server can be reached."""
from __future__ import annotations

import ipaddress
import platform
import socket
import sys
from typing import Any

_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm", "armv6l": "arm",
         "i686": "386", "i386": "386"}


def host_ips() -> list[str]:
    """This host's addresses other than loopback, as its name resolves (no packet is sent)."""
    ips: list[str] = []
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        return ips
    for info in infos:
        text = str(info[4][0]).split("%")[0]
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_unspecified or ip.is_link_local) and text not in ips:
            ips.append(text)
    return ips


def platform_name() -> str:
    """``linux/amd64``, as Viam writes a platform."""
    machine = platform.machine().lower()
    return f"{sys.platform if sys.platform != 'linux2' else 'linux'}/{_ARCH.get(machine, machine)}"


def agent_info(ips: list[str] | None = None) -> Any:
    """The ``viam.app.v1.AgentInfo`` of this host (with ``ips``, else :func:`host_ips`) and build."""
    from viamlite import __version__
    from viamlite.gen.app import robot_pb2

    return robot_pb2.AgentInfo(host=socket.gethostname(), os=sys.platform, ips=host_ips() if ips is None else ips,
                               version=__version__,
                               git_revision="", platform=platform_name())


def part_address(bind_host: str, port: int, ips: list[str]) -> str:
    """``HOST:PORT`` where the part can be reached: the bound host, or for a wildcard bind
    (``0.0.0.0``, ``::``, empty) the first of ``ips``, else 127.0.0.1."""
    from viamlite.address import show_host

    host = bind_host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        host = ips[0] if ips else "127.0.0.1"
    return f"{show_host(host)}:{port}"


__all__ = ["agent_info", "host_ips", "part_address", "platform_name"]
