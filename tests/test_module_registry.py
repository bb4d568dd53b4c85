"""The fleet's module registry: the stored modules and packages (SQLite and PostgreSQL), the
protos against the viam-sdk's, and the official viam-sdk's AppClient creating, updating,
uploading, reading and listing modules on a real ``viamlite fleet serve``, and its
PackageService resolving a version and platform to the package the machine downloads."""
from __future__ import annotations

import asyncio
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("viam.gen.app.packages.v1.packages_pb2", reason="needs the viam-sdk test dependency")

from google.protobuf import descriptor_pool

from tests.fleetpeer import FleetProcess, fleet_init
from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)
from tests.wirecheck import differences, names

ROOT = Path(__file__).resolve().parents[1]


def package_bytes(files: dict[str, tuple[bytes, int]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, (data, mode) in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_the_packages_proto_equals_the_sdks() -> None:
    from viamlite.gen.app import packages_pb2

    assert differences((packages_pb2.DESCRIPTOR,), descriptor_pool.Default()) == []
    assert {"viam.app.packages.v1.Package", "viam.app.packages.v1.GetPackageRequest",
            "viam.app.packages.v1.PackageService"} <= names((packages_pb2.DESCRIPTOR,))


def test_the_store_keeps_modules_and_resolves_versions_and_platforms(fleet_db_url: str) -> None:
    from sqlalchemy import update

    from viamlite.errors import FailedPreconditionError, InvalidArgumentError, ResourceNotFoundError
    from viamlite_plugins.fleet.db import open_database
    from viamlite_plugins.fleet.db.schema import organizations
    from viamlite_plugins.fleet.store import modules, orgs

    db = open_database(fleet_db_url)
    try:
        with db.write() as conn:
            org = orgs.create_organization(conn, "acme")
            module = modules.create(conn, org, "sensors")
            assert module.module_id == f"{org}:sensors"
            with pytest.raises(FailedPreconditionError, match="already has a module named 'sensors'"):
                modules.create(conn, org, "sensors")
            with pytest.raises(InvalidArgumentError, match="not allowed"):
                modules.create(conn, org, "Bad Name")
            with pytest.raises(FailedPreconditionError, match="public namespace"):
                modules.update(conn, module, visibility="public", url="", description="", models=[],
                               entrypoint="run", first_run=None, markdown_description=None)
            conn.execute(update(organizations).where(organizations.c.id == org).values(public_namespace="acme"))
            module = modules.get(conn, "acme:sensors")
            assert module.module_id == "acme:sensors" and modules.get(conn, f"{org}:sensors").row.id == module.row.id
            module = modules.update(conn, module, visibility="public", url="https://x", description="d",
                                    models=[{"api": "rdk:component:sensor", "model": "acme:sensor:a"}],
                                    entrypoint="run.sh", first_run=None, markdown_description="# hi")
            assert module.public and module.row.entrypoint == "run.sh"
            modules.add_package(conn, module, "1.2.0", "linux/amd64", ["distro:debian"], b"amd64-1.2.0")
            modules.add_package(conn, module, "1.10.0", "any", [], b"any-1.10.0")
            modules.add_package(conn, module, "1.10.0", "linux/arm64", [], b"arm64-1.10.0")
            modules.add_package(conn, module, "2.0.0-rc1", "linux/amd64", [], b"rc")
            with pytest.raises(FailedPreconditionError, match="uploaded already"):
                modules.add_package(conn, module, "1.2.0", "linux/amd64", [], b"again")
            with pytest.raises(InvalidArgumentError, match="not a semantic version"):
                modules.add_package(conn, module, "v1", "linux/amd64", [], b"x")
            with pytest.raises(InvalidArgumentError, match="platform"):
                modules.add_package(conn, module, "1.3.0", "linux amd64", [], b"x")
        with db.read() as conn:
            module = modules.get(conn, "acme:sensors")
            # the highest version for the platform; a prerelease is higher than nothing but lower than its release
            assert modules.package(conn, module, "latest", "linux/amd64").version == "2.0.0-rc1"
            row = modules.package(conn, module, "1.10.0", "linux/arm64", with_data=True)
            assert (row.platform, bytes(row.data)) == ("linux/arm64", b"arm64-1.10.0")
            assert row.sha256 == hashlib.sha256(b"arm64-1.10.0").hexdigest()
            # no package of its own: "any"
            assert modules.package(conn, module, "1.10.0", "linux/amd64").platform == "any"
            assert modules.package(conn, module, "", "linux/arm").version == "1.10.0"
            with pytest.raises(ResourceNotFoundError, match="no package of version 1.2.0 for linux/arm64"):
                modules.package(conn, module, "1.2.0", "linux/arm64")
            with pytest.raises(ResourceNotFoundError, match="no module 'acme:other'"):
                modules.get(conn, "acme:other")
            assert [m.module_id for m in modules.list_modules(conn, [])] == ["acme:sensors"]  # public: everyone's
            packs = modules.packages(conn, [module.row.id])[module.row.id]
            assert sorted((p.version, p.platform) for p in packs) == [
                ("1.10.0", "any"), ("1.10.0", "linux/arm64"), ("1.2.0", "linux/amd64"), ("2.0.0-rc1", "linux/amd64")]
    finally:
        db.close()


def test_the_migration_makes_the_tables_the_schema_describes(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from viamlite_plugins.fleet.db import open_database
    from viamlite_plugins.fleet.db.schema import metadata
    from viamlite_plugins.fleet.db.schema_modules import module_packages, modules  # noqa: F401

    db = open_database(f"sqlite:///{tmp_path / 'fleet.db'}")
    try:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        ours = [d for d in diff if "modules" in repr(d) or "module_packages" in repr(d)]
        assert ours == []
    finally:
        db.close()


@pytest.fixture
def fleet(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    owner = fleet_init(url)
    proc = FleetProcess(url, home=tmp_path / "fleet-home")
    try:
        yield proc, owner
    finally:
        proc.stop()


def test_the_viam_sdk_creates_updates_uploads_and_reads_modules(fleet) -> None:
    from viam.gen.app.packages.v1.packages_grpc import PackageServiceStub
    from viam.gen.app.packages.v1.packages_pb2 import PACKAGE_TYPE_MODULE, GetPackageRequest
    from viam.proto.app import Model, ModuleFileInfo

    proc, owner = fleet
    archive = package_bytes({"run.sh": (b"#!/bin/sh\necho hi\n", 0o755)})

    async def scenario() -> None:
        client = await proc.viam_client(owner.api_key_id, owner.api_key)
        try:
            app = client.app_client
            module_id, _url = await app.create_module(owner.organization_id, "sensors")
            assert module_id == f"{owner.organization_id}:sensors"
            await app.update_module(module_id, "https://example.com/sensors", "sensors for tests",
                                    [Model(api="rdk:component:sensor", model="acme:sensor:counter")], "run.sh")
            url = await app.upload_module_file(ModuleFileInfo(module_id=module_id, version="1.0.0",
                                                              platform="linux/amd64"), archive)
            assert url == f"viamlite-package:{module_id}/1.0.0/linux/amd64"
            module = await app.get_module(module_id)
            assert (module.entrypoint, module.description, module.visibility) == ("run.sh", "sensors for tests", 1)
            assert [(v.version, [f.platform for f in v.files], v.entrypoint) for v in module.versions] == [
                ("1.0.0", ["linux/amd64"], "run.sh")]
            assert [m.module_id for m in await app.list_modules(owner.organization_id)] == [module_id]
            # the same version again is refused, with the reason; the fleet keeps serving
            with pytest.raises(Exception, match="uploaded already"):
                await app.upload_module_file(ModuleFileInfo(module_id=module_id, version="1.0.0",
                                                            platform="linux/amd64"), archive)
            with pytest.raises(Exception, match="public namespace"):
                await app.update_module(module_id, "", "", [], "run.sh", public=True)
            packages = PackageServiceStub(app._channel)
            reply = await packages.GetPackage(
                GetPackageRequest(id=module_id.replace(":", "/"), version="latest", include_url=True,
                                  type=PACKAGE_TYPE_MODULE, platform="linux/amd64"), metadata=app._metadata)
            package = reply.package
            assert (package.info.version, package.info.platform, package.id) == ("1.0.0", "linux/amd64", module_id)
            assert package.checksum == "sha256:" + hashlib.sha256(archive).hexdigest()
            assert package.url == url and package.info.metadata["entrypoint"] == "run.sh"
            with pytest.raises(Exception, match="no package of any version for linux/arm64"):
                await packages.GetPackage(GetPackageRequest(id=module_id, platform="linux/arm64"),
                                          metadata=app._metadata)
        finally:
            client.close()

    asyncio.run(scenario())


def test_public_modules_need_their_organizations_namespace(fleet, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import sqlite3

    from tests.test_cloud_commands_e2e import Cli

    proc, owner = fleet
    cli = Cli(tmp_path / "cli-home", monkeypatch)
    cli("--base-url", proc.base_url, "login", "api-key", "--key-id", owner.api_key_id, "--key", owner.api_key)
    early = tmp_path / "early.json"
    cli("module", "create", "--name", "early", "--org-id", owner.organization_id, "--output", str(early))
    meta = json.loads(early.read_text())
    assert meta["module_id"] == f"{owner.organization_id}:early"
    meta["visibility"] = "public"
    early.write_text(json.dumps(meta))
    # no namespace yet: a public module is refused, by the command and by the fleet
    assert "needs its organization's public namespace" in cli.refused("module", "update", "--module", str(early),
                                                                      code=2)

    db = sqlite3.connect(proc.db_url.removeprefix("sqlite:///"))
    db.execute("UPDATE organizations SET public_namespace = 'acme' WHERE id = ?", (owner.organization_id,))
    db.commit()
    db.close()

    # with the namespace: the update rewrites meta.json's id with it, as the Viam CLI does
    cli("module", "update", "--module", str(early))
    assert json.loads(early.read_text())["module_id"] == "acme:early"
    pub = tmp_path / "pub.json"
    out = cli("module", "create", "--name", "pub", "--public-namespace", "acme", "--output", str(pub)).stdout
    assert json.loads(pub.read_text())["module_id"] == "acme:pub" and "acme:pub" in out
    assert "no organization with the public namespace 'other'" in cli.refused(
        "module", "create", "--name", "x", "--public-namespace", "other", "--output", str(tmp_path / "x.json"))
    meta = json.loads(pub.read_text())
    meta.update(visibility="public", module_id="other:pub")
    pub.write_text(json.dumps(meta))
    assert "namespace must be its organization's" in cli.refused("module", "update", "--module", str(pub), code=2)
    local = tmp_path / "local.json"
    cli("module", "create", "--name", "offline", "--public-namespace", "acme", "--local-only", "--output", str(local))
    assert json.loads(local.read_text())["module_id"] == "acme:offline"


def test_who_may_read_and_change_modules(fleet) -> None:
    from viam.app.app_client import APIKeyAuthorization
    from viam.proto.app import ModuleFileInfo

    proc, owner = fleet
    stranger = fleet_init(proc.db_url)  # another organization, its own owner key
    archive = package_bytes({"run.sh": (b"#!/bin/sh\n", 0o755)})

    async def scenario() -> None:
        client = await proc.viam_client(owner.api_key_id, owner.api_key)
        try:
            app = client.app_client
            module_id, _ = await app.create_module(owner.organization_id, "private-one")
            await app.update_module(module_id, "", "", [], "run.sh")
            key, key_id = await app.create_key(owner.organization_id, [APIKeyAuthorization(
                role="operator", resource_type="organization", resource_id=owner.organization_id)], "op")
        finally:
            client.close()
        operator = await proc.viam_client(key_id, key)
        other = await proc.viam_client(stranger.api_key_id, stranger.api_key)
        try:
            assert (await operator.app_client.get_module(module_id)).module_id == module_id  # an operator reads
            with pytest.raises(Exception, match="needs an owner key"):
                await operator.app_client.upload_module_file(
                    ModuleFileInfo(module_id=module_id, version="1.0.0", platform="any"), archive)
            with pytest.raises(Exception, match="needs an owner key"):
                await operator.app_client.create_module(owner.organization_id, "mine")
            # another organization's key: a private module is not there for it
            with pytest.raises(Exception, match="no module"):
                await other.app_client.get_module(module_id)
            with pytest.raises(Exception, match="no module"):
                await other.app_client.update_module(module_id, "", "", [], "run.sh")
            assert await other.app_client.list_modules(stranger.organization_id) == []
            with pytest.raises(Exception, match="no organization"):
                await other.app_client.create_module(owner.organization_id, "intruder")
        finally:
            operator.close()
            other.close()

    asyncio.run(scenario())
