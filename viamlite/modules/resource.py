"""A module's resource as the machine holds it: the client's proxy of its API over the
module's link (so in-process code and other resources use it like any resource), whose wire
calls are forwarded as bytes, and whose lifecycle is the module protocol's."""
from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from viamlite.names import API, ResourceName
from viamlite.remotes import Route
from viamlite.remotes.forward import Forwarded

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import ResourceConfig
    from viamlite.modules.manager import Module
    from viamlite.resource import Resource


class ModuleResource(Forwarded):
    """The mixin of every module resource class (see :func:`resource_class`)."""

    module: Module
    config: ResourceConfig
    dependencies: Mapping[ResourceName, Resource]

    def bind(self, module: Module, config: ResourceConfig, dependencies: Mapping[ResourceName, Resource]) -> None:
        self.module = module
        self.config = config
        self.dependencies = dict(dependencies)
        self.route = Route(config.api, config.name, module.link, config.name, ())  # type: ignore[arg-type]

    def reconfigure(self, config: ResourceConfig, dependencies: Mapping[ResourceName, Resource]) -> None:
        """ReconfigureResource on the module (which rebuilds it in place, for viam-sdk modules)."""
        self.module.reconfigure_resource(self, config, dependencies)
        self.config = config
        self.dependencies = dict(dependencies)

    def _on_close(self) -> None:
        self.module.remove_resource(self)


@functools.cache
def resource_class(api: API) -> type:
    """The class of a module's resources of ``api``: :class:`ModuleResource` over the
    client's proxy of the API (the generic proxy for APIs viamlite has no interface for)."""
    from viamlite.client.resources import PROXIES, RemoteResource

    base: type = RemoteResource
    if api.namespace == "rdk" and api.type == "component" and api.subtype in PROXIES:
        base = getattr(importlib.import_module(f"viamlite.client.resources.{api.subtype}"), PROXIES[api.subtype])
    return type(f"Module{base.__name__}", (ModuleResource, base), {"__module__": __name__})


def make_resource(module: Module, config: ResourceConfig, dependencies: Mapping[ResourceName, Any]) -> Any:
    """The machine's handle on resource ``config`` that ``module`` built."""
    resource = resource_class(config.api)(config.name, module.link.connection, api=config.api)
    resource.bind(module, config, dependencies)
    return resource


__all__ = ["ModuleResource", "make_resource", "resource_class"]
