"""The async twin of :class:`~viamlite.client.machine.MachineClient`.

Each call runs the synchronous client in a worker thread; cancelling the awaiting task
cancels the call on the wire (so a long move on the machine ends too).
"""
from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from viamlite.client.connection import CancelScope, cancel_scope
from viamlite.client.machine import MachineClient
from viamlite.names import API, ResourceName

T = TypeVar("T")

#: MachineClient methods the async client offers as coroutines.
_MACHINE_METHODS = ("refresh", "get_machine_status", "get_version", "get_cloud_metadata", "get_operations",
                    "cancel_operation", "block_for_operation", "stop_all", "get_frame_system_config", "get_pose",
                    "transform_pose", "log", "shutdown")


async def run_cancellable(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking ``fn`` in a thread; cancelling the awaiting task cancels its calls."""
    scope = CancelScope()

    def work() -> T:
        cancel_scope.set(scope)
        return fn(*args, **kwargs)

    task = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        scope.cancel()
        try:
            await asyncio.wait_for(task, timeout=5)
        except BaseException:  # the call's own CancelledError: expected
            pass
        raise


class AsyncResource:
    """A resource proxy whose methods are coroutines: ``await servo.move(90)``."""

    def __init__(self, proxy: Any) -> None:
        self.proxy = proxy
        self.name = proxy.name
        self.API = proxy.API

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self.proxy, attr)
        if not callable(value):
            return value

        @functools.wraps(value)
        async def method(*args: Any, **kwargs: Any) -> Any:
            return await run_cancellable(value, *args, **kwargs)

        return method

    def __repr__(self) -> str:
        return f"<async {self.proxy!r}>"


class AsyncMachineClient:
    """``await AsyncMachineClient.connect(address)``; the machine API as coroutines."""

    def __init__(self, client: MachineClient) -> None:
        self.client = client

    @classmethod
    async def connect(cls, address: str, **kwargs: Any) -> "AsyncMachineClient":
        return cls(await asyncio.to_thread(MachineClient.connect, address, **kwargs))

    def __getattr__(self, attr: str) -> Any:
        if attr not in _MACHINE_METHODS:
            raise AttributeError(f"AsyncMachineClient has no attribute {attr!r}")
        fn = getattr(self.client, attr)

        @functools.wraps(fn)
        async def method(*args: Any, **kwargs: Any) -> Any:
            return await run_cancellable(fn, *args, **kwargs)

        return method

    @property
    def resource_names(self) -> list[ResourceName]:
        return self.client.resource_names

    async def resource(self, api: API, name: str) -> AsyncResource:
        return AsyncResource(await asyncio.to_thread(self.client.resource, api, name))

    async def get(self, name: str) -> AsyncResource:
        return AsyncResource(await asyncio.to_thread(self.client.resource_by_name, name))

    @property
    def connected(self) -> bool:
        return self.client.connected

    async def close(self) -> None:
        await asyncio.to_thread(self.client.close)

    async def __aenter__(self) -> "AsyncMachineClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
