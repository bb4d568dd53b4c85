"""``proto.rpc.v1.AuthService`` and the check every other call passes, over an :class:`Authority`."""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from viamlite.auth import Authority
from viamlite.errors import AuthError, PermissionDeniedError
from viamlite.gen import auth_pb2
from viamlite.rpc import Call, Code, Lane, Method, RpcError

log = logging.getLogger("viamlite.auth")

AUTHENTICATE = "/proto.rpc.v1.AuthService/Authenticate"
#: Paths a client may call without a token.
OPEN_PATHS = frozenset({AUTHENTICATE})


def auth_methods(authority: Authority) -> list[Method]:
    def authenticate(request: Any, call: Call) -> Any:
        try:
            token = authority.authenticate(request.entity, request.credentials.payload, request.credentials.type)
        except PermissionDeniedError as exc:
            log.info("rejected credentials for entity of %d characters", len(request.entity))
            raise RpcError(Code.PERMISSION_DENIED, str(exc)) from None
        return auth_pb2.AuthenticateResponse(access_token=token)

    return [Method(AUTHENTICATE, auth_pb2.AuthenticateRequest, auth_pb2.AuthenticateResponse, authenticate,
                   lane=Lane.CONTROL)]


def auth_gate(authority: Authority) -> Callable[[str, Sequence[tuple[str, Any]]], None]:
    """The check every call but Authenticate passes: RpcError(UNAUTHENTICATED) without a valid token."""

    def check(path: str, metadata: Sequence[tuple[str, Any]]) -> None:
        if path in OPEN_PATHS:
            return
        header = next((value for key, value in metadata if key == "authorization"), None)
        try:
            authority.verify_bearer(header if isinstance(header, str) else None)
        except AuthError as exc:
            raise RpcError(Code.UNAUTHENTICATED, str(exc)) from None

    return check
