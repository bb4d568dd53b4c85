"""The module registry: modules (an organization's, named ``namespace:name``) and their
packages (a .tar.gz per version and platform, bytes in the database).

A module's id is ``<public namespace>:<name>`` when its organization has a public namespace,
else ``<organization id>:<name>``; both spellings find it. Versions are semantic versions
(``1.2.3``, ``1.2.3-rc1``); "latest" (or empty) is the highest one uploaded for the asked
platform. A package for ``any`` serves every platform that has none of its own.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select

from viamlite.errors import FailedPreconditionError, InvalidArgumentError, ResourceNotFoundError
from viamlite_plugins.fleet.db.schema import organizations
from viamlite_plugins.fleet.db.schema_modules import module_packages, modules
from viamlite_plugins.fleet.store import new_id, now_us

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,199}$")
VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?$")
PLATFORM = re.compile(r"^(any|[a-z0-9]+/(any|[a-z0-9_]+))$")
VISIBILITIES = ("private", "public", "public_unlisted")
#: A package is at most this large (it travels in one database row).
MAX_PACKAGE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Module:
    """A module's row with its organization's public namespace."""

    row: Any
    namespace: str

    @property
    def module_id(self) -> str:
        return f"{self.namespace or self.row.organization_id}:{self.row.name}"

    @property
    def organization_id(self) -> str:
        return str(self.row.organization_id)

    @property
    def public(self) -> bool:
        return self.row.visibility in ("public", "public_unlisted")


def version_key(version: str) -> tuple[Any, ...]:
    """Semantic-version order: 1.10.0 > 1.9.0, and 1.0.0 > 1.0.0-rc1."""
    m = VERSION.match(version)
    if m is None:
        return (-1,)
    major, minor, patch, pre = m.groups()
    return (int(major), int(minor), int(patch), pre is None, pre or "")


def check_version(version: str) -> str:
    if not VERSION.match(version):
        raise InvalidArgumentError(f"version {version[:60]!r} is not a semantic version: write it as 1.2.3")
    return version


def check_platform(platform: str) -> str:
    if not PLATFORM.match(platform) or len(platform) > 100:
        raise InvalidArgumentError(f"platform {platform[:60]!r} is not one: write os/arch (linux/amd64, linux/arm64, "
                                   f"linux/arm, darwin/arm64) or any")
    return platform


def _joined() -> Any:
    return select(modules, organizations.c.public_namespace).join(
        organizations, organizations.c.id == modules.c.organization_id)


def _module(row: Any) -> Module:
    return Module(row, row.public_namespace or "")


def create(conn: Connection, organization_id: str, name: str) -> Module:
    if not NAME.match(name):
        raise InvalidArgumentError(f"module name {name[:60]!r} is not allowed: use up to 200 lowercase letters, "
                                   f"digits, '-' and '_', starting with a letter or digit")
    taken = conn.execute(select(modules.c.id).where(modules.c.organization_id == organization_id,
                                                    modules.c.name == name)).first()
    if taken is not None:
        raise FailedPreconditionError(f"the organization already has a module named {name!r}: update it, or pick "
                                      f"another name")
    now = now_us()
    row_id = new_id()
    conn.execute(modules.insert().values(id=row_id, organization_id=organization_id, name=name,
                                         visibility="private", url="", description="", models="[]",
                                         entrypoint="", created_us=now, updated_us=now))
    return _module(conn.execute(_joined().where(modules.c.id == row_id)).one())


def get(conn: Connection, module_id: str) -> Module:
    """The module ``namespace:name`` or ``organization-id:name`` (NOT_FOUND otherwise)."""
    prefix, sep, name = module_id.partition(":")
    if not sep or not prefix or not name:
        raise InvalidArgumentError(f"module_id {module_id[:80]!r} is not namespace:name (as meta.json's module_id)")
    try:
        org_id = str(uuid.UUID(prefix))
        where = modules.c.organization_id == org_id
    except ValueError:
        where = organizations.c.public_namespace == prefix
    row = conn.execute(_joined().where(where, modules.c.name == name)).first()
    if row is None:
        raise ResourceNotFoundError(f"no module {module_id!r}: create it first (module create)")
    return _module(row)


def list_modules(conn: Connection, organization_ids: Iterable[str], *, public: bool = True) -> list[Module]:
    """The modules of ``organization_ids``, and (with ``public``) every public one."""
    where = modules.c.organization_id.in_(sorted(set(organization_ids)))
    if public:
        where = or_(where, modules.c.visibility == "public")
    query = _joined().where(where).order_by(modules.c.created_us, modules.c.id)
    return [_module(r) for r in conn.execute(query)]


def update(conn: Connection, module: Module, *, visibility: str, url: str, description: str,
           models: Sequence[dict[str, str]], entrypoint: str, first_run: str | None,
           markdown_description: str | None) -> Module:
    if visibility not in VISIBILITIES:
        raise InvalidArgumentError(f"visibility {visibility!r} is not one of {', '.join(VISIBILITIES)}")
    if visibility != "private" and not module.namespace:
        raise FailedPreconditionError("a public module needs its organization's public namespace: the organization "
                                      "has none, so keep the module private")
    conn.execute(modules.update().where(modules.c.id == module.row.id).values(
        visibility=visibility, url=url, description=description, models=json.dumps(list(models)),
        entrypoint=entrypoint, first_run=first_run, markdown_description=markdown_description,
        updated_us=now_us()))
    return _module(conn.execute(_joined().where(modules.c.id == module.row.id)).one())


def add_package(conn: Connection, module: Module, version: str, platform: str, tags: Sequence[str],
                data: bytes) -> Any:
    """Store a package; the same version and platform twice is refused (versions do not change)."""
    check_version(version)
    check_platform(platform)
    if not data:
        raise InvalidArgumentError("the upload carried no file: send the .tar.gz after module_file_info")
    exists = conn.execute(select(module_packages.c.version).where(
        module_packages.c.module_row == module.row.id, module_packages.c.version == version,
        module_packages.c.platform == platform)).first()
    if exists is not None:
        raise FailedPreconditionError(f"{module.module_id} {version} for {platform} is uploaded already: versions do "
                                      f"not change, so upload a new version")
    conn.execute(module_packages.insert().values(
        module_row=module.row.id, version=version, platform=platform, platform_tags=json.dumps(list(tags)),
        entrypoint=module.row.entrypoint, models=module.row.models, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_us=now_us()))
    return package(conn, module, version, platform, with_data=False)


def packages(conn: Connection, module_rows: Iterable[str]) -> dict[str, list[Any]]:
    """Every package (without bytes) of each module row, by row id, in upload order."""
    cols = [c for c in module_packages.c if c.name != "data"]
    out: dict[str, list[Any]] = {}
    rows = conn.execute(select(*cols).where(module_packages.c.module_row.in_(list(module_rows)))
                        .order_by(module_packages.c.uploaded_us))
    for row in rows:
        out.setdefault(row.module_row, []).append(row)
    return out


def package(conn: Connection, module: Module, version: str, platform: str, *, with_data: bool = False) -> Any:
    """The package for ``version`` ("latest" or empty: the highest) and ``platform`` (or ``any``)."""
    check_platform(platform)
    if version and version != "latest":
        check_version(version)
    cols = list(module_packages.c) if with_data else [c for c in module_packages.c if c.name != "data"]
    query = select(*cols).where(module_packages.c.module_row == module.row.id,
                                module_packages.c.platform.in_([platform, "any"]))
    if version and version != "latest":
        query = query.where(module_packages.c.version == version)
    rows = list(conn.execute(query))
    if not rows:
        which = f"version {version}" if version and version != "latest" else "any version"
        raise ResourceNotFoundError(f"{module.module_id} has no package of {which} for {platform}: upload one "
                                    f"(module upload --version ... --platform {platform})")
    # the highest version; for one version, the platform's own package before "any"
    return max(rows, key=lambda r: (version_key(r.version), r.platform == platform))


__all__ = ["MAX_PACKAGE_BYTES", "Module", "add_package", "check_platform", "check_version", "create", "get",
           "list_modules", "package", "packages", "update", "version_key"]
