"""One error tree and one status table.

* Every exception class defined under ``viamlite/`` and ``plugins/`` derives from
  :class:`viamlite.errors.ViamliteError` (each module is imported; a Blinka module that needs
  hardware is skipped with the reason it failed to import).
* Each family of the status table (``viamlite.rpc.status.TABLE``) raised by a resource on the
  machine comes back as the same family on the gRPC client and on the fast-path client.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

import viamlite
import viamlite_plugins
from viamlite import errors
from viamlite.errors import ViamliteError
from viamlite.rpc import status

#: Classes that are not errors a caller sees but signals caught where they are raised,
#: in modules another change owns; each with why it may stay outside the tree for now.
OUTSIDE_THE_TREE = {
    "viamlite.resource.MustRebuild": "a driver's reconfigure() signal, caught by the machine (the driver "
                                     "contract's module)",
}


def _modules() -> Iterator[tuple[str, ModuleType | None, str]]:
    """(name, module or None, why it was skipped) for every module of viamlite and its plugins."""
    for package in (viamlite, viamlite_plugins):
        yield package.__name__, package, ""
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name.endswith(".__main__") or (".gen." in info.name and info.name.endswith("_pb2")):
                continue  # runs the command line; generated messages (no exceptions)
            try:
                yield info.name, importlib.import_module(info.name), ""
            except Exception as exc:  # noqa: BLE001 - the reason goes into the report
                if info.name.startswith("viamlite_plugins.blinka."):
                    yield info.name, None, f"{type(exc).__name__}: {exc}"
                    continue
                raise AssertionError(f"{info.name} does not import: {type(exc).__name__}: {exc}") from exc


def _exception_classes(module: ModuleType) -> Iterator[type[BaseException]]:
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Exception) and value.__module__ == module.__name__:
            yield value


def test_every_exception_derives_from_the_root() -> None:
    outliers, skipped, seen = [], [], 0
    for name, module, why in _modules():
        if module is None:
            skipped.append(f"{name} ({why})")
            continue
        for cls in _exception_classes(module):
            seen += 1
            key = f"{cls.__module__}.{cls.__qualname__}"
            if not issubclass(cls, ViamliteError) and key not in OUTSIDE_THE_TREE:
                outliers.append(f"{key} (bases: {', '.join(b.__name__ for b in cls.__bases__)})")
    assert seen > 40, f"found only {seen} exception classes: is the walk reaching the modules?"
    assert not outliers, "exceptions outside viamlite's error root: " + "; ".join(outliers)
    if skipped:
        print("skipped (need hardware):", "; ".join(skipped))


def test_merged_classes_are_one() -> None:
    from viamlite.fastpath import errors as fast_errors
    from viamlite.fastpath import server as fast_server
    from viamlite.fastpath.serialport import PortError
    from viamlite.transport import grpc_server

    assert fast_errors.AuthError is errors.AuthError
    assert fast_server.BindError is grpc_server.BindError is errors.BindError
    assert issubclass(errors.BindError, OSError) and issubclass(PortError, OSError)
    assert str(PortError(2, "no such port")) == "[Errno 2] no such port"
    auth = fast_errors.AuthError("refused", status.Code.UNAUTHENTICATED)
    assert str(auth) == "refused" and auth.code == status.Code.UNAUTHENTICATED and isinstance(auth, PermissionError)


def test_the_table_is_the_fast_paths_and_firmwares_code_list() -> None:
    from viamlite.fastpath import errors as fast_errors
    from viamlite.fastpath import schema as S

    assert S.Err is status.Code
    for row in status.TABLE:
        cls = fast_errors.error_for(row.code, "x")
        assert isinstance(cls, fast_errors.CallError) and isinstance(cls, row.family), row
        assert fast_errors.code_for(cls) == row.code, row  # relayed by a fast-path server as it came


def test_the_server_side_is_the_client_sides_inverse() -> None:
    for row in status.TABLE:
        code = status.code_for(row.family("x"))
        assert status.family_for(code) is row.family, row
        for kind in row.also:
            assert status.code_for(kind("x")) == row.code, (kind, row)
    assert status.code_for(RuntimeError("a driver's bug")) == status.Code.UNKNOWN
    assert status.code_for(status.RpcError(status.Code.ABORTED, "x")) == status.Code.ABORTED


# -- round trips over both transports ----------------------------------------------------------

#: One exception per family a server answers with, as a driver raises it.
RAISED = [row.family for row in status.TABLE if row.code != status.Code.OUT_OF_RANGE]
RAISED += [kind for row in status.TABLE for kind in row.also if issubclass(kind, ViamliteError)]


def _instance(kind: type[BaseException]) -> BaseException:
    if kind is errors.ResourceNotFoundError:
        return kind("rdk:component:servo", "elbow")
    return kind("servo1 failed on purpose")


@pytest.fixture(scope="module")
def served() -> Iterator[SimpleNamespace]:
    from viamlite.adapters.serving import MachineServer
    from viamlite.cli.serve import demo_config
    from viamlite.fastpath.server import FastPathServer
    from viamlite.machine import Machine

    machine = Machine(demo_config())
    raising: list[BaseException] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise raising[-1]

    # in place before any client resolves it (the fast path binds a handle's methods once)
    machine["servo1"].get_position = failing
    grpc_server = MachineServer(machine)
    grpc_port = grpc_server.start("127.0.0.1:0")
    fast = FastPathServer(machine)
    _, fast_port = fast.listen_tcp("127.0.0.1:0")
    yield SimpleNamespace(machine=machine, raising=raising, grpc=f"127.0.0.1:{grpc_port}", fast=f"127.0.0.1:{fast_port}")
    fast.stop()
    grpc_server.stop(0)
    machine.close()


@pytest.fixture(scope="module")
def clients(served: SimpleNamespace) -> Iterator[SimpleNamespace]:
    from viamlite.fastpath.client import FastPathClient

    grpc_client = viamlite.connect(served.grpc)
    fast_client = FastPathClient.connect(served.fast)
    yield SimpleNamespace(grpc=grpc_client, fast=fast_client)
    fast_client.close()
    grpc_client.close()


@pytest.mark.parametrize("kind", RAISED, ids=lambda k: k.__name__)
@pytest.mark.parametrize("transport", ["grpc", "fast"])
def test_each_family_round_trips(served: SimpleNamespace, clients: SimpleNamespace, transport: str,
                                 kind: type[BaseException]) -> None:
    raised = _instance(kind)
    code = status.code_for(raised)
    expected = status.family_for(code)
    served.raising.append(raised)
    with pytest.raises(ViamliteError) as info:
        if transport == "grpc":
            clients.grpc["servo1"].get_position()
        else:
            clients.fast.call("servo1", "get_position")
    got = info.value
    assert isinstance(got, expected), f"{kind.__name__} -> {code.name} -> {type(got).__mro__}"
    assert str(raised) in str(got)
    if transport == "grpc":
        assert got.code == code.name  # type: ignore[attr-defined]
    else:
        assert got.code == code  # type: ignore[attr-defined]
