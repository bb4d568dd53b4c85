"""The bundled ``blinka`` plugin: pins of a single-board computer through Adafruit Blinka.

Models (each in the module named after it; attributes in each class's docstring):

* ``viamlite:blinka:board`` (:class:`~viamlite_plugins.blinka.board.BlinkaBoard`): GPIO,
  PWM, analog pins and polled digital interrupts;
* ``viamlite:blinka:servo`` (:mod:`.servo`): a hobby servo on a board's PWM pin;
* ``viamlite:blinka:motor`` (:mod:`.motor`): a DC motor driver on PWM + direction pins;
* ``viamlite:blinka:i2c-sensor`` (:mod:`.sensor`): an I2C device read through a
  CircuitPython driver.

Loading this plugin imports neither Blinka nor the model modules: a model module is
imported when a config names its model, and Blinka (:mod:`.pins`) when a board or sensor
is validated or built. The servo and motor drive their pins through a board resource.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from viamlite.hookspecs import hookimpl
from viamlite.names import API
from viamlite.registry import LazyModel

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.attributes import Attributes
    from viamlite.components.board import Board
    from viamlite.names import ResourceName
    from viamlite.registry import ModelRegistry
    from viamlite.resource import Resource

#: The models: API, model, and ``module:class`` in this package.
MODELS = [
    LazyModel(API.component("board"), "viamlite:blinka:board", "board:BlinkaBoard"),
    LazyModel(API.component("servo"), "viamlite:blinka:servo", "servo:BlinkaServo"),
    LazyModel(API.component("motor"), "viamlite:blinka:motor", "motor:BlinkaMotor"),
    LazyModel(API.component("sensor"), "viamlite:blinka:i2c-sensor", "sensor:I2CSensor"),
]


BOARD_API = API.component("board")


def board_dependency(attrs: "Attributes", dependencies: Mapping["ResourceName", "Resource"], name: str) -> "Board":
    """The board called ``name`` among ``dependencies`` (any board model); else a ConfigError at ``board``."""
    for rn, resource in dependencies.items():
        if rn.api == BOARD_API and name in (rn.name, rn.full_name):
            return resource  # type: ignore[return-value]
    raise attrs.fail("board", f"board {name!r} is not among the dependencies",
                     f"add a board component named {name!r} to the machine")


@hookimpl
def viamlite_register_models(registry: "ModelRegistry") -> None:
    """Register the four Blinka models."""
    registry.register_lazy_models(__name__, MODELS)
