"""Who must authenticate, and the interface the server checks credentials through.

Off loopback (a peer outside 127.0.0.0/8 and ::1, not on a unix socket) the handshake
must carry an API-key access token, or an API key id and key, checked by an
:class:`Authenticator`: the same one gRPC's AuthService uses, so the same tokens work.
"""
from __future__ import annotations

import ipaddress
import socket
from typing import Any, Protocol


class Authenticator(Protocol):
    """Checks credentials; the machine's auth handlers provide one."""

    def verify(self, token: str) -> str:
        """The key id the access ``token`` was issued for; raises PermissionError when invalid."""

    def authenticate(self, key_id: str, key: str) -> str:
        """An access token for the API key; raises PermissionError when the key is wrong."""


def is_local_peer(family: int, peer: Any) -> bool:
    """True for unix sockets and loopback addresses (127.0.0.0/8, ::1, ::ffff:127.x)."""
    if family == getattr(socket, "AF_UNIX", None) or not isinstance(peer, tuple):
        return True
    try:
        ip = ipaddress.ip_address(peer[0].split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback
