"""The model registry: which factory builds each (API, model) pair.

Plugins fill it through the ``viamlite_register_models`` hook, usually with
:meth:`ModelRegistry.register_lazy_models` and models that follow the driver contract
(:mod:`viamlite.driver`). The first registration of a pair wins; later ones are kept as
``shadowed`` so a listing can show what was overridden.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from viamlite.names import API, Model, ResourceName

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import ResourceConfig
    from viamlite.resource import Resource

Dependencies = Mapping[ResourceName, "Resource"]
Factory = Callable[["ResourceConfig", Dependencies], "Resource"]
Validator = Callable[["ResourceConfig"], Sequence[str]]


@dataclass(frozen=True)
class Registration:
    """How to build one model of one API.

    ``validate(config)`` checks the attributes (raising ``ConfigError`` with the
    attribute's path) and returns the names of implicit dependencies.
    """

    api: API
    model: Model
    factory: Factory
    validate: Validator | None = None
    source: str = ""


class ModelSource(Protocol):
    """Models a registry does not hold itself (see :meth:`ModelRegistry.add_source`)."""

    def lookup(self, api: API, model: Model) -> Registration | None: ...

    def models_for(self, api: API) -> list[Model]: ...


class LazyModel(NamedTuple):
    """One model of a plugin for :meth:`ModelRegistry.register_lazy_models`: ``target`` is
    ``"module:Class"`` (``module`` relative to the plugin's package); ``name`` tags the
    factory's and validator's names (default: the model's last part)."""

    api: API | str
    model: Model | str
    target: str
    name: str = ""


class ModelRegistry:
    """Models by API, filled by plugins."""

    def __init__(self) -> None:
        self._models: dict[tuple[API, Model], Registration] = {}
        self.shadowed: list[Registration] = []
        self._sources: list[ModelSource] = []

    def add_source(self, source: "ModelSource") -> None:
        """Models known elsewhere, asked after the registered ones: a machine's modules add
        theirs this way (they change as modules start and stop)."""
        self._sources.append(source)

    def register(
        self,
        api: API | str,
        model: Model | str,
        factory: Factory,
        *,
        validate: Validator | None = None,
        source: str = "",
    ) -> None:
        """Register ``factory(config, dependencies) -> Resource`` for ``api`` and ``model``."""
        api = api if isinstance(api, API) else API.parse(api)
        model = model if isinstance(model, Model) else Model.parse(model)
        reg = Registration(api, model, factory, validate, source or getattr(factory, "__module__", ""))
        if (api, model) in self._models:
            self.shadowed.append(reg)
            return
        self._models[(api, model)] = reg

    def register_lazy(self, api: API | str, model: Model | str, module: str, cls: str, *, name: str = "") -> None:
        """Register class ``cls`` of ``module`` (its ``from_config`` and ``validate_config``),
        imported only when a config names the model, so loading a plugin stays cheap.
        ``name`` tags the factory's and validator's names (default: the model's last part)."""
        def load() -> Any:
            import importlib

            return getattr(importlib.import_module(module), cls)

        def build(config: "ResourceConfig", dependencies: Dependencies) -> "Resource":
            return load().from_config(config, dependencies)

        def validate(config: "ResourceConfig") -> Sequence[str]:
            return load().validate_config(config)

        tag = (name or str(model).rsplit(":", 1)[-1]).replace("-", "_")
        build.__qualname__ = build.__name__ = f"build_{tag}"
        validate.__qualname__ = validate.__name__ = f"validate_{tag}"
        self.register(api, model, build, validate=validate, source=module)

    def register_lazy_models(self, package: str, models: Iterable[LazyModel | tuple[Any, ...]]) -> None:
        """Register a plugin's models lazily (:meth:`register_lazy` each): one entry per model,
        ``(api, model, "module:Class")`` or ``(api, model, "module:Class", name)``, where
        ``module`` is relative to ``package`` (the plugin's ``__name__``) and the class
        follows the driver contract (:class:`viamlite.driver.Configured`)."""
        for entry in models:
            api, model, target, *rest = entry
            module, sep, cls = str(target).partition(":")
            if not sep or not module or not cls:
                raise ValueError(f"{target!r} must name a module of {package} and a class, as \"servo:MyServo\"")
            self.register_lazy(api, model, f"{package}.{module}", cls, name=rest[0] if rest else "")

    def lookup(self, api: API, model: Model) -> Registration | None:
        found = self._models.get((api, model))
        if found is None:
            for source in self._sources:
                found = source.lookup(api, model)
                if found is not None:
                    break
        return found

    def models_for(self, api: API) -> list[Model]:
        found = {m for (a, m) in self._models if a == api}
        for source in self._sources:
            found.update(source.models_for(api))
        return sorted(found)

    def apis(self) -> list[API]:
        return sorted({a for (a, _) in self._models})

    def __iter__(self) -> Any:
        return iter(self._models.values())

    def __len__(self) -> int:
        return len(self._models)
