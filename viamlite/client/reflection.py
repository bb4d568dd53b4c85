"""Resolve a method by name through server reflection (v1alpha, then v1), as the Viam CLI does.

The server's file descriptors go into a fresh descriptor pool, so any Viam-compatible server
that serves reflection can be called without its protos being installed here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from viamlite.client.status import from_rpc_error
from viamlite.errors import NotSupportedError, ViamliteError
from viamlite.gen import reflection_pb2 as rpb

PATHS = ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
         "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")


class ReflectionError(ViamliteError, LookupError):
    """The server does not serve reflection, or does not have the method asked for."""


@dataclass(frozen=True)
class ResolvedMethod:
    path: str  # /package.Service/Method
    request_class: type
    response_class: type
    server_streaming: bool
    client_streaming: bool


class Reflector:
    """Asks a server for its services and the files that define them."""

    def __init__(self, channel: Any, timeout: float = 10.0) -> None:
        self.channel = channel
        self.timeout = timeout
        self._path: str | None = None
        self.pool = descriptor_pool.DescriptorPool()
        self._added: set[str] = set()

    def _ask(self, request: Any) -> Any:
        paths = [self._path] if self._path else list(PATHS)
        last: grpc.RpcError | None = None
        for path in paths:
            call = self.channel.stream_stream(path, request_serializer=rpb.ServerReflectionRequest.SerializeToString,
                                              response_deserializer=rpb.ServerReflectionResponse.FromString)
            try:
                response = next(iter(call(iter([request]), timeout=self.timeout)))
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                    last = err
                    continue
                raise from_rpc_error(err, "server reflection") from None
            self._path = path
            if response.HasField("error_response"):
                raise ReflectionError(f"server reflection: {response.error_response.error_message} "
                                      f"(code {response.error_response.error_code})")
            return response
        raise ReflectionError("the server does not serve reflection (v1alpha or v1), so methods cannot be "
                              "resolved by name") from (from_rpc_error(last) if last else None)

    def services(self) -> list[str]:
        response = self._ask(rpb.ServerReflectionRequest(list_services=""))
        return sorted(s.name for s in response.list_services_response.service)

    def _add_files(self, blobs: Any) -> None:
        protos = {}
        for blob in blobs:
            fd = descriptor_pb2.FileDescriptorProto.FromString(blob)
            protos[fd.name] = fd
        pending = dict(protos)

        def add(name: str) -> None:
            if name in self._added:
                return
            fd = pending.pop(name, None)
            if fd is None:  # a dependency the server did not send along: ask for it
                response = self._ask(rpb.ServerReflectionRequest(file_by_filename=name))
                for blob in response.file_descriptor_response.file_descriptor_proto:
                    other = descriptor_pb2.FileDescriptorProto.FromString(blob)
                    pending.setdefault(other.name, other)
                fd = pending.pop(name, None)
                if fd is None:
                    raise ReflectionError(f"server reflection did not return the file {name!r}")
            for dep in fd.dependency:
                add(dep)
            self.pool.Add(fd)
            self._added.add(name)

        for name in list(protos):
            add(name)

    def service(self, service_name: str) -> Any:
        """The descriptor of ``service_name``, its file and their dependencies read into :attr:`pool`."""
        response = self._ask(rpb.ServerReflectionRequest(file_containing_symbol=service_name))
        self._add_files(response.file_descriptor_response.file_descriptor_proto)
        return self.pool.FindServiceByName(service_name)

    def resolve(self, full_method: str) -> ResolvedMethod:
        """``package.Service.Method`` (or ``package.Service/Method``) to its path and classes."""
        text = full_method.strip().lstrip("/").replace("/", ".")
        service_name, _, method_name = text.rpartition(".")
        if not service_name or not method_name:
            raise ReflectionError(f"method {full_method!r} must be written package.Service.Method, such as "
                                  f"viam.component.servo.v1.ServoService.Move")
        services = self.services()
        if service_name not in services:
            listing = "\n  ".join(services) or "(none)"
            raise ReflectionError(f"the server has no service {service_name!r}; it has:\n  {listing}")
        service = self.service(service_name)
        md = service.methods_by_name.get(method_name)
        if md is None:
            methods = ", ".join(m.name for m in service.methods)
            raise ReflectionError(f"service {service_name} has no method {method_name!r}; it has: {methods}")
        return ResolvedMethod(f"/{service_name}/{method_name}", message_factory.GetMessageClass(md.input_type),
                              message_factory.GetMessageClass(md.output_type), md.server_streaming,
                              md.client_streaming)


def resolve(channel: Any, full_method: str, timeout: float = 10.0) -> ResolvedMethod:
    return Reflector(channel, timeout).resolve(full_method)


__all__ = ["NotSupportedError", "ReflectionError", "Reflector", "ResolvedMethod", "resolve"]
