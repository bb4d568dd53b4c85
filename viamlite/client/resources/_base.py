"""What every resource proxy shares: calling its service, and the methods every API has."""
from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from google.protobuf import json_format, message_factory

from viamlite.errors import NotSupportedError
from viamlite.gen import POOL, common_pb2
from viamlite.names import API
from viamlite.resource import Extra, Resource
from viamlite.rpc import wire

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.client.connection import Connection
    from viamlite.spatial.geometry import Geometry


#: The deadline of the calls a proxy method makes (its ``timeout=`` argument), in seconds.
_call_timeout: contextvars.ContextVar[float | None] = contextvars.ContextVar("viamlite_call_timeout", default=None)


def _timed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` taking ``timeout=SECONDS`` too, as the Viam SDKs' resource methods do: the calls
    it makes fail with :class:`~viamlite.errors.DeadlineExceededError` after that long."""
    if getattr(fn, "_viamlite_timed", False) or inspect.isgeneratorfunction(fn):
        return fn

    @functools.wraps(fn)
    def method(self: Any, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        if timeout is None:
            return fn(self, *args, **kwargs)
        if timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        token = _call_timeout.set(float(timeout))
        try:
            return fn(self, *args, **kwargs)
        finally:
            _call_timeout.reset(token)

    method._viamlite_timed = True  # type: ignore[attr-defined]
    return method


class RemoteResource(Resource):
    """A resource on another machine. Subclasses also subclass the API's interface and set
    ``SERVICE`` (the full gRPC service name).

    Every public method takes ``timeout=SECONDS`` (a per-call deadline, as in the Viam
    SDKs): ``servo.move(90, timeout=2)``.
    """

    SERVICE: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for attr, value in list(vars(cls).items()):
            if not attr.startswith("_") and inspect.isfunction(value):
                setattr(cls, attr, _timed(value))

    def __init__(self, name: str, connection: "Connection", *, api: API | None = None) -> None:
        super().__init__(name)
        self._connection = connection
        if api is not None:
            self.API = api  # type: ignore[misc]
        self._service = _service(self.SERVICE) if self.SERVICE else None

    def _call(self, method: str, *, extra: Extra = None, timeout: float | None = None, **fields: Any) -> Any:
        """Call ``method`` of the API's service for this resource; returns the response."""
        self._check_open()
        if self._service is None:
            raise NotSupportedError(f"{self.API} {self.name!r}: viamlite has no client for this API's {method}; "
                                    f"use do_command")
        md = self._service.methods_by_name[method]
        return self._invoke(f"/{self.SERVICE}/{method}", md.input_type, md.output_type, extra, timeout, fields)

    def _invoke(self, path: str, input_type: Any, output_type: Any, extra: Extra, timeout: float | None,
                fields: Mapping[str, Any]) -> Any:
        request = message_factory.GetMessageClass(input_type)(**fields)
        for field in ("name", "board_name"):  # as the server reads it
            if field in input_type.fields_by_name:
                setattr(request, field, self.name)
                break
        if extra:
            wire.dict_to_struct(extra, request.extra)
        where = f"{self.API.subtype} {self.name!r} {path.rpartition('/')[2]}"
        if timeout is None:
            timeout = _call_timeout.get()
        return self._connection.unary(path, request, message_factory.GetMessageClass(output_type), timeout=timeout,
                                      where=where)

    def _common(self, method: str, message: str, extra: Extra = None, **fields: Any) -> Any:
        """A method every API shares, called on this API's service (or the generic one)."""
        service = self.SERVICE or "viam.component.generic.v1.GenericService"
        input_type = POOL.FindMessageTypeByName(f"viam.common.v1.{message}Request")
        output_type = POOL.FindMessageTypeByName(f"viam.common.v1.{message}Response")
        self._check_open()
        return self._invoke(f"/{service}/{method}", input_type, output_type, extra, None, fields)

    # -- methods every API has -----------------------------------------------------
    @_timed
    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        request_struct = wire.dict_to_struct(command)
        response = self._common("DoCommand", "DoCommand", command=request_struct)
        return json_format.MessageToDict(response.result)

    @_timed
    def get_geometries(self, *, extra: Extra = None) -> "list[Geometry]":
        response = self._common("GetGeometries", "GetGeometries", extra)
        return [wire.geometry_from_proto(g) for g in response.geometries]

    @_timed
    def get_status(self) -> dict[str, Any]:
        return json_format.MessageToDict(self._common("GetStatus", "GetStatus").result)

    @_timed
    def get_readings(self, *, extra: Extra = None) -> dict[str, Any]:
        return wire.readings_from_proto(self._common("GetReadings", "GetReadings", extra).readings)

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<{type(self).__name__} {self.name!r} {self.API} at {self._connection.address}{state}>"


_ = common_pb2  # the common messages must be loaded into POOL before lookups


def _service(full_name: str) -> Any:
    """The service descriptor; ``viam.component.servo.v1.X`` lives in ``viamlite.gen.servo_pb2``."""
    import importlib

    importlib.import_module(f"viamlite.gen.{full_name.split('.')[2]}_pb2")
    return POOL.FindServiceByName(full_name)
