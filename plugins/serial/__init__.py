"""The bundled ``serial`` plugin: servo, board, encoder and sensor on the viamlite firmware.

The firmware (``firmware/``, an ATmega328P such as an Arduino Uno) speaks the fast path
over its serial port (docs/fastpath.md §1.2, §3.1). Models (each in the module named
after it; attributes in each class's docstring):

* ``viamlite:serial:board`` (:mod:`.board`): GPIO, analog reads, pulse measurement;
* ``viamlite:serial:servo`` (:mod:`.servo`): a hobby servo on one of the firmware's four
  servo outputs;
* ``viamlite:serial:encoder`` (:mod:`.encoder`): a quadrature encoder on two pins;
* ``viamlite:serial:sensor`` (:mod:`.sensor`): named analog and digital pins as readings.

Every model takes ``port`` (required), ``baud``, ``watchdog_ms`` and ``on_timeout``
(:mod:`.settings`). All resources on one port share one link (:mod:`.link`). Loading this
plugin imports no model module and no pyserial.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from viamlite.hookspecs import hookimpl
from viamlite.names import API

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import ResourceConfig
    from viamlite.names import ResourceName
    from viamlite.registry import ModelRegistry
    from viamlite.resource import Resource

#: model triplet -> (API subtype, module, class)
MODELS: dict[str, tuple[str, str, str]] = {
    "viamlite:serial:board": ("board", "board", "SerialBoard"),
    "viamlite:serial:servo": ("servo", "servo", "SerialServo"),
    "viamlite:serial:encoder": ("encoder", "encoder", "SerialEncoder"),
    "viamlite:serial:sensor": ("sensor", "sensor", "SerialSensor"),
}


def model_class(model: str) -> type:
    """The class of ``model`` (a key of :data:`MODELS`), importing its module."""
    _, module, cls = MODELS[model]
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


def _factory(model: str) -> Callable[..., "Resource"]:
    def build(config: "ResourceConfig", dependencies: Mapping["ResourceName", "Resource"]) -> "Resource":
        return model_class(model).from_config(config, dependencies)

    build.__qualname__ = build.__name__ = f"build_serial_{model.rsplit(':', 1)[1]}"
    return build


def _validator(model: str) -> Callable[["ResourceConfig"], list[str]]:
    def validate(config: "ResourceConfig") -> list[str]:
        return model_class(model).validate_config(config)

    validate.__qualname__ = validate.__name__ = f"validate_serial_{model.rsplit(':', 1)[1]}"
    return validate


@hookimpl
def viamlite_register_models(registry: "ModelRegistry") -> None:
    """Register the four serial models."""
    for model, (subtype, module, _) in MODELS.items():
        registry.register(API.component(subtype), model, _factory(model), validate=_validator(model),
                          source=f"{__name__}.{module}")
