"""Which gRPC status code each error family becomes."""
from __future__ import annotations

import grpc

from viamlite import errors

_CODES: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (errors.ResourceNotFoundError, grpc.StatusCode.NOT_FOUND),
    (errors.InvalidArgumentError, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotSupportedError, grpc.StatusCode.UNIMPLEMENTED),
    (errors.UnhealthyResourceError, grpc.StatusCode.UNAVAILABLE),
    (errors.ResourceClosedError, grpc.StatusCode.UNAVAILABLE),
    (errors.CancelledError, grpc.StatusCode.CANCELLED),
    (errors.ConfigError, grpc.StatusCode.INVALID_ARGUMENT),
    (TimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (NotImplementedError, grpc.StatusCode.UNIMPLEMENTED),
    (ValueError, grpc.StatusCode.INVALID_ARGUMENT),
    (TypeError, grpc.StatusCode.INVALID_ARGUMENT),
    (PermissionError, grpc.StatusCode.PERMISSION_DENIED),
)


def code_for(exc: BaseException) -> grpc.StatusCode:
    for family, code in _CODES:
        if isinstance(exc, family):
            return code
    return grpc.StatusCode.UNKNOWN


def describe(exc: BaseException, where: str) -> str:
    """One line a person can act on: where it happened and what went wrong."""
    if isinstance(exc, errors.ViamliteError):
        return f"{where}: {exc}"
    text = str(exc) or "no details"
    return f"{where}: {type(exc).__name__}: {text}"
