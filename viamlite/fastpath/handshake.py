"""HELLO on the server (the protocol version, the options, the credentials it carries), and
the two ways a request fails: an ERROR reply (:class:`RequestError`) or the end of the
connection (:class:`Close`)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from viamlite.fastpath import schema as S
from viamlite.fastpath.auth import Authenticator
from viamlite.rpc import RpcError


class Close(RpcError):
    """End the connection: send GOODBYE with ``code`` and ``reason`` (when possible), then close."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.reason = reason


class RequestError(RpcError):
    """Answer the request with an ERROR reply (``code``, ``message``)."""


@dataclass
class Accepted:
    """What an accepted HELLO settled."""

    version: int
    key_id: str
    token: str
    client_name: str
    session_timeout: float  # seconds, 0: off


def show(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def accept_hello(msg: list, *, authenticator: Authenticator | None, remote: bool) -> Accepted:
    """Check a HELLO (``[0, id, version, options]``); raises :class:`Close` with the GOODBYE to send."""
    _, rid, version, options = msg
    if type(version) is not int or version < 1:
        raise Close(S.Err.FAILED_PRECONDITION, f"protocol version {show(version)} is not supported; "
                    f"this server speaks version {S.VERSION}")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise Close(S.Err.INVALID_ARGUMENT, f"HELLO options must be a map, got {show(options)}")
    token, key_id = "", ""
    creds = options.get("token") or options.get("key_id")
    if authenticator is not None and (remote or creds):
        token, key_id = _credentials(authenticator, options)
    timeout_ms = options.get("session_timeout_ms", 0) or 0
    if not isinstance(timeout_ms, (int, float)) or isinstance(timeout_ms, bool) or not (
            timeout_ms == 0 or S.MIN_TIMEOUT_MS <= timeout_ms <= S.MAX_TIMEOUT_MS):
        raise Close(S.Err.INVALID_ARGUMENT, f"session_timeout_ms must be 0 (off) or {S.MIN_TIMEOUT_MS} to "
                    f"{S.MAX_TIMEOUT_MS}, got {show(timeout_ms)}")
    return Accepted(min(version, S.VERSION), key_id, token, str(options.get("client", ""))[:100],
                    timeout_ms / 1000.0)


def _credentials(auth: Authenticator, options: dict) -> tuple[str, str]:
    try:
        if options.get("token"):
            token = str(options["token"])
        elif options.get("key_id") and options.get("key"):
            token = auth.authenticate(str(options["key_id"]), str(options["key"]))
        elif options.get("key_id"):
            raise Close(S.Err.UNAUTHENTICATED, "HELLO carries 'key_id' without 'key': send both, or a 'token'")
        else:
            raise Close(S.Err.UNAUTHENTICATED, "this connection is not from loopback: HELLO must carry an "
                        "API-key access token ('token') or an API key ('key_id' and 'key')")
        return token, auth.verify(token)
    except Close:
        raise
    except Exception as exc:
        from viamlite.errors import PermissionDeniedError

        code = S.Err.PERMISSION_DENIED if isinstance(exc, PermissionDeniedError) else S.Err.UNAUTHENTICATED
        raise Close(code, f"credentials refused: {exc}") from None


def hello_info(accepted: Accepted, session: int, max_frame: int, *, with_token: bool) -> dict[str, Any]:
    """HELLO's RESULT."""
    from viamlite import __version__

    info = {"version": accepted.version, "server": f"viamlite {__version__}", "session": session,
            "max_frame": max_frame, "caps": ["call", "subscribe", "setpoints", "ping"], "time_ns": time.time_ns()}
    if with_token and accepted.token:
        info["token"] = accepted.token
    return info


__all__ = ["Close", "RequestError", "Accepted", "accept_hello", "hello_info", "show"]
