"""Operations: every call in flight on a machine, listable and cancellable.

The adapter that runs a call opens an operation around it; a long-running driver method
waits with :func:`sleep` (or checks :func:`current`), so CancelOperation, a vanished
client or a stop ends it promptly. Transport-neutral: nothing here knows of gRPC.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from viamlite.errors import CancelledError

_local = threading.local()


@dataclass
class Operation:
    """One call in flight."""

    id: str
    method: str
    arguments: Mapping[str, Any] | None = None
    session_id: str = ""
    started: float = field(default_factory=time.time)
    cancelled: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self.cancelled.set()


class OperationManager:
    """The operations of one machine."""

    def __init__(self) -> None:
        self._ops: dict[str, Operation] = {}
        self._lock = threading.Lock()

    @contextmanager
    def run(self, method: str, arguments: Mapping[str, Any] | None = None, session_id: str = "") -> Iterator[Operation]:
        """Register an operation for the duration of the ``with`` block, as the current one."""
        op = Operation(str(uuid.uuid4()), method, arguments, session_id)
        with self._lock:
            self._ops[op.id] = op
        previous = getattr(_local, "op", None)
        _local.op = op
        try:
            yield op
        finally:
            _local.op = previous
            with self._lock:
                self._ops.pop(op.id, None)
            op.done.set()

    def list(self) -> list[Operation]:
        with self._lock:
            return list(self._ops.values())

    def get(self, op_id: str) -> Operation | None:
        with self._lock:
            return self._ops.get(op_id)

    def cancel(self, op_id: str) -> bool:
        """Cancel ``op_id``; False when no such operation is running."""
        op = self.get(op_id)
        if op is None:
            return False
        op.cancel()
        return True

    def cancel_all(self) -> None:
        for op in self.list():
            op.cancel()

    def block(self, op_id: str, timeout: float | None = None) -> bool:
        """Wait until ``op_id`` ends; True when it ended (or was not running)."""
        op = self.get(op_id)
        return True if op is None else op.done.wait(timeout)


def current() -> Operation | None:
    """The operation the calling thread runs, if any."""
    return getattr(_local, "op", None)


def sleep(seconds: float) -> None:
    """Sleep, or raise :class:`CancelledError` as soon as the current operation is cancelled."""
    op = current()
    if op is None:
        time.sleep(max(0.0, seconds))
        return
    if op.cancelled.wait(max(0.0, seconds)):
        raise CancelledError(f"{op.method} was cancelled")
