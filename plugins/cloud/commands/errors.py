"""The one error a command raises: a line saying what was wrong and the fix, and an exit code."""
from __future__ import annotations

from viamlite.errors import ViamliteError

USAGE = 2
FAILURE = 1


class CommandError(ViamliteError):
    """What went wrong, as one line a person can act on; ``code`` 1 (failure) or 2 (usage)."""

    def __init__(self, message: str, code: int = FAILURE) -> None:
        super().__init__(message)
        self.code = code


class UsageError(CommandError):
    def __init__(self, message: str) -> None:
        super().__init__(message, USAGE)
