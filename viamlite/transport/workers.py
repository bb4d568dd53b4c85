"""Worker pools for the transports."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent import futures
from typing import Any


class ElasticExecutor:
    """A few threads for quick calls, and extra ones when those are stuck.

    Few threads contend less for the GIL, which makes many concurrent small calls cheap.
    But a driver can hang (a stuck bus, a slow device): when every core thread has been
    busy with its current call for longer than ``patience`` seconds, new calls run on an
    overflow pool instead of queueing behind the stuck ones.
    """

    def __init__(self, core: int, overflow: int, *, patience: float = 0.05, name: str = "viamlite") -> None:
        self._core = futures.ThreadPoolExecutor(core, thread_name_prefix=name)
        self._overflow = futures.ThreadPoolExecutor(overflow, thread_name_prefix=f"{name}-overflow")
        self._size = core
        self._patience = patience
        self._started: dict[int, float] = {}  # core thread -> when its current call started
        self.spilled = 0  # calls sent to the overflow pool (for tests and diagnostics)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> futures.Future[Any]:
        if self._stuck():
            self.spilled += 1
            return self._overflow.submit(fn, *args, **kwargs)
        return self._core.submit(self._run, fn, args, kwargs)

    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        me = threading.get_ident()
        self._started[me] = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            del self._started[me]

    def _stuck(self) -> bool:
        if len(self._started) < self._size:
            return False
        limit = time.monotonic() - self._patience
        return all(t < limit for t in list(self._started.values()))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._core.shutdown(wait, cancel_futures=cancel_futures)
        self._overflow.shutdown(wait, cancel_futures=cancel_futures)
