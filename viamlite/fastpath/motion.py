"""What a fast-path session moved, and the stops made for it.

Every motion call records its session in the machine's motion ledger (who last moved
each resource, across transports). A stop for the session (its end, its timeout) stops
only what the ledger says it was the last to move; a move that returns after such a stop
is the session's again, unless another caller moved the resource meanwhile.
"""
from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from viamlite.state import ConnectionState

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.fastpath.handles import ServedHandle
    from viamlite.machine.sessions import MotionLedger

log = logging.getLogger("viamlite.fastpath")


class MotionBook:
    """Mixed into the server protocol: ``_moved`` (key -> resource), ``_movers`` (the
    machine's ledger), ``owner``, ``id``, ``state`` and ``stopped_at`` are its."""

    _moved: dict[Any, Any]
    _movers: "MotionLedger"
    owner: str
    id: int
    state: ConnectionState
    stopped_at: float | None

    def _moves(self, handle: ServedHandle) -> str | None:
        self._moved[handle.key] = handle.resource
        return self._movers.moved(handle.key, self.owner)

    def _moved_now(self, handle: ServedHandle) -> None:
        """A move returned: it is this session's again unless another caller moved it meanwhile
        (a session timeout or end that ran while the driver call hung released it)."""
        if self._movers.claim(handle.key, self.owner):
            self._moved[handle.key] = handle.resource
            if self.state is ConnectionState.CLOSED:
                self._moved_after_end(handle)

    def _moved_after_end(self, handle: ServedHandle) -> None:
        """A move that finished after the session ended (a driver call that hung across the
        end): nobody else will stop it, so stop it now, unless another caller drives it."""
        if self._movers.release(self.owner, [handle.key]):
            try:
                handle.resource.stop()
                log.info("fast-path session %d: stopped %s (moved after the session ended)", self.id, handle.name)
            except Exception as exc:
                log.warning("fast-path session %d: stopping %s failed: %s", self.id, handle.name, exc)

    def stop_moved(self, why: str) -> list[str]:
        """Stop what this session was the last to move; returns their names."""
        moved = self._moved
        keys = list(moved)
        mine = set(self._movers.release(self.owner, keys))
        names = []
        for key in keys:
            resource = moved.pop(key, None)
            if resource is None or key not in mine:
                continue
            try:
                resource.stop()
                names.append(key[1])
            except Exception as exc:
                log.warning("fast-path session %d: stopping %s (%s) failed: %s", self.id, key[1], why, exc)
        if names:
            self.stopped_at = time.monotonic()
            log.info("fast-path session %d: stopped %s (%s)", self.id, ", ".join(names), why)
        return names


__all__ = ["MotionBook"]
