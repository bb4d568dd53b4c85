"""Operations: every call in flight on a machine, listable and cancellable.

The adapter that runs a call opens an operation around it; a long-running driver method
waits with :func:`sleep` (or checks :func:`current`), so CancelOperation, a vanished
client or a stop ends it promptly. Transport-neutral: nothing here knows of gRPC.

Opening an operation is on every call's path, so it is cheap: the id and the events are
made only when someone asks for them.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from viamlite.errors import CancelledError

_local = threading.local()
_lazy = threading.Lock()


class Operation:
    """One call in flight: ``method``, its ``arguments`` (the request), start time, session."""

    __slots__ = ("method", "arguments", "session_id", "started", "_id", "_cancelled", "_done", "_manager", "_previous")

    def __init__(self, method: str, arguments: Any = None, session_id: str = "",
                 manager: "OperationManager | None" = None) -> None:
        self.method = method
        self.arguments = arguments
        self.session_id = session_id
        self.started = time.time()
        self._id: str | None = None
        self._cancelled: threading.Event | None = None
        self._done: threading.Event | None = None
        self._manager = manager
        self._previous: Operation | None = None

    @property
    def id(self) -> str:
        if self._id is None:
            with _lazy:
                if self._id is None:
                    self._id = str(uuid.uuid4())
        return self._id

    @property
    def cancelled(self) -> threading.Event:
        if self._cancelled is None:
            with _lazy:
                if self._cancelled is None:
                    self._cancelled = threading.Event()
        return self._cancelled

    @property
    def done(self) -> threading.Event:
        if self._done is None:
            with _lazy:
                if self._done is None:
                    self._done = threading.Event()
        return self._done

    def cancel(self) -> None:
        self.cancelled.set()

    def is_cancelled(self) -> bool:
        return self._cancelled is not None and self._cancelled.is_set()

    # context manager: registered while the call runs, current for its thread
    def __enter__(self) -> "Operation":
        self._previous = getattr(_local, "op", None)
        _local.op = self
        if self._manager is not None:
            self._manager._ops[id(self)] = self
        return self

    def __exit__(self, *exc: object) -> None:
        _local.op = self._previous
        if self._manager is not None:
            self._manager._ops.pop(id(self), None)
        with _lazy:
            if self._done is None:
                self._done = _SET
                return
        self._done.set()


class _AlwaysSet:
    """The ``done`` event of an operation that ended before anyone waited for it."""

    def is_set(self) -> bool:
        return True

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def set(self) -> None:
        pass


_SET: Any = _AlwaysSet()


class OperationManager:
    """The operations of one machine."""

    def __init__(self) -> None:
        self._ops: dict[int, Operation] = {}

    def run(self, method: str, arguments: Any = None, session_id: str = "") -> Operation:
        """An operation to use as ``with manager.run(...)``: listed and current while it runs."""
        return Operation(method, arguments, session_id, self)

    def list(self) -> list[Operation]:
        return list(self._ops.values())

    def get(self, op_id: str) -> Operation | None:
        for op in self.list():
            if op.id == op_id:
                return op
        return None

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
