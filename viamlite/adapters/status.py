"""Which status code each error family becomes, and the message that goes with it."""
from __future__ import annotations

from viamlite import errors
from viamlite.rpc import Code, RpcError

_CODES: tuple[tuple[type[BaseException], Code], ...] = (
    (errors.ResourceNotFoundError, Code.NOT_FOUND),
    (errors.InvalidArgumentError, Code.INVALID_ARGUMENT),
    (errors.ConfigError, Code.INVALID_ARGUMENT),
    (errors.NotSupportedError, Code.UNIMPLEMENTED),
    (errors.UnhealthyResourceError, Code.UNAVAILABLE),
    (errors.ResourceClosedError, Code.UNAVAILABLE),
    (errors.CancelledError, Code.CANCELLED),
    (TimeoutError, Code.DEADLINE_EXCEEDED),
    (NotImplementedError, Code.UNIMPLEMENTED),
)


def code_for(exc: BaseException) -> Code:
    """The code for ``exc``; anything not raised on purpose (a driver's bug) is UNKNOWN."""
    for family, code in _CODES:
        if isinstance(exc, family):
            return code
    return Code.UNKNOWN


def describe(exc: BaseException, where: str) -> str:
    """One line a person can act on: where it happened and what went wrong."""
    if isinstance(exc, errors.ViamliteError):
        return f"{where}: {exc}"
    text = str(exc) or "no details"
    return f"{where}: {type(exc).__name__}: {text}"


def rpc_error(exc: BaseException, where: str) -> RpcError:
    return RpcError(code_for(exc), describe(exc, where))
