"""What the fleet keeps, as functions over a SQLAlchemy connection (one transaction each call).

Every function takes an open connection (``engine.begin()``), so a service method composes
several in one transaction. Failures raise viamlite's error families
(:class:`~viamlite.errors.ResourceNotFoundError`, :class:`~viamlite.errors.InvalidArgumentError`,
:class:`~viamlite.errors.FailedPreconditionError`); the service layer maps them to statuses.
"""
from __future__ import annotations

import secrets
import string
import time
import uuid

_ALPHABET = string.ascii_lowercase + string.digits


def now_us() -> int:
    return time.time_ns() // 1000


def new_id() -> str:
    return str(uuid.uuid4())


def new_secret(length: int = 32) -> str:
    """A random secret of lowercase letters and digits (about 165 bits for 32 characters)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
