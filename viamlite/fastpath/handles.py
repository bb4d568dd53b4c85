"""A connection's resolved resources: RESOLVE gives a handle per (API, name), and each
handle binds the table's methods to the resource once (checked arguments, converted)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from viamlite.errors import NotSupportedError
from viamlite.fastpath import schema as S
from viamlite.fastpath.dispatch import bind, offered
from viamlite.fastpath.errors import code_for
from viamlite.fastpath.handshake import RequestError, show
from viamlite.names import API

MAX_HANDLES = 1024


class ServedHandle:
    """A resolved resource: looked up again when it was rebuilt by a reconfigure."""

    __slots__ = ("number", "api", "subtype", "name", "key", "resource", "bound")

    def __init__(self, number: int, api: API, name: str, resource: Any) -> None:
        self.number = number
        self.api = api
        self.subtype = api.subtype
        self.name = name
        self.key = (api, name)
        self.resource = resource
        self.bound: dict[Any, tuple[Callable[[Any], Any], S.MethodSpec, bool]] = {}


class HandleTable:
    """Handles 1.. of one connection (``numbered[0]`` is unused)."""

    def __init__(self, machine: Any) -> None:
        self.machine = machine
        self.numbered: list[ServedHandle | None] = [None]
        self._by_name: dict[tuple[str, str], ServedHandle] = {}

    def resolve(self, name: Any, api: Any) -> list:
        """RESOLVE: ``[handle, api, offered method ids]``; the same name gives the same handle."""
        if not isinstance(name, str) or not name:
            raise RequestError(S.Err.INVALID_ARGUMENT, f"RESOLVE needs a resource name, got {show(name)}")
        if api is not None and not isinstance(api, str):
            raise RequestError(S.Err.INVALID_ARGUMENT, f"RESOLVE's API must be a string or nil, got {show(api)}")
        try:
            parsed = API.parse(api) if api and ":" in api else API.component(api) if api else None
        except ValueError as exc:
            raise RequestError(S.Err.INVALID_ARGUMENT, str(exc)) from None
        try:
            if parsed is not None:
                resource = self.machine.resource(parsed, name)
            else:
                resource = self.machine.resource_by_name(name)
                parsed = resource.API
        except Exception as exc:
            raise RequestError(code_for(exc), str(exc)) from None
        key = (str(parsed), name)
        handle = self._by_name.get(key)
        if handle is None:
            if len(self.numbered) > MAX_HANDLES:
                raise RequestError(S.Err.RESOURCE_EXHAUSTED, f"a connection may resolve at most {MAX_HANDLES} resources")
            handle = ServedHandle(len(self.numbered), parsed, name, resource)
            self.numbered.append(handle)
            self._by_name[key] = handle
        return [handle.number, str(parsed), offered(resource, parsed.subtype)]

    def get(self, number: Any) -> ServedHandle:
        try:
            handle = self.numbered[number] if type(number) is int and number > 0 else None
        except IndexError:
            handle = None
        if handle is None:
            raise RequestError(S.Err.NOT_FOUND, f"unknown handle {show(number)}; RESOLVE the resource's name first "
                               f"(this connection has handles 1 to {len(self.numbered) - 1})")
        return handle

    def bound(self, handle: ServedHandle, method: Any) -> Callable[[Any], Any]:
        """The call for ``method`` on the resource ``handle`` names now."""
        return self.lookup(handle, method)[0]

    def _bind(self, handle: ServedHandle, method: Any) -> tuple[Callable[[Any], Any], S.MethodSpec, bool]:
        spec = S.BY_ID.get(method) if type(method) is int else None
        if spec is None:
            raise RequestError(S.Err.UNIMPLEMENTED, f"unknown method id {show(method)}; see the method table in "
                               "docs/fastpath.md (RESOLVE lists the ids a resource offers)")
        try:
            fn = bind(handle.resource, handle.subtype, spec)
        except NotSupportedError as exc:
            raise RequestError(S.Err.UNIMPLEMENTED, str(exc)) from None
        handle.bound[method] = entry = (fn, spec, spec.long)
        return entry

    def lookup(self, handle: ServedHandle, method: Any) -> tuple[Callable[[Any], Any], S.MethodSpec]:
        if handle.resource._closed:  # removed or rebuilt by a reconfigure: look it up again
            try:
                resource = self.machine.resource(handle.api, handle.name)
            except Exception as exc:
                raise RequestError(code_for(exc), str(exc)) from None
            handle.resource = resource
            handle.bound.clear()
        entry = handle.bound.get(method)
        if entry is None:
            entry = self._bind(handle, method)
        return entry[0], entry[1]


__all__ = ["HandleTable", "ServedHandle", "MAX_HANDLES"]
