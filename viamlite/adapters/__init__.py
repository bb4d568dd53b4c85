"""Adapters between the Viam wire messages and viamlite's resource interfaces.

One module per API (``viamlite.adapters.servo`` serves ``ServoService``), one for the
robot service. Adapters know messages and resources; they know nothing of the transport
beyond the small :class:`~viamlite.rpc.Call` view of a call.
"""
from __future__ import annotations


def adapter_module(subtype: str) -> str:
    """The adapter module of a builtin component API (``servo`` -> ``viamlite.adapters.servo``)."""
    return f"viamlite.adapters.{subtype}"
