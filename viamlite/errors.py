"""The exception families of viamlite.

One root, :class:`ViamliteError`; each family also inherits the matching builtin, so
``except ValueError`` still catches an invalid argument. Every exception viamlite raises
derives from the root. One table maps each family to its status code and back, on every
transport and client (``viamlite.rpc.status.TABLE``): a call that fails on the machine
raises the same family on the caller's side, over gRPC or the fast path.
"""
from __future__ import annotations


class ViamliteError(Exception):
    """Root of every error viamlite raises on purpose."""


class ConfigError(ViamliteError, ValueError):
    """A machine config is invalid.

    The message names the file, the JSON path of the offending field, what was wrong and
    how to fix it, on one line.
    """

    def __init__(self, problem: str, *, path: str = "", fix: str = "", file: str = "") -> None:
        self.problem = problem
        self.path = path
        self.fix = fix
        self.file = file
        super().__init__(self._render())

    def _render(self) -> str:
        where = ": ".join(p for p in (self.file, self.path) if p)
        text = f"{where}: {self.problem}" if where else self.problem
        return f"{text}; fix: {self.fix}" if self.fix else text

    def in_file(self, file: str) -> "ConfigError":
        """Return the same error, now naming ``file``."""
        return ConfigError(self.problem, path=self.path, fix=self.fix, file=file)


class ResourceNotFoundError(ViamliteError, LookupError):
    """No resource of that API and name is on the machine.

    ``ResourceNotFoundError(message)`` (no ``name``): the failure as another machine
    reported it, its message as is (``api`` is None then).
    """

    api: object = None
    name: str = ""

    def __init__(self, api: object, name: str | None = None, available: list[str] | None = None) -> None:
        if name is None:
            super().__init__(str(api))
            return
        self.api = api
        self.name = name
        hint = f"; resources of this API: {', '.join(available)}" if available else ""
        super().__init__(f"resource {name!r} of API {api} not found{hint}")

    def __str__(self) -> str:
        return self.args[0]


class InvalidArgumentError(ViamliteError, ValueError):
    """A call's argument is out of range or malformed."""


class NotSupportedError(ViamliteError, NotImplementedError):
    """The resource's model does not offer this method."""


class ResourceClosedError(ViamliteError, RuntimeError):
    """The resource was closed (removed from the machine, or the machine shut down)."""


class UnhealthyResourceError(ViamliteError, RuntimeError):
    """The resource failed to build or reconfigure; the message carries the cause."""


class CancelledError(ViamliteError):
    """A long-running call was cancelled (CancelOperation, client gone, stop)."""


class AbortedError(ViamliteError, RuntimeError):
    """A call was cut short by another caller: a stop, or a new command, ended the motion it
    was waiting on. The message names the resource, the method, how far it got and why."""


class DeadlineExceededError(ViamliteError, TimeoutError):
    """A call did not answer within its deadline."""


class ResourceExhaustedError(ViamliteError, RuntimeError):
    """A limit was reached (connections, streams, subscriptions); the message names it."""


class FailedPreconditionError(ViamliteError, RuntimeError):
    """The call is not allowed in the state it was made in (a second HELLO, a forwarding loop)."""


class RemoteError(ViamliteError, RuntimeError):
    """The machine answered with a failure that has no more specific family (UNKNOWN, INTERNAL)."""


class AuthError(ViamliteError, PermissionError):
    """Authentication failed; the message never says which part of the credentials was right.

    ``code``: the status the server answered with, when it came from a reply.
    """

    def __init__(self, message: str = "", code: "int | str | None" = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class UnauthenticatedError(AuthError):
    """No credentials, or a token that is malformed, expired or revoked."""


class PermissionDeniedError(AuthError):
    """The credentials were presented and rejected (unknown key id or wrong key)."""


class ConnectError(ViamliteError, ConnectionError):
    """A machine could not be reached, or the connection to it is down."""


class BindError(ViamliteError, OSError):
    """A server could not listen where it was told to; the message says how to fix it."""
