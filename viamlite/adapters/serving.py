"""A machine served over gRPC: the adapters of every API bound to one machine."""
from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from viamlite.adapters import adapter_module
from viamlite.adapters.robot import RobotService
from viamlite.components import COMPONENTS
from viamlite.gen import POOL
from viamlite.machine import Machine
from viamlite.rpc import Method
from viamlite.transport.grpc_server import GrpcServer

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.auth import Authority

log = logging.getLogger("viamlite.adapters.serving")


def machine_methods(machine: Machine, shutdown: Callable[[], None] | None = None, *,
                    robot: RobotService | None = None) -> list[Method]:
    """Every wire method viamlite serves, bound to ``machine`` (``robot``: the RobotService to serve)."""
    methods = (robot or RobotService(machine, shutdown)).methods()
    for subtype in COMPONENTS:
        methods += importlib.import_module(adapter_module(subtype)).service.methods(machine)
    from viamlite.adapters import shell

    methods += shell.methods(machine)  # built-in services
    return methods


class MachineServer:
    """Serves ``machine`` on gRPC; ``start(bind)`` returns the bound port.

    ``shutdown`` is called when a client asks the machine to shut down. With an
    ``authority``, AuthService is served and every other call needs its token.
    """

    def __init__(self, machine: Machine, *, shutdown: Callable[[], None] | None = None, quick_workers: int = 4,
                 long_workers: int = 64, authority: "Authority | None" = None) -> None:
        self.machine = machine
        methods, gate = machine_methods(machine, shutdown), None
        if authority is not None:
            from viamlite.adapters.auth import auth_gate, auth_methods

            methods += auth_methods(authority)
            gate = auth_gate(authority)
        from viamlite.adapters.session import join_session
        from viamlite.remotes.forward import RemoteRouter

        self.grpc = GrpcServer(methods, pool=POOL, quick_workers=quick_workers, long_workers=long_workers, gate=gate,
                               router=RemoteRouter(machine, join_session), reflected=lambda: module_apis(machine))
        self.port = 0

    def start(self, bind: str, *, tls: tuple[bytes, bytes] | None = None) -> int:
        """Listen on ``bind``; ``tls`` is (certificate chain PEM, private key PEM) for TLS."""
        self.port = self.grpc.serve(bind, tls)
        return self.port

    def stop(self, grace: float = 1.0) -> None:
        self.grpc.stop(grace)


def module_apis(machine: Machine) -> list[str]:
    """The modules' own APIs (their services), which reflection lists beside viamlite's."""
    modules = machine.modules
    return sorted(modules.api_services) if modules is not None else []


class ParentServer:
    """The machine served to its modules: every resource (other modules' too) on the unix
    socket ``path``, with no authentication and never on the network; ``RobotService.Log``
    goes into the machine's log under the sending module's name (``on_log(entries)``)."""

    def __init__(self, machine: Machine, path: str, on_log: Callable[[list[Any]], None]) -> None:
        from viamlite.adapters.session import join_session
        from viamlite.remotes.forward import RemoteRouter

        self.path = path
        methods = machine_methods(machine, robot=ParentRobotService(machine, on_log))
        self.grpc = GrpcServer(methods, pool=POOL, quick_workers=2, long_workers=32,
                               router=RemoteRouter(machine, join_session), reflected=lambda: module_apis(machine))

    def start(self) -> None:
        self.grpc.add_port(f"unix:{self.path}")
        self.grpc.start()

    def stop(self, grace: float = 1.0) -> None:
        self.grpc.stop(grace)


class ParentRobotService(RobotService):
    """RobotService as modules see it on the parent's socket: their logs are the machine's."""

    def __init__(self, machine: Machine, on_log: Callable[[list[Any]], None]) -> None:
        super().__init__(machine, shutdown=None)
        self._on_log = on_log

    def Log(self, req: Any, call: Any) -> Any:  # noqa: N802 - the wire method's name
        from viamlite.gen import robot_pb2

        self._on_log(list(req.logs))
        return robot_pb2.LogResponse()
