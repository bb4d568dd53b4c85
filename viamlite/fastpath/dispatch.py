"""From a method-table row to a call on a resource: argument checks and conversions.

Sits between the transport (the connection) and the component interfaces: it knows the
method table and the resource interfaces, nothing of sockets.
"""
from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import msgpack

from viamlite.errors import InvalidArgumentError, NotSupportedError
from viamlite.fastpath.schema import MethodSpec, methods_for


def _vector3(value: Any, name: str) -> Any:
    from viamlite.spatial import Vector3

    if isinstance(value, dict):
        value = [value.get(k, 0.0) for k in "xyz"]
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise InvalidArgumentError(f"{name} must be [x, y, z] (three numbers), got {value!r}")
    return Vector3(*(float(v) for v in value))


def _number(value: Any, name: str, kind: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"{name} must be a number ({kind}), got {value!r}")
    if kind == "int":
        if isinstance(value, float):
            if not math.isfinite(value) or value != int(value):
                raise InvalidArgumentError(f"{name} must be a whole number, got {value!r}")
            return int(value)
        return value
    if not math.isfinite(value):
        raise InvalidArgumentError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _convert(kind: str, value: Any, name: str) -> Any:
    if kind in ("int", "float"):
        return _number(value, name, kind)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if type(value) is int and value in (0, 1):
            return bool(value)
        raise InvalidArgumentError(f"{name} must be true or false (or 0 or 1), got {value!r}")
    if kind == "pin":  # board pin names are strings; an integer is its decimal name
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise InvalidArgumentError(f"{name} must be a pin name (string or integer), got {value!r}")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise InvalidArgumentError(f"{name} must be a string, got {value!r}")
        return value
    if kind == "map":
        if not isinstance(value, dict):
            raise InvalidArgumentError(f"{name} must be a map, got {value!r}")
        return value
    if kind == "vector3":
        return _vector3(value, name)
    if kind == "list":
        if not isinstance(value, (list, tuple)):
            raise InvalidArgumentError(f"{name} must be an array, got {value!r}")
        return list(value)
    return value


def _arg_specs(spec: MethodSpec) -> list[tuple[str, str, bool]]:
    out = []
    for arg in spec.args:
        optional = arg.endswith("?")
        name, _, kind = arg.rstrip("?").partition(":")
        out.append((name, kind, optional))
    return out


def signature(spec: MethodSpec) -> str:
    """``move(angle_deg)``, for error messages."""
    return f"{spec.name}({', '.join(a.split(':')[0] + ('?' if a.endswith('?') else '') for a in spec.args)})"


def bind(resource: Any, subtype: str, spec: MethodSpec) -> Callable[[Sequence[Any]], Any]:
    """``call(args)`` running ``spec`` on ``resource`` with checked, converted arguments.

    Raises NotSupportedError when the resource does not offer the method.
    """
    if spec.firmware:
        raise NotSupportedError(f"{subtype}.{spec.name} is offered only by the fast-path firmware, not by viamlite")
    if spec.api != "*" and spec.api != subtype:
        raise NotSupportedError(f"method {spec.id} ({spec.api}.{spec.name}) is not a method of {subtype}")
    fn = getattr(resource, spec.name, None)
    if fn is None or not callable(fn):
        raise NotSupportedError(f"{subtype} {getattr(resource, 'name', '?')!r} has no method {spec.name}")
    args = _arg_specs(spec)
    required = sum(1 for _, _, optional in args if not optional)
    sig = signature(spec)

    if not args:
        def call0(values: Sequence[Any]) -> Any:
            if values:
                raise InvalidArgumentError(f"{sig} takes no arguments; got {len(values)}")
            return fn()

        return call0

    if len(args) == 1 and not args[0][2]:
        name0, kind0, _ = args[0]

        def call1(values: Sequence[Any]) -> Any:
            if len(values) != 1:
                raise InvalidArgumentError(f"{sig} takes 1 argument; got {len(values)}")
            return fn(_convert(kind0, values[0], name0))

        return call1

    def call(values: Sequence[Any]) -> Any:
        if not required <= len(values) <= len(args):
            want = f"{required} to {len(args)}" if required != len(args) else str(required)
            raise InvalidArgumentError(f"{sig} takes {want} arguments; got {len(values)}")
        # nil in an optional argument's place means it was left out
        while values and values[-1] is None and len(values) > required and args[len(values) - 1][2]:
            values = values[:-1]
        return fn(*(None if v is None and optional else _convert(kind, v, name)
                    for (name, kind, optional), v in zip(args, values)))

    return call


def offered(resource: Any, subtype: str) -> list[int]:
    """Ids of the table's methods this resource offers (firmware-only ones excluded)."""
    return sorted(spec.id for name, spec in methods_for(subtype).items()
                  if not spec.firmware and callable(getattr(resource, name, None)))


_local = threading.local()


def packer() -> msgpack.Packer:
    """This thread's packer (one per loop thread, not one per connection: each holds a buffer)."""
    try:
        return _local.packer
    except AttributeError:
        _local.packer = found = msgpack.Packer(default=to_wire)
        return found


def to_wire(value: Any) -> Any:
    """msgpack's ``default``: dataclasses (Vector3, Pose, ...) as maps, other objects as text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)
