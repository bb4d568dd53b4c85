"""The client: drive any Viam-compatible machine (viamlite, viam-server, a viam-sdk server).

``connect(address)`` returns a synchronous :class:`MachineClient`; ``connect_async`` its
async twin. Resources come back implementing the in-process interfaces.
"""
from __future__ import annotations

from typing import Any

from viamlite.client.aio import AsyncMachineClient
from viamlite.client.machine import MachineClient


def connect(address: str, *, api_key_id: str | None = None, api_key: str | None = None, timeout: float = 10.0,
            insecure: bool | None = None, check_interval: float = 1.0) -> MachineClient:
    """Connect to the machine at ``address`` (``host:port`` or ``unix:/path``).

    TLS is detected (a self-signed certificate is trusted on localhost/127.*); with
    ``api_key_id``/``api_key`` the key is exchanged for a token as the Viam SDKs do.
    ``timeout`` (seconds) bounds the whole connection; each resource method takes its own
    ``timeout=`` too. Raises
    :class:`~viamlite.errors.ConnectError` when nothing answers, and
    :class:`~viamlite.errors.AuthError` for a rejected key.
    """
    return MachineClient.connect(address, api_key_id=api_key_id, api_key=api_key, timeout=timeout,
                                 insecure=insecure, check_interval=check_interval)


async def connect_async(address: str, **kwargs: Any) -> AsyncMachineClient:
    """The async twin of :func:`connect`."""
    return await AsyncMachineClient.connect(address, **kwargs)


__all__ = ["AsyncMachineClient", "MachineClient", "connect", "connect_async"]
