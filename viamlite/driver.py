"""The driver contract: how the model registry validates and builds a configured resource.

A model is a class that subclasses :class:`Configured` and one component interface
(``class MyServo(Configured, Servo)``; ``Configured`` first). The registry needs two
class methods of it, which :class:`Configured` writes in terms of one the driver writes:

* ``settings(attrs)`` reads and checks every attribute (raising ``ConfigError`` naming the
  attribute and the fix, through :class:`~viamlite.attributes.Attributes`) and returns
  them as a dict; it touches no hardware, so a config can be checked anywhere;
* ``implicit_dependencies(settings)`` names the resources the model needs beyond the
  config's ``depends_on`` (default: none);
* ``validate_config(config)`` is ``implicit_dependencies(settings(attrs))``;
* ``from_config(config, dependencies)`` builds the resource through ``build(name, attrs,
  dependencies)``, which by default calls ``cls(name, attrs)``; a model whose constructor
  takes other arguments (its dependencies, its settings) overrides ``build``.

A plugin registers its models lazily, so loading it imports no model module::

    @hookimpl
    def viamlite_register_models(registry):
        registry.register_lazy_models(__name__, [
            ("rdk:component:servo", "acme:servos:pwm", "servo:PwmServo"),  # module servo, class PwmServo
        ])

:mod:`viamlite.testing.contracts` holds the tests each API's models should pass.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from viamlite.attributes import Attributes

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import ResourceConfig
    from viamlite.names import ResourceName
    from viamlite.resource import Resource

Dependencies = Mapping["ResourceName", "Resource"]


def attributes_of(attributes: Mapping[str, Any] | Attributes | None) -> Attributes:
    """``attributes`` as :class:`Attributes` (a plain dict when a model is built directly)."""
    return attributes if isinstance(attributes, Attributes) else Attributes(attributes)


class Configured:
    """The base of a configured model: ``settings``, ``validate_config``, ``from_config``.

    A mixin: put it before the component interface, which supplies the resource itself.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        """Read and check every attribute (raising ConfigError); no hardware is touched."""
        return {}

    @classmethod
    def implicit_dependencies(cls, settings: dict[str, Any]) -> list[str]:
        """Names of the resources the model needs beyond ``depends_on``."""
        return []

    @classmethod
    def validate_config(cls, config: "ResourceConfig") -> list[str]:
        """Check the attributes (raising ConfigError); return the names of implicit dependencies."""
        return list(cls.implicit_dependencies(cls.settings(Attributes.of(config))))

    @classmethod
    def from_config(cls, config: "ResourceConfig", dependencies: Dependencies) -> Any:
        """The resource ``config`` describes, built with its ``dependencies``."""
        return cls.build(config.name, Attributes.of(config), dependencies)

    @classmethod
    def build(cls, name: str, attrs: Attributes, dependencies: Dependencies) -> Any:
        """Make the resource (default ``cls(name, attrs)``; the constructor reads ``settings``)."""
        return cls(name, attrs)  # type: ignore[call-arg]
