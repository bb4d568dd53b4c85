"""Client-side: method lookup, result decoding, and resources that call over the fast path.

:func:`proxy_class` builds, per component interface, a subclass whose methods make
fast-path calls, so ``Servo.from_robot(client, "servo1").move(90)`` works on a client
as it does in-process.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from viamlite.fastpath import schema as S


class Handle(NamedTuple):
    """A resolved resource: the number to put in requests, its API, the method ids it offers."""

    number: int
    api: str
    name: str
    methods: tuple[int, ...]

    @property
    def subtype(self) -> str:
        return self.api.rpartition(":")[2]


class Sample(NamedTuple):
    """One subscription sample: sequence number, server time (ns since the epoch), value."""

    seq: int
    t_ns: int
    value: Any


class Event(NamedTuple):
    """A channel's notice: a failed sample or setpoint, or a deadman stop."""

    channel: int
    seq: int
    code: int
    message: str


def method_spec(subtype: str, method: int | str) -> S.MethodSpec:
    """The spec of ``method`` (id or name) for ``subtype``."""
    if isinstance(method, int):
        spec = S.BY_ID.get(method)
        if spec is None:
            raise KeyError(f"unknown method id {method}")
        return spec
    return S.by_name(subtype, method)


@lru_cache(maxsize=None)
def decoder(result: str) -> Callable[[Any], Any] | None:
    """A function turning a wire result of shape ``result`` into its Python type (None: as is)."""
    mod, dot, name = result.partition(".")
    if not dot:
        return None
    module = importlib.import_module("viamlite.spatial" if mod == "spatial" else f"viamlite.components.{mod}")
    cls = getattr(module, name)
    if hasattr(cls, "from_wire"):  # nested values of their own (a camera's images)
        return cls.from_wire

    def decode(value: Any) -> Any:
        if isinstance(value, dict):
            return cls(**value)
        if isinstance(value, (list, tuple)):
            return cls(*value)
        return value

    return decode


def proxy_class(interface: type) -> type:
    """A subclass of ``interface`` whose table methods call ``self._call(spec, args)``."""
    return _proxy_class(interface)


@lru_cache(maxsize=None)
def _proxy_class(interface: type) -> type:
    subtype = interface.API.subtype
    namespace: dict[str, Any] = {"__doc__": f"{interface.__name__} over the fast path."}
    table = S.methods_for(subtype)
    for name, spec in table.items():
        if spec.firmware or (spec.api == "*" and not hasattr(interface, name)):
            continue
        namespace[name] = _method(spec)
    from viamlite.errors import NotSupportedError

    for name in getattr(interface, "__abstractmethods__", ()):
        if name not in namespace:
            def unsupported(self: Any, *args: Any, _name: str = name, **kwargs: Any) -> Any:
                raise NotSupportedError(f"{subtype}.{_name} is not offered over the fast path; use the gRPC client")

            unsupported.__name__ = name
            namespace[name] = unsupported
    namespace["__init__"] = _init
    namespace["__repr__"] = lambda self: f"<{interface.__name__} {self.name!r} over the fast path (handle {self._handle.number})>"
    return type(f"FastPath{interface.__name__}", (interface,), namespace)


def _init(self: Any, name: str, handle: Handle, call: Callable[[S.MethodSpec, list], Any]) -> None:
    from viamlite.resource import Resource

    Resource.__init__(self, name)
    self._handle = handle
    self._call = call


def _method(spec: S.MethodSpec) -> Callable[..., Any]:
    decode = decoder(spec.result)

    def method(self: Any, *args: Any, extra: Any = None, **kwargs: Any) -> Any:
        if kwargs:  # keyword arguments by the table's names
            names = [a.split(":")[0] for a in spec.args]
            values = list(args) + [kwargs.pop(n) for n in names[len(args):] if n in kwargs]
            if kwargs:
                raise TypeError(f"{spec.name}() got unexpected arguments {sorted(kwargs)}")
            args = tuple(values)
        self._check_open()  # a closed proxy refuses, as the in-process resource does
        value = self._call(spec, list(args))
        return decode(value) if decode is not None else value

    method.__name__ = spec.name
    method.__doc__ = f"Fast-path method {spec.id}: {spec.name}({', '.join(spec.args)}) -> {spec.result}."
    return method
