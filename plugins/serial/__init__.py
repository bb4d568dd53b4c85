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
from viamlite.registry import LazyModel

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.registry import ModelRegistry

#: The models: API, model, and ``module:class`` in this package.
MODELS = [
    LazyModel(API.component("board"), "viamlite:serial:board", "board:SerialBoard"),
    LazyModel(API.component("servo"), "viamlite:serial:servo", "servo:SerialServo"),
    LazyModel(API.component("encoder"), "viamlite:serial:encoder", "encoder:SerialEncoder"),
    LazyModel(API.component("sensor"), "viamlite:serial:sensor", "sensor:SerialSensor"),
]


@hookimpl
def viamlite_register_models(registry: "ModelRegistry") -> None:
    """Register the four serial models."""
    registry.register_lazy_models(__name__, MODELS)
