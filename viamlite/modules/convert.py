"""A resource's config as the module protocol carries it (``viam.app.v1.ComponentConfig``),
and the dependency names modules answer with."""
from __future__ import annotations

import logging
from typing import Any

from viamlite.config import ResourceConfig
from viamlite.errors import ConfigError

log = logging.getLogger("viamlite.modules")


def component_config(config: ResourceConfig) -> Any:
    """``config`` (a component or a service) as a ComponentConfig, ``api`` and ``model`` in full."""
    from viamlite.app.robotconfig import component_to_proto

    raw = dict(config.raw) if config.raw else {"name": config.name, "attributes": dict(config.attributes)}
    raw.pop("type", None)  # a service's "type" is its subtype; "api" below says it whole
    raw.pop("namespace", None)
    raw["api"] = str(config.api)
    raw["model"] = str(config.model)
    try:
        return component_to_proto(raw, path=config.path or "component", dropped=[])
    except ConfigError as exc:  # a key of a shape the proto cannot carry: send what matters
        log.debug("%s: %s; sending name, API, model and attributes only", config.path, exc)
        from viamlite.app.structs import dict_to_struct
        from viamlite.gen.app import robot_pb2

        msg = robot_pb2.ComponentConfig(name=config.name, api=str(config.api), model=str(config.model),
                                        depends_on=list(config.depends_on))
        dict_to_struct(dict(config.attributes), msg.attributes)
        return msg


def dependency_name(text: str) -> str:
    """A dependency as a module names it (``m1`` or ``rdk:component:motor/m1``): its resource name."""
    return text.rsplit("/", 1)[-1] if "/" in text else text


__all__ = ["component_config", "dependency_name"]
