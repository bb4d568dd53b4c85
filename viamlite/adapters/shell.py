"""Shell service over the wire: ``viam.service.shell.v1.ShellService``.

``Shell`` is a bidirectional stream: the first request names the service (and may carry
``extra`` ``{"tty": bool, "rows": N, "cols": N, "term": "xterm"}``), every request's
``data_in`` goes to the shell, each response carries output (``data_out``; ``data_err``
too when ``tty`` is false), and the last one has ``eof`` set. The shell's exit status
travels in the trailing metadata ``viamlite-exit-status`` (the Viam API has no field for it).
When the caller closes its side the shell gets EOF; when the caller goes away, a hang-up.

Served only to authenticated callers: on a machine without API keys every Shell call is
refused (PERMISSION_DENIED, with the fix).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from viamlite.adapters.service import ResourceService, rpc_error
from viamlite.gen import shell_pb2 as pb
from viamlite.rpc import Call, Code, Lane, Method, RpcError, wire
from viamlite.services.shell import SHELL_API

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine

log = logging.getLogger("viamlite.adapters.shell")

SERVICE = "viam.service.shell.v1.ShellService"
#: Trailing metadata key of the shell's exit status.
EXIT_STATUS = "viamlite-exit-status"

service = ResourceService(SHELL_API, pb.DESCRIPTOR.services_by_name["ShellService"])


def methods(machine: "Machine") -> list[Method]:
    """DoCommand and GetStatus (as every API has them), and Shell."""
    return [*service.methods(machine),
            Method(f"/{SERVICE}/Shell", pb.ShellRequest, pb.ShellResponse, _shell(machine), server_streaming=True,
                   client_streaming=True, lane=Lane.LONG)]


def _options(request: Any) -> dict[str, Any]:
    extra = wire.struct_to_dict(request.extra) if request.HasField("extra") else {}
    try:
        return {"tty": bool(extra.get("tty", True)), "rows": int(extra.get("rows", 24)),
                "cols": int(extra.get("cols", 80)), "term": str(extra.get("term", "xterm"))}
    except (TypeError, ValueError) as exc:
        raise RpcError(Code.INVALID_ARGUMENT, f"{SERVICE}/Shell: extra must hold tty (bool), rows and cols (numbers) "
                                              f"and term (text): {exc}") from None


def _shell(machine: "Machine") -> Any:
    def handler(requests: Iterator[Any], call: Call) -> Iterator[Any]:
        first = next(requests, None)
        if first is None:
            return
        where = f"shell {first.name!r} Shell"
        if machine.config.auth is None:
            raise RpcError(Code.PERMISSION_DENIED,
                           f"{where}: the shell service serves only authenticated callers, and this machine has no "
                           f"API keys; add an api-key handler to the config's auth (a fleet member gets the fleet's "
                           f"keys) and call with a key")
        try:
            shell = machine.resource(SHELL_API, first.name)
            options = _options(first)
            session = shell.open_session(**options)  # type: ignore[attr-defined]
        except RpcError:
            raise
        except Exception as exc:
            raise rpc_error(exc, where) from exc

        def feed() -> None:
            try:
                if first.data_in:
                    session.write(first.data_in)
                for request in requests:
                    if request.data_in:
                        session.write(request.data_in)
                    if request.HasField("extra"):
                        extra = wire.struct_to_dict(request.extra)
                        if "rows" in extra and "cols" in extra:
                            session.resize(int(extra["rows"]), int(extra["cols"]))
            except Exception:  # the caller went away: the done callback hangs up
                return
            session.end_input()

        def hang_up() -> None:
            if session.exit_status is None:
                session.kill()

        call.add_done_callback(hang_up)
        threading.Thread(target=feed, name="viamlite-shell-input", daemon=True).start()
        try:
            for kind, text in session.output(call.is_active):
                yield pb.ShellResponse(data_out=text) if kind == "out" else pb.ShellResponse(data_err=text)
        finally:
            if session.exit_status is None:
                session.kill()
            shell.end_session(session)  # type: ignore[attr-defined]
        call.set_trailing_metadata([(EXIT_STATUS, str(session.exit_status))])
        yield pb.ShellResponse(eof=True)

    return handler
