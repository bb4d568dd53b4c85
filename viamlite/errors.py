"""The exception families of viamlite.

One root, :class:`ViamliteError`; each family also inherits the matching builtin, so
``except ValueError`` still catches an invalid argument. Every transport maps each
family to one status code (see ``viamlite.rpc.code_for``).
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
    """No resource of that API and name is on the machine."""

    def __init__(self, api: object, name: str, available: list[str] | None = None) -> None:
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


class AuthError(ViamliteError, PermissionError):
    """Authentication failed; the message never says which part of the credentials was right."""


class UnauthenticatedError(AuthError):
    """No credentials, or a token that is malformed, expired or revoked."""


class PermissionDeniedError(AuthError):
    """The credentials were presented and rejected (unknown key id or wrong key)."""


class ConnectError(ViamliteError, ConnectionError):
    """A machine could not be reached, or the connection to it is down."""
