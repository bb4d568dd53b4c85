"""JSON values and ``google.protobuf.Struct``, both ways, keeping whole numbers whole.

A Struct carries every number as a double, so ``7`` arrives as ``7.0``; read back here, a
double with no fraction (and small enough to be exact, |x| ≤ 2^53) is an ``int`` again, so a
config's ``"pin": 7`` stays ``7``. Writing refuses what JSON cannot carry (NaN, infinities,
bytes, sets, whole numbers too large to be exact), with a ConfigError naming the JSON path.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from viamlite.errors import ConfigError

EXACT = 2**53  # beyond this a whole number does not survive a double exactly


def number(value: float) -> int | float:
    """``value`` as an int when it is a whole number that a double holds exactly."""
    return int(value) if value.is_integer() and abs(value) <= EXACT else value


def dict_to_struct(obj: Mapping[str, Any], out: Any, path: str = "") -> Any:
    """Fill the Struct ``out`` (of any descriptor pool) from ``obj``; returns ``out``."""
    out.SetInParent()
    for key, value in obj.items():
        if not isinstance(key, str):
            raise ConfigError(f"key {key!r} is not a string", path=path, fix="use strings as object keys")
        _to_value(value, out.fields[key], f"{path}.{key}" if path else key)
    return out


def _to_value(value: Any, out: Any, path: str) -> None:
    if value is None:
        out.null_value = 0
    elif isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ConfigError(f"{value!r} is not a number JSON can carry", path=path, fix="use a finite number")
        if isinstance(value, int) and abs(value) > EXACT:
            raise ConfigError(f"{value} is too large to carry exactly (as a double)", path=path,
                              fix="write it as a string, or use a number below 2^53")
        out.number_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, Mapping):
        dict_to_struct(value, out.struct_value, path)
    elif isinstance(value, (list, tuple)):
        out.list_value.SetInParent()
        for i, item in enumerate(value):
            _to_value(item, out.list_value.values.add(), f"{path}[{i}]")
    else:
        raise ConfigError(f"a {type(value).__name__} is not a JSON value", path=path,
                          fix="use strings, numbers, booleans, null, lists and objects only")


def struct_to_dict(struct: Any) -> dict[str, Any]:
    """The dict of a Struct, whole numbers as ints."""
    return {key: _from_value(value) for key, value in struct.fields.items()}


def _from_value(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "number_value":
        return number(value.number_value)
    if kind == "struct_value":
        return struct_to_dict(value.struct_value)
    if kind == "list_value":
        return [_from_value(item) for item in value.list_value.values]
    if kind in ("string_value", "bool_value"):
        return getattr(value, kind)
    return None
