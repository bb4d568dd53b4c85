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

from typing import TYPE_CHECKING

from viamlite.hookspecs import hookimpl
from viamlite.names import API

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.registry import ModelRegistry

#: model triplet -> (API subtype, module, class)
MODELS: dict[str, tuple[str, str, str]] = {
    "viamlite:serial:board": ("board", "board", "SerialBoard"),
    "viamlite:serial:servo": ("servo", "servo", "SerialServo"),
    "viamlite:serial:encoder": ("encoder", "encoder", "SerialEncoder"),
    "viamlite:serial:sensor": ("sensor", "sensor", "SerialSensor"),
}


@hookimpl
def viamlite_register_models(registry: "ModelRegistry") -> None:
    """Register the four serial models."""
    for model, (subtype, module, cls) in MODELS.items():
        registry.register_lazy(API.component(subtype), model, f"{__name__}.{module}", cls)
