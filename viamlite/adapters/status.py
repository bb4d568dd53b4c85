"""The status a failed call answers: the transport-neutral mapping of :mod:`viamlite.rpc`."""
from __future__ import annotations

from viamlite.rpc import RpcError, code_for, describe

__all__ = ["code_for", "describe", "rpc_error"]


def rpc_error(exc: BaseException, where: str) -> RpcError:
    return RpcError(code_for(exc), describe(exc, where))
