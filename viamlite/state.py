"""The states a connection goes through, one spelling for every transport.

The gRPC client, remote-part links, serial links and fast-path connections (both ends)
all report their state as a :class:`ConnectionState`. Its values are the words users see in
status and logs; it is a ``str`` enum, so ``state == "connected"`` (the spelling of the older
string constants) still holds.
"""
from __future__ import annotations

import enum


class ConnectionState(str, enum.Enum):
    """Where a connection is in its life."""

    #: dialing, or waiting to dial again after a failure
    CONNECTING = "connecting"
    #: connected; the handshake (HELLO, authentication) is not done yet
    HANDSHAKE = "handshake"
    #: connected, handshake done: calls go through
    CONNECTED = "connected"
    #: lost; a reconnecting owner dials again
    DISCONNECTED = "disconnected"
    #: closed for good
    CLOSED = "closed"

    def __str__(self) -> str:
        return self.value


__all__ = ["ConnectionState"]
