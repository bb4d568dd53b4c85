"""A call's session on the wire: the ``viam-sid`` metadata, heartbeats, what it moved."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from viamlite.rpc import Call, Code, RpcError

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine

log = logging.getLogger("viamlite.adapters")

#: Metadata that carries a call's session id.
SESSION_METADATA = "viam-sid"
#: What the Viam SDKs expect for a call in an unknown or expired session (they start a new one).
SESSION_EXPIRED = "SESSION_EXPIRED"


def session_of(call: Call) -> str:
    """The session id the call carries, or ``""``."""
    for key, value in call.metadata():
        if key == SESSION_METADATA:
            return value if isinstance(value, str) else value.decode()
    return ""


def join_session(machine: "Machine", call: Call, key: Any, monitored: bool) -> str:
    """Heartbeat the call's session, and when the method moves ``key`` (api, name) record
    the caller as the last to move it (its session, or ``""`` outside any session, so a
    session that expires later leaves this motion alone); returns the session id. A call
    in an expired session is refused as the SDKs expect."""
    sid = session_of(call)
    if sid:
        try:
            if monitored:
                machine.sessions.track(sid, key)  # records it in machine.movers too
            else:
                machine.sessions.heartbeat(sid)
        except LookupError as exc:
            log.info("refused a call in session %s: %s", sid, exc)
            raise RpcError(Code.INVALID_ARGUMENT, SESSION_EXPIRED) from None
    elif monitored:
        machine.movers.moved(key, "")
    return sid
