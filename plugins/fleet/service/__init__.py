"""The fleet's RPCs: AuthService, AppService and the machines' RobotService, as method tables.

Each handler finds the caller's principal from its token, works in one transaction, and
raises viamlite's error families; :func:`rpc` turns them into statuses with the same words.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError

from viamlite.errors import ViamliteError
from viamlite.rpc import Call, Code, RpcError, code_for

log = logging.getLogger("viamlite.fleet")
MAX_NAME = 200


def header(call: Call, name: str) -> str | None:
    value = next((v for k, v in call.metadata() if k == name), None)
    return value if isinstance(value, str) else None


def _status(exc: BaseException) -> RpcError:
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, ViamliteError):
        return RpcError(code_for(exc), str(exc))
    if isinstance(exc, IntegrityError):
        return RpcError(Code.FAILED_PRECONDITION, "the change conflicts with another one made at the same time: "
                                                  "read the current state and try again")
    if isinstance(exc, OperationalError):
        log.warning("fleet database error: %s", exc)
        return RpcError(Code.UNAVAILABLE, "the fleet's database is not answering: try again shortly")
    log.exception("fleet method failed")
    return RpcError(Code.INTERNAL, f"the fleet failed: {type(exc).__name__}: {exc}")


def rpc(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Map a unary handler's exceptions to statuses."""
    @functools.wraps(handler)
    def run(request: Any, call: Call) -> Any:
        try:
            return handler(request, call)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a status
            raise _status(exc) from None

    return run


def rpc_stream(handler: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    @functools.wraps(handler)
    def run(request: Any, call: Call) -> Iterator[Any]:
        try:
            yield from handler(request, call)
        except Exception as exc:  # noqa: BLE001
            raise _status(exc) from None

    return run


def name_field(value: str, field: str) -> str:
    from viamlite.errors import InvalidArgumentError

    value = value.strip()
    if not value:
        raise InvalidArgumentError(f"{field} is empty: give a name")
    if len(value) > MAX_NAME:
        raise InvalidArgumentError(f"{field} is {len(value)} characters long; at most {MAX_NAME} are allowed")
    if any(ord(c) < 32 for c in value):
        raise InvalidArgumentError(f"{field} contains control characters")
    return value


def id_field(value: str, field: str) -> str:
    """An id from a request: empty or not a UUID is INVALID_ARGUMENT, naming the field."""
    import uuid

    from viamlite.errors import InvalidArgumentError

    if not value:
        raise InvalidArgumentError(f"{field} is empty: give the id")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgumentError(f"{field} {value[:80]!r} is not an id (a UUID)") from None
