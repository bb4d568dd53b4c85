"""Addresses: the one parser of ``HOST:PORT`` that servers, clients and the config share.

    split_host_port("127.0.0.1:8081")   -> ("127.0.0.1", 8081)
    split_host_port("[::1]:8081")       -> ("::1", 8081)
    split_host_port(":8080", default_host="0.0.0.0") -> ("0.0.0.0", 8080)

A malformed address is an :class:`AddressError` (a ``ValueError``) that says what was
expected; callers add where the address came from (a config field, a flag).
"""
from __future__ import annotations

from viamlite.errors import ViamliteError

#: URL-ish prefixes the Viam tools accept in front of an address.
SCHEMES = ("grpc://", "https://", "http://", "dns:///")


class AddressError(ViamliteError, ValueError):
    """An address is not ``HOST:PORT``."""


def split_host_port(address: str, *, default_host: str = "127.0.0.1", need_host: bool = False,
                    allow_zero: bool = True) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) -> (host, port); an empty host is ``default_host``.

    ``need_host``: an empty host is an error; ``allow_zero``: port 0 (pick a free one) is accepted.
    """
    host, sep, port = address.rpartition(":")
    low = 0 if allow_zero else 1
    if not sep or not port.isdigit() or not low <= int(port) <= 65535 or (need_host and not host.strip("[]")):
        where = "host:port" if need_host else "host:port or :port"
        raise AddressError(f"{address!r} is not {where} (port {low} to 65535)")
    return host.strip("[]") or default_host, int(port)


def show_host(host: str) -> str:
    """A host as it is written before ``:PORT``: ``::1`` -> ``[::1]``."""
    return f"[{host}]" if ":" in host else host


def strip_scheme(address: str) -> str:
    """``grpc://host:port`` -> ``host:port`` (the other :data:`SCHEMES` too)."""
    for scheme in SCHEMES:
        if address.startswith(scheme):
            return address[len(scheme):]
    return address


__all__ = ["AddressError", "SCHEMES", "show_host", "split_host_port", "strip_scheme"]
