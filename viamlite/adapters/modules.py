"""Modules in RobotService answers: RPC subtypes, status, models, RestartModule (the
machine's module manager is ``machine.modules``, None for a machine without modules)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.machine import Machine


# -- RobotService answers ---------------------------------------------------------------

_STATES = {"pending": 1, "starting": 2, "ready": 3, "unhealthy": 4, "closing": 5}  # ModuleStatus.State


def add_subtypes(machine: Machine, response: Any) -> None:
    """Append the APIs of the modules' resources to a ResourceRPCSubtypesResponse."""
    modules = machine.modules
    if modules is None:
        return
    from viamlite.gen import common_pb2

    have = {(s.subtype.namespace, s.subtype.type, s.subtype.subtype) for s in response.resource_rpc_subtypes}
    services = modules.services()
    for api in sorted({e.config.api for e in machine.entries()}):
        service = services.get(api)
        if service and (api.namespace, api.type, api.subtype) not in have:
            response.resource_rpc_subtypes.add(
                subtype=common_pb2.ResourceName(namespace=api.namespace, type=api.type, subtype=api.subtype),
                proto_service=service)


def add_statuses(machine: Machine, response: Any) -> None:
    """Append each module's state to a GetMachineStatusResponse."""
    if machine.modules is None:
        return
    for status in machine.modules.statuses():
        item = response.modules.add(module_name=status.name, state=_STATES.get(status.state.value, 0),
                                    error=status.error, consecutive_failures=status.failures)
        item.last_updated.FromNanoseconds(int(status.updated * 1e9))


def add_models(machine: Machine, response: Any) -> None:
    """Fill a GetModelsFromModulesResponse."""
    if machine.modules is None:
        return
    for model in machine.modules.models():
        response.models.add(module_name=model.module, model=str(model.model), api=str(model.api),
                            from_local_module=model.local)


def restart(machine: Machine, request: Any) -> None:
    """RestartModule by name (or by module id, for registry modules)."""
    from viamlite.errors import ResourceNotFoundError

    which = request.module_name or request.module_id
    modules = machine.modules
    if modules is not None and request.module_id and not request.module_name:
        which = next((m.name for m in modules.modules.values() if m.config.module_id == request.module_id), which)
    if modules is None:
        raise ResourceNotFoundError("module", which, [])
    try:
        modules.restart(which)
    except LookupError:
        raise ResourceNotFoundError("module", which, sorted(modules.modules)) from None


__all__ = ["add_models", "add_statuses", "add_subtypes", "restart"]
