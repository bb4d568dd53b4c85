"""Typed reads of a resource's ``attributes``, for drivers.

A bad value raises a :class:`~viamlite.errors.ConfigError` naming the attribute's JSON path
and the fix, so a driver's validator reports config problems the way the config does.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from viamlite.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import ResourceConfig

def _plain_error(problem: str, *, attribute: str = "", fix: str = "") -> ConfigError:
    return ConfigError(problem, path=f"attributes.{attribute}" if attribute else "attributes", fix=fix)


def thaw(value: Any) -> Any:
    """A plain, mutable copy of a (frozen) config value: dicts and lists all the way down."""
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


class Attributes:
    """Typed reads of a resource's attributes; a bad value raises a ConfigError naming it.

    Built from a config (:meth:`of`, errors carry the config's JSON path) or from a plain
    mapping when a fake is constructed directly.
    """

    def __init__(self, values: Mapping[str, Any] | None = None,
                 error: Callable[..., ConfigError] = _plain_error) -> None:
        self.values: Mapping[str, Any] = values or {}
        self.error = error

    @classmethod
    def of(cls, config: "ResourceConfig") -> "Attributes":
        return cls(config.attributes, config.error)

    def __contains__(self, key: str) -> bool:
        return self.values.get(key) is not None

    def get(self, key: str, default: Any = None) -> Any:
        value = self.values.get(key)
        return default if value is None else value

    def fail(self, key: str, problem: str, fix: str) -> ConfigError:
        return self.error(problem, attribute=key, fix=fix)

    def number(self, key: str, default: float | None, *, minimum: float | None = None,
               maximum: float | None = None, above: float | None = None, integer: bool = False) -> Any:
        """A number (an int when ``integer``), within ``[minimum, maximum]`` and ``> above``."""
        value = self.values.get(key)
        if value is None:
            return default
        bounds = []
        if minimum is not None:
            bounds.append(f">= {minimum:g}")
        if above is not None:
            bounds.append(f"> {above:g}")
        if maximum is not None:
            bounds.append(f"<= {maximum:g}")
        kind = "a whole number" if integer else "a number"
        fix = f"set {key} to {kind}" + (f" {' and '.join(bounds)}" if bounds else "")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(key, f"{key} must be {kind}, got {value!r}", fix)
        if integer:
            if value != int(value):
                raise self.fail(key, f"{key} must be a whole number, got {value!r}", fix)
            value = int(value)
        if ((minimum is not None and value < minimum) or (maximum is not None and value > maximum)
                or (above is not None and value <= above)):
            raise self.fail(key, f"{key} {value!r} is out of range", fix)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(key, f"{key} must be true or false, got {value!r}", f"write \"{key}\": true or false")
        return value

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"{key} must be a non-empty string, got {value!r}", f"set {key} to a name")
        return value

    def mapping(self, key: str, default: Mapping[str, Any] | None = None, *, example: str = "{}") -> Mapping[str, Any] | None:
        value = self.values.get(key)
        if value is None:
            return default
        if not isinstance(value, Mapping):
            raise self.fail(key, f"{key} must be an object, got {type(value).__name__}", f"write \"{key}\": {example}")
        return value

    def sequence(self, key: str, *, example: str = "[]") -> Sequence[Any]:
        value = self.values.get(key)
        if value is None:
            return ()
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise self.fail(key, f"{key} must be a list, got {type(value).__name__}", f"write \"{key}\": {example}")
        return value

    def named_objects(self, key: str, what: str, example: str) -> list[tuple[str, "Attributes"]]:
        """The list at ``key`` of objects with a unique ``name`` (a board's ``analogs``):
        ``(name, attributes of the object)`` pairs. ``what`` names one entry in errors
        ("analog reader"); ``example`` is one entry, for the fix."""
        out: list[tuple[str, Attributes]] = []
        for i, entry in enumerate(self.sequence(key, example=f"[{example}]")):
            path = f"{key}[{i}]"
            if not isinstance(entry, Mapping):
                raise self.fail(path, f"{path} must be an object", f"write {example}")
            sub = self.nested(path, entry)
            name = sub.string("name")
            if not name:
                raise sub.fail("name", f"the {what} needs a name", f"write {example}")
            if any(name == seen for seen, _ in out):
                raise sub.fail("name", f"{what} {name!r} is named twice", f"give each {what} its own name")
            out.append((name, sub))
        return out

    def vector(self, key: str, default: Any) -> Any:
        """A ``{"x": .., "y": .., "z": ..}`` object as a :class:`~viamlite.spatial.Vector3`."""
        from viamlite.spatial import Vector3

        obj = self.mapping(key, example='{"x": 0, "y": 0, "z": 0}')
        if obj is None:
            return default
        sub = self.nested(key, obj)
        return Vector3(*(float(sub.number(axis, 0.0)) for axis in ("x", "y", "z")))

    def nested(self, key: str, values: Mapping[str, Any]) -> "Attributes":
        """Attributes of the object ``values`` found at ``key``; its errors name ``key.field``."""
        def error(problem: str, *, attribute: str = "", fix: str = "") -> ConfigError:
            return self.error(problem, attribute=f"{key}.{attribute}" if attribute else key, fix=fix)

        return Attributes(values, error)
