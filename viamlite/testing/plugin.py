"""viamlite's pytest plugin: fixtures for testing drivers and machines.

pytest loads it in every run once viamlite is installed (the ``pytest11`` entry point
``viamlite.testing.plugin``); it adds fixtures and nothing else, so a run that uses none of
them is unchanged.

* ``served_machine``: a factory. ``served_machine(config)`` builds a
  :class:`~viamlite.machine.Machine` from a config dict (the demo machine when None),
  serves it over gRPC and the fast path on loopback (free ports) and returns a
  :class:`ServedMachine`: ``machine``, ``grpc_address``, ``fastpath_address``, ``channel``
  (a grpcio channel) and the clients ``client()`` (``viamlite.connect``) and
  ``fastpath()`` (a :class:`~viamlite.fastpath.client.FastPathClient`). Everything is
  closed at the end of the test.
* ``wait_for``: ``wait_for(predicate, "what", timeout=5.0)`` polls ``predicate()`` until
  it returns something true (and returns that), or fails the test naming ``what`` and the
  last value seen.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import pytest

T = TypeVar("T")

#: Default limit of ``wait_for``, in seconds.
WAIT_FOR_TIMEOUT_S = 5.0


class ServedMachine:
    """A machine served on loopback by :func:`served_machine`; :meth:`close` stops it all."""

    def __init__(self, config: Mapping[str, Any] | None = None, *, fastpath: bool = True) -> None:
        from viamlite.adapters.serving import MachineServer
        from viamlite.machine import Machine

        if config is None:
            from viamlite.cli.serve import demo_config

            self.machine = Machine(demo_config())
        else:
            self.machine = Machine.from_config(dict(config))
        self._closers: list[Callable[[], Any]] = [self.machine.close]
        try:
            self.server = MachineServer(self.machine)
            port = self.server.start("127.0.0.1:0")
            self._closers.append(lambda: self.server.stop(0))
            self.grpc_address = f"127.0.0.1:{port}"
            self.fastpath_address: str | None = None
            self.fastpath_server: Any = None
            if fastpath:
                from viamlite.fastpath.server import FastPathServer

                self.fastpath_server = FastPathServer(self.machine)
                self._closers.append(self.fastpath_server.stop)
                host, fast_port = self.fastpath_server.listen_tcp("127.0.0.1:0")
                self.fastpath_address = f"{host}:{fast_port}"
            self._channel: Any = None
        except BaseException:
            self.close()
            raise

    @property
    def channel(self) -> Any:
        """A grpcio channel to the machine (made on first use)."""
        if self._channel is None:
            import grpc

            self._channel = grpc.insecure_channel(self.grpc_address)
            self._closers.append(self._channel.close)
        return self._channel

    def client(self, **kwargs: Any) -> Any:
        """A new ``viamlite.connect`` client (closed with the machine)."""
        import viamlite

        client = viamlite.connect(self.grpc_address, **kwargs)
        self._closers.append(client.close)
        return client

    def fastpath(self, **kwargs: Any) -> Any:
        """A new fast-path client (closed with the machine)."""
        if self.fastpath_address is None:
            raise RuntimeError("this machine is served without the fast path (fastpath=False)")
        from viamlite.fastpath.client import FastPathClient

        client = FastPathClient.connect(self.fastpath_address, **kwargs)
        self._closers.append(client.close)
        return client

    def __getitem__(self, name: str) -> Any:
        """The in-process resource ``name``."""
        return self.machine[name]

    def close(self) -> None:
        """Close the clients, stop the servers, then close the machine (each once)."""
        while self._closers:
            self._closers.pop()()


@pytest.fixture
def served_machine() -> Iterator[Callable[..., ServedMachine]]:
    """``served_machine(config=None, *, fastpath=True)``: a machine served on loopback, closed at the end."""
    started: list[ServedMachine] = []

    def serve(config: Mapping[str, Any] | None = None, *, fastpath: bool = True) -> ServedMachine:
        served = ServedMachine(config, fastpath=fastpath)
        started.append(served)
        return served

    yield serve
    for served in reversed(started):
        served.close()


def wait_until(predicate: Callable[[], T], what: str = "the condition", *, timeout: float = WAIT_FOR_TIMEOUT_S,
               interval: float = 0.01) -> T:
    """Poll ``predicate()`` every ``interval`` s until it is true (returning it); after
    ``timeout`` s fail the test, naming ``what`` and the last value (an exception counts as
    not yet, and is shown)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = predicate()
        except Exception as exc:  # not ready yet, such as a link still opening
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            pytest.fail(f"{what} did not happen within {timeout:g} s (last: {last!r})")
        time.sleep(interval)


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """``wait_for(predicate, what, timeout=5.0, interval=0.01)``: see :func:`wait_until`."""
    return wait_until
