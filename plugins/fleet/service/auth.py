"""``proto.rpc.v1.AuthService/Authenticate`` for the fleet: API keys and part secrets."""
from __future__ import annotations

import logging
from typing import Any

from viamlite.errors import PermissionDeniedError
from viamlite.gen import auth_pb2
from viamlite.rpc import Call, Code, Lane, Method, RpcError
from viamlite_plugins.fleet.service import rpc
from viamlite_plugins.fleet.tokens import Tokens

log = logging.getLogger("viamlite.fleet.auth")
PATH = "/proto.rpc.v1.AuthService/Authenticate"


def auth_methods(tokens: Tokens) -> list[Method]:
    def authenticate(request: Any, call: Call) -> Any:
        if len(request.entity) > 200 or len(request.credentials.payload) > 200:
            raise RpcError(Code.INVALID_ARGUMENT, "entity or credentials.payload is longer than 200 characters")
        try:
            token = tokens.authenticate(request.entity, request.credentials.type, request.credentials.payload)
        except PermissionDeniedError as exc:
            log.info("rejected %s credentials", request.credentials.type or "untyped")
            raise RpcError(Code.PERMISSION_DENIED, str(exc)) from None
        return auth_pb2.AuthenticateResponse(access_token=token)

    return [Method(PATH, auth_pb2.AuthenticateRequest, auth_pb2.AuthenticateResponse, rpc(authenticate),
                   lane=Lane.CONTROL)]
