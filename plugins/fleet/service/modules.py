"""The module registry's RPCs: ``viam.app.v1.AppService`` CreateModule, UpdateModule,
UploadModuleFile (a client stream: ModuleFileInfo, then the .tar.gz in chunks), GetModule
and ListModules; ``viam.app.packages.v1.PackageService/GetPackage``, with which a machine
resolves a registry module's version and platform to a package; and viamlite's
``PackageDownloadService/DownloadPackage``, the package's bytes (the URL GetPackage gives).

Who may do what: an owner key of the module's organization creates, updates and uploads;
anything that reaches inside the organization (a key, or a part of one of its machines)
reads its modules and downloads their packages; public modules are read and downloaded by
every caller. A private module outside the caller's reach is NOT_FOUND.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from viamlite.errors import FailedPreconditionError, InvalidArgumentError, PermissionDeniedError, ResourceNotFoundError
from viamlite.gen.app import app_pb2, package_download_pb2, packages_pb2
from viamlite.rpc import Call, Lane, Method
from viamlite_plugins.fleet.access import Principal, Scope
from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.service import header, id_field, rpc, rpc_stream
from viamlite_plugins.fleet.service.views import ts
from viamlite_plugins.fleet.store import modules as store
from viamlite_plugins.fleet.store import orgs, robots
from viamlite_plugins.fleet.tokens import Tokens

APP = "viam.app.v1.AppService"
PACKAGES = "viam.app.packages.v1.PackageService"
DOWNLOAD = "viamlite.app.packages.v1.PackageDownloadService"
URL_SCHEME = "viamlite-package:"
CHUNK = 64 * 1024
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
_VISIBILITY = {app_pb2.VISIBILITY_PRIVATE: "private", app_pb2.VISIBILITY_PUBLIC: "public",
               app_pb2.VISIBILITY_PUBLIC_UNLISTED: "public_unlisted"}
_VISIBILITY_ENUM = {v: k for k, v in _VISIBILITY.items()}


def package_url(module_id: str, version: str, platform: str) -> str:
    return f"{URL_SCHEME}{module_id}/{version}/{platform}"


def module_message(module: store.Module, packages: list[Any]) -> Any:
    row = module.row
    msg = app_pb2.Module(module_id=module.module_id, name=row.name, visibility=_VISIBILITY_ENUM[row.visibility],
                         url=row.url, description=row.description, organization_id=row.organization_id,
                         entrypoint=row.entrypoint, public_namespace=module.namespace)
    for m in json.loads(row.models):
        msg.models.add(api=m.get("api", ""), model=m.get("model", ""))
    if row.first_run is not None:
        msg.first_run = row.first_run
    if row.markdown_description is not None:
        msg.markdown_description = row.markdown_description
    versions: dict[str, Any] = {}
    for p in sorted(packages, key=lambda p: store.version_key(p.version)):
        history = versions.get(p.version)
        if history is None:
            history = versions[p.version] = msg.versions.add(version=p.version, entrypoint=p.entrypoint)
            for m in json.loads(p.models):
                history.models.add(api=m.get("api", ""), model=m.get("model", ""))
        upload = history.files.add(platform=p.platform)
        ts(upload.uploaded_at, p.uploaded_us)
    return msg


class ModuleApi:
    def __init__(self, db: Database, tokens: Tokens) -> None:
        self.db = db
        self.tokens = tokens

    # -- who is calling ----------------------------------------------------------------
    def _who(self, call: Call) -> Principal:
        return self.tokens.principal(header(call, "authorization"))

    @staticmethod
    def _organizations(conn: Any, who: Principal) -> set[str]:
        """The organizations whose modules the caller reads (a part: its machine's)."""
        if who.is_part:
            robot = robots.get_robot(conn, who.part_robot_id)
            return {orgs.get_location(conn, robot.location_id).organization_id}
        return who.organizations()

    def _readable(self, conn: Any, who: Principal, module_id: str) -> store.Module:
        if not module_id:
            raise InvalidArgumentError("module_id is empty: give namespace:name (meta.json's module_id)")
        module = store.get(conn, module_id)
        if module.public or module.organization_id in self._organizations(conn, who):
            return module
        raise ResourceNotFoundError(f"no module {module_id!r}: create it first (module create)")

    def _owned(self, conn: Any, who: Principal, module_id: str, action: str) -> store.Module:
        if who.is_part:
            raise PermissionDeniedError(f"{action} needs an owner API key of the module's organization, not a "
                                        f"part's secret")
        module = store.get(conn, module_id) if module_id else None
        if module is None or not who.reaches_inside(module.organization_id):
            raise ResourceNotFoundError(f"no module {module_id!r}: create it first (module create)")
        who.require_owner(Scope(module.organization_id), action)
        return module

    # -- AppService --------------------------------------------------------------------
    def create_module(self, request: Any, call: Call) -> Any:
        who = self._who(call)
        if who.is_part:
            raise PermissionDeniedError("creating a module needs an owner API key, not a part's secret")
        org_id = id_field(request.organization_id, "organization_id")
        if not who.reaches_inside(org_id):
            raise ResourceNotFoundError(f"no organization with id {org_id!r}")
        who.require_owner(Scope(org_id), "creating a module")
        with self.db.write() as conn:
            orgs.get_organization(conn, org_id)
            module = store.create(conn, org_id, request.name.strip())
        return app_pb2.CreateModuleResponse(module_id=module.module_id, url="")

    def update_module(self, request: Any, call: Call) -> Any:
        who = self._who(call)
        visibility = _VISIBILITY.get(request.visibility)
        if visibility is None:
            raise InvalidArgumentError("visibility is not set: use VISIBILITY_PRIVATE, VISIBILITY_PUBLIC or "
                                       "VISIBILITY_PUBLIC_UNLISTED")
        models = [{"api": m.api, "model": m.model} for m in request.models]
        for i, m in enumerate(models):
            if m["api"].count(":") != 2 or m["model"].count(":") != 2:
                raise InvalidArgumentError(f"models[{i}] must name an API and a model as triplets "
                                           f"(rdk:component:sensor, acme:sensor:mine), got {m}")
        with self.db.write() as conn:
            module = self._owned(conn, who, request.module_id, "updating a module")
            store.update(conn, module, visibility=visibility, url=request.url, description=request.description,
                         models=models, entrypoint=request.entrypoint,
                         first_run=request.first_run if request.HasField("first_run") else None,
                         markdown_description=(request.markdown_description
                                               if request.HasField("markdown_description") else None))
        return app_pb2.UpdateModuleResponse(url=request.url)

    def upload_module_file(self, requests: Iterator[Any], call: Call) -> Any:
        who = self._who(call)
        head = next(requests, None)
        if head is None or head.WhichOneof("module_file") != "module_file_info":
            raise InvalidArgumentError("the first message of UploadModuleFile must carry module_file_info "
                                       "(module_id, version, platform), then the file in chunks")
        info = head.module_file_info
        store.check_version(info.version)
        store.check_platform(info.platform)
        with self.db.read() as conn:  # refuse before the bytes travel
            self._owned(conn, who, info.module_id, "uploading a module")
        chunks, size = [], 0
        for message in requests:
            if message.WhichOneof("module_file") != "file":
                raise InvalidArgumentError("after module_file_info every message must carry file bytes")
            size += len(message.file)
            if size > MAX_UPLOAD_BYTES:
                raise InvalidArgumentError(f"the package is over {MAX_UPLOAD_BYTES} bytes, the most the fleet keeps")
            chunks.append(message.file)
        with self.db.write() as conn:
            module = self._owned(conn, who, info.module_id, "uploading a module")
            if not module.row.entrypoint:
                raise FailedPreconditionError(f"{module.module_id} has no entrypoint: run module update with "
                                              f"meta.json's entrypoint first")
            store.add_package(conn, module, info.version, info.platform, list(info.platform_tags), b"".join(chunks))
        return app_pb2.UploadModuleFileResponse(url=package_url(module.module_id, info.version, info.platform))

    def get_module(self, request: Any, call: Call) -> Any:
        who = self._who(call)
        with self.db.read() as conn:
            module = self._readable(conn, who, request.module_id)
            packages = store.packages(conn, [module.row.id]).get(module.row.id, [])
        return app_pb2.GetModuleResponse(module=module_message(module, packages))

    def list_modules(self, request: Any, call: Call) -> Any:
        who = self._who(call)
        with self.db.read() as conn:
            reach = self._organizations(conn, who)
            if request.HasField("organization_id") and request.organization_id:
                org_id = id_field(request.organization_id, "organization_id")
                if org_id not in reach:
                    raise ResourceNotFoundError(f"no organization with id {org_id!r}")
                reach = {org_id}
            found = store.list_modules(conn, reach)
            packages = store.packages(conn, [m.row.id for m in found])
        return app_pb2.ListModulesResponse(modules=[module_message(m, packages.get(m.row.id, [])) for m in found])

    # -- packages ----------------------------------------------------------------------
    @staticmethod
    def _module_id(package_id: str) -> str:
        # a module's package is "namespace/name" to Viam's package API; "namespace:name" is taken too
        return package_id.replace("/", ":", 1) if ":" not in package_id else package_id

    def get_package(self, request: Any, call: Call) -> Any:
        who = self._who(call)
        if request.HasField("type") and request.type not in (packages_pb2.PACKAGE_TYPE_MODULE,
                                                             packages_pb2.PACKAGE_TYPE_UNSPECIFIED):
            raise InvalidArgumentError("this fleet keeps module packages only: ask for PACKAGE_TYPE_MODULE")
        platform = request.platform if request.HasField("platform") and request.platform else "any"
        with self.db.read() as conn:
            module = self._readable(conn, who, self._module_id(request.id))
            row = store.package(conn, module, request.version, platform)
        info = packages_pb2.PackageInfo(organization_id=module.organization_id, name=module.row.name,
                                        version=row.version, type=packages_pb2.PACKAGE_TYPE_MODULE,
                                        platform=row.platform)
        info.metadata.update({"entrypoint": row.entrypoint, "size": row.size,
                              "platform_tags": json.loads(row.platform_tags)})
        msg = packages_pb2.Package(info=info, checksum=f"sha256:{row.sha256}", id=module.module_id)
        if request.include_url:
            msg.url = package_url(module.module_id, row.version, row.platform)
        ts(msg.created_on, row.uploaded_us)
        return packages_pb2.GetPackageResponse(package=msg)

    def download_package(self, request: Any, call: Call) -> Iterator[Any]:
        who = self._who(call)
        store.check_version(request.version)
        with self.db.read() as conn:
            module = self._readable(conn, who, self._module_id(request.id))
            row = store.package(conn, module, request.version, request.platform or "any", with_data=True)
        data = bytes(row.data)
        for start in range(0, len(data), CHUNK):
            yield package_download_pb2.DownloadPackageResponse(data=data[start:start + CHUNK])

    def methods(self) -> list[Method]:
        app = app_pb2.DESCRIPTOR.services_by_name["AppService"]
        out = []
        for name, handler in {"CreateModule": self.create_module, "UpdateModule": self.update_module,
                              "GetModule": self.get_module, "ListModules": self.list_modules}.items():
            m = app.methods_by_name[name]
            out.append(Method(f"/{APP}/{name}", getattr(app_pb2, m.input_type.name),
                              getattr(app_pb2, m.output_type.name), rpc(handler)))
        out.append(Method(f"/{APP}/UploadModuleFile", app_pb2.UploadModuleFileRequest,
                          app_pb2.UploadModuleFileResponse, rpc(self.upload_module_file), client_streaming=True,
                          lane=Lane.LONG))
        out.append(Method(f"/{PACKAGES}/GetPackage", packages_pb2.GetPackageRequest, packages_pb2.GetPackageResponse,
                          rpc(self.get_package)))
        out.append(Method(f"/{DOWNLOAD}/DownloadPackage", package_download_pb2.DownloadPackageRequest,
                          package_download_pb2.DownloadPackageResponse, rpc_stream(self.download_package),
                          server_streaming=True, lane=Lane.LONG))
        return out


__all__ = ["DOWNLOAD", "PACKAGES", "URL_SCHEME", "ModuleApi", "module_message", "package_url"]
