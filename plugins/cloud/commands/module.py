"""``module create|update|upload|build``: the module registry, as the Viam CLI has it.

* ``create`` makes the module (CreateModule) and writes ``meta.json`` (``$schema``,
  ``module_id`` from the reply, ``visibility`` private, ``url``, ``description``, ``models``,
  ``entrypoint``); ``--local-only`` writes it without asking the app.
* ``update`` sends meta.json (and README.md beside it as the markdown description) with
  UpdateModule; a ``module_id`` that starts with an organization id is rewritten with the
  organization's public namespace when it has one.
* ``upload`` updates the module from meta.json, checks the package (unless ``--force``: a
  ``.tar.gz``/``.tgz`` holding the module's entrypoint, executable; a folder is packed
  first) and streams it (UploadModuleFile: ModuleFileInfo, then 32 KiB chunks).
* ``build local`` runs meta.json's ``build.setup`` then ``build.build`` with ``bash -c``.

A public module's namespace must be its organization's: ``--org-id`` and
``--public-namespace`` together must name the same organization, and a public meta.json's
``module_id`` must start with that namespace.
"""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
import uuid
from pathlib import Path
from typing import Any

from viamlite_plugins.cloud.commands.context import Context
from viamlite_plugins.cloud.commands.errors import CommandError, UsageError

SCHEMA = "https://dl.viam.dev/module.schema.json"
CHUNK = 32 * 1024
VISIBILITIES = {"private": 1, "public": 2, "public_unlisted": 3}
PLATFORMS = re.compile(r"^(any|[a-z0-9]+/(any|[a-z0-9_]+))$")


# -- meta.json --------------------------------------------------------------------------------


def read_meta(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path} does not exist: run module create first, or point --module at the module's "
                         f"meta.json")
    try:
        meta = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not JSON ({exc}): fix it, or write it again with module create") from None
    if not isinstance(meta, dict):
        raise UsageError(f"{path} must hold a JSON object")
    module_id = meta.get("module_id")
    if not isinstance(module_id, str) or module_id.count(":") != 1 or not all(module_id.split(":")):
        raise UsageError(f"{path}: module_id must be \"namespace:name\", got {module_id!r}")
    visibility = meta.get("visibility", "private")
    if visibility not in VISIBILITIES:
        raise UsageError(f"{path}: visibility must be one of {', '.join(VISIBILITIES)}, got {visibility!r}")
    models = meta.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, dict) and isinstance(m.get("api"), str)
                                               and isinstance(m.get("model"), str) for m in models):
        raise UsageError(f'{path}: models must be a list of {{"api": "rdk:component:sensor", "model": '
                         f'"ns:family:name"}}')
    for name in ("entrypoint", "url", "description"):
        if not isinstance(meta.get(name, ""), str):
            raise UsageError(f"{path}: {name} must be a string")
    return meta


def write_meta(path: str, meta: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(meta, indent=2) + "\n")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
        return True
    except ValueError:
        return False


# -- organizations ----------------------------------------------------------------------------


def _organization(ctx: Context, org_id: str, namespace: str) -> Any:
    """The organization named by ``--org-id`` and/or ``--public-namespace`` (the same one if both)."""
    orgs = ctx.resolve.organizations()
    org = None
    if org_id:
        org = next((o for o in orgs if o.id == org_id), None)
        if org is None:
            raise CommandError(f"no organization with id {org_id!r} for the logged-in key: see viamlite "
                               f"organizations list")
    if namespace:
        by_ns = next((o for o in orgs if o.public_namespace == namespace), None)
        if by_ns is None:
            raise CommandError(f"no organization with the public namespace {namespace!r} for the logged-in key: see "
                               f"viamlite organizations list")
        if org is not None and org.id != by_ns.id:
            raise UsageError(f"the public namespace {namespace!r} is organization {by_ns.name!r}'s, not {org.name!r}'s "
                             f"(whose namespace is {org.public_namespace or 'not set'}): give one of the two")
        org = by_ns
    return org


def _check_namespace(ctx: Context, meta: dict[str, Any], org: Any) -> None:
    """A public module's id must start with its organization's namespace; with --org-id or
    --public-namespace, meta.json's module must be that organization's."""
    prefix = meta["module_id"].split(":")[0]
    if org is not None and prefix not in (org.id, org.public_namespace):
        raise UsageError(f"meta.json's module_id {meta['module_id']!r} is not organization {org.name!r}'s "
                         f"(its id {org.id}, its namespace {org.public_namespace or 'not set'})")
    if meta.get("visibility", "private") != "private":
        if _is_uuid(prefix):
            owner = next((o for o in ctx.resolve.organizations() if o.id == prefix), None)
            if owner is None or not owner.public_namespace:
                raise UsageError(f"a public module needs its organization's public namespace in its module_id, and "
                                 f"organization {prefix} has none: keep it private, or set the namespace")
        elif not any(o.public_namespace == prefix for o in ctx.resolve.organizations()):
            raise UsageError(f"a public module's namespace must be its organization's: no organization of the "
                             f"logged-in key has the namespace {prefix!r}")


# -- create, update ---------------------------------------------------------------------------


def create(ctx: Context) -> int:
    args = ctx.args
    if Path(args.output).exists():
        raise UsageError(f"{args.output} exists already: edit it and run module update, or give --output")
    if args.local_only:
        prefix = args.public_namespace or args.org_id
        module_id = f"{prefix}:{args.name}"
    else:
        org = _organization(ctx, args.org_id, args.public_namespace)
        reply = ctx.app.call("CreateModule", organization_id=org.id, name=args.name,
                             what=f"organization {org.name!r}")
        module_id = reply.module_id
    meta = {"$schema": SCHEMA, "module_id": module_id, "visibility": "private", "url": "", "description": "",
            "models": [], "entrypoint": ""}
    write_meta(args.output, meta)
    ctx.out.line(f"Module {module_id} {'written to' if args.local_only else 'created; its meta.json is'} "
                 f"{args.output}: add its models and entrypoint, then run module update")
    return 0


def _update(ctx: Context, path: str, meta: dict[str, Any]) -> dict[str, Any]:
    from viamlite.gen.app import app_pb2

    prefix = meta["module_id"].split(":")[0]
    if _is_uuid(prefix):  # the Viam CLI's rewrite: an organization id becomes its namespace
        owner = next((o for o in ctx.resolve.organizations() if o.id == prefix), None)
        if owner is not None and owner.public_namespace:
            meta["module_id"] = f"{owner.public_namespace}:{meta['module_id'].split(':', 1)[1]}"
            write_meta(path, meta)
    request = app_pb2.UpdateModuleRequest(
        module_id=meta["module_id"], visibility=VISIBILITIES[meta.get("visibility", "private")],
        url=meta.get("url", ""), description=meta.get("description", ""),
        models=[app_pb2.Model(api=m["api"], model=m["model"]) for m in meta.get("models", [])],
        entrypoint=meta.get("entrypoint", ""))
    if isinstance(meta.get("first_run"), str):
        request.first_run = meta["first_run"]
    readme = Path(path).parent / "README.md"
    if readme.is_file():
        request.markdown_description = readme.read_text()
    ctx.app.call("UpdateModule", request, what=f"module {meta['module_id']!r}")
    return meta


def update(ctx: Context) -> int:
    meta = read_meta(ctx.args.module)
    _check_namespace(ctx, meta, None)
    meta = _update(ctx, ctx.args.module, meta)
    ctx.out.line(f"Module {meta['module_id']} updated from {ctx.args.module}")
    return 0


# -- upload -----------------------------------------------------------------------------------


def pack(folder: Path) -> bytes:
    """A folder as a .tar.gz, its files at the top (modes kept; links kept as links)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if any(part in ("__pycache__", ".git") for part in rel.parts):
                continue
            tar.add(path, arcname=str(rel), recursive=False)
    return out.getvalue()


def check_package(data: bytes, entrypoint: str, name: str) -> None:
    """The seed's checks: a .tar.gz that holds ``entrypoint``, executable."""
    if not entrypoint:
        raise UsageError("the module has no entrypoint: set meta.json's entrypoint and run module update "
                         "(or --force to upload anyway)")
    wanted = os.path.normpath(entrypoint)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                if os.path.normpath(member.name) == wanted:
                    if not member.isfile():
                        raise UsageError(f"the entrypoint {entrypoint!r} in {name} is not a regular file")
                    if not member.mode & 0o111:
                        raise UsageError(f"the entrypoint {entrypoint!r} in {name} is not executable: chmod +x it "
                                         f"and pack again (or --force)")
                    return
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise UsageError(f"{name} is not a .tar.gz ({exc}): pack the module with tar czf, or give its folder") from None
    raise UsageError(f"{name} does not hold the entrypoint {entrypoint!r}: pack the module's folder so that "
                     f"{entrypoint} is at its top (or --force)")


def upload(ctx: Context) -> int:
    import grpc

    from viamlite.gen.app import app_pb2

    args = ctx.args
    if not PLATFORMS.match(args.platform):
        raise UsageError(f"--platform {args.platform!r} is not one: use os/arch (linux/amd64, linux/arm64, "
                         f"linux/arm, darwin/arm64) or any")
    path = Path(args.path)
    if path.is_dir():
        data, name = pack(path), f"{path}/ (packed)"
    elif path.is_file():
        if not args.force and not path.name.endswith((".tar.gz", ".tgz")):
            raise UsageError(f"{path} is not a .tar.gz or .tgz: give the package, or the module's folder to pack "
                             f"(or --force)")
        data, name = path.read_bytes(), str(path)
    else:
        raise UsageError(f"{path} does not exist: give a .tar.gz package or the module's folder")
    meta = read_meta(args.module)
    org = _organization(ctx, args.org_id, args.public_namespace) if (args.org_id or args.public_namespace) else None
    _check_namespace(ctx, meta, org)
    meta = _update(ctx, args.module, meta)
    module_id = meta["module_id"]
    if not args.force:
        module = ctx.app.call("GetModule", module_id=module_id, what=f"module {module_id!r}").module
        entrypoint = module.entrypoint or next((v.entrypoint for v in reversed(module.versions) if v.entrypoint), "")
        check_package(data, entrypoint, name)
    info = app_pb2.ModuleFileInfo(module_id=module_id, version=args.version, platform=args.platform,
                                  platform_tags=[t for t in args.tags.split(",") if t])

    def messages():  # type: ignore[no-untyped-def]
        yield app_pb2.UploadModuleFileRequest(module_file_info=info)
        for start in range(0, len(data), CHUNK):
            yield app_pb2.UploadModuleFileRequest(file=data[start:start + CHUNK])

    call = ctx.app.channel.stream_unary(
        "/viam.app.v1.AppService/UploadModuleFile",
        request_serializer=app_pb2.UploadModuleFileRequest.SerializeToString,
        response_deserializer=app_pb2.UploadModuleFileResponse.FromString)
    try:
        reply = call(messages(), timeout=max(60.0, len(data) / 1e6))
    except grpc.RpcError as err:
        raise ctx.app.failure(err, "UploadModuleFile", f"module {module_id!r}") from None
    ctx.out.line(f"Version {args.version} of {module_id} for {args.platform} uploaded ({len(data)} bytes): "
                 f"{reply.url}")
    return 0


# -- build ------------------------------------------------------------------------------------


def build_steps(meta: dict[str, Any], path: str) -> list[str]:
    build = meta.get("build")
    if not isinstance(build, dict) or not isinstance(build.get("build"), str) or not build["build"]:
        raise UsageError(f'{path} has no build steps: add "build": {{"setup": "...", "build": "make module.tar.gz", '
                         f'"path": "module.tar.gz"}}')
    steps = [build["setup"]] if isinstance(build.get("setup"), str) and build["setup"] else []
    return [*steps, build["build"]]


def build_local(ctx: Context) -> int:
    meta = read_meta(ctx.args.module)
    folder = Path(ctx.args.module).resolve().parent
    for step in build_steps(meta, ctx.args.module):
        ctx.out.line(f"Running: {step}")
        result = subprocess.run(["bash", "-c", step], cwd=folder)
        if result.returncode:
            raise CommandError(f"the build step {step!r} failed with exit status {result.returncode}")
    ctx.out.line("Build done")
    return 0


BUILD_SERVICE = "viam.app.build.v1.BuildService"
_STATUS = {0: "unspecified", 1: "in progress", 2: "failed", 3: "done"}


def _build_call(ctx: Context, method: str, request: Any, *, stream: bool = False) -> Any:
    """A BuildService call on the app's channel; FAILED_PRECONDITION (builds off) as its line."""
    import grpc

    from viamlite.gen.app import build_pb2

    response = getattr(build_pb2, f"{method}Response")
    channel = ctx.app.channel
    make = channel.unary_stream if stream else channel.unary_unary
    stub = make(f"/{BUILD_SERVICE}/{method}", request_serializer=type(request).SerializeToString,
                response_deserializer=response.FromString)
    try:
        if stream:
            return list(stub(request, timeout=3600.0))
        return stub(request, timeout=60.0)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.FAILED_PRECONDITION:
            raise CommandError(f"{err.details()}") from None
        raise ctx.app.failure(err, method, "the build") from None


def _jobs(ctx: Context, module_id: str, build_id: str = "", count: int = 0) -> list[Any]:
    from viamlite.gen.app import build_pb2

    request = build_pb2.ListJobsRequest(module_id=module_id)
    if build_id:
        request.build_id = build_id
    if count:
        request.max_jobs_length = count
    return list(_build_call(ctx, "ListJobs", request).jobs)


def _print_logs(ctx: Context, build_id: str, platform: str = "") -> None:
    from viamlite.gen.app import build_pb2

    for reply in _build_call(ctx, "GetLogs", build_pb2.GetLogsRequest(build_id=build_id, platform=platform),
                             stream=True):
        print(reply.data, end="", flush=True)


def build_start(ctx: Context) -> int:
    from viamlite.gen.app import build_pb2

    args = ctx.args
    meta = read_meta(args.module)
    build_steps(meta, args.module)
    repo = meta.get("url", "")
    if not repo:
        raise UsageError(f"{args.module} has no url: set it to the module's git repository, which the app clones")
    platforms = [p for p in args.platforms.split(",") if p]
    if not platforms and isinstance(meta.get("build", {}).get("arch"), list):
        platforms = [p if "/" in p else f"linux/{p}" for p in meta["build"]["arch"]]
    request = build_pb2.StartBuildRequest(repo=repo, platforms=platforms, module_id=meta["module_id"],
                                          module_version=args.version)
    if args.ref:
        request.ref = args.ref
    build_id = _build_call(ctx, "StartBuild", request).build_id
    ctx.out.line(f"Build started: {build_id}")
    if args.wait:
        _print_logs(ctx, build_id)
        jobs = _jobs(ctx, meta["module_id"], build_id)
        for job in jobs:
            ctx.out.line(f"{job.platform}: {_STATUS.get(job.status, job.status)}")
        if any(job.status != build_pb2.JOB_STATUS_DONE for job in jobs):
            raise CommandError(f"build {build_id} failed: see its logs above (module build logs --id {build_id})")
    return 0


def build_list(ctx: Context) -> int:
    from viamlite_plugins.cloud.commands.output import timestamp

    meta = read_meta(ctx.args.module)
    jobs = _jobs(ctx, meta["module_id"], ctx.args.id, ctx.args.count)
    rows = [{"id": j.build_id, "platform": j.platform, "version": j.version, "status": _STATUS.get(j.status, ""),
             "start_time": timestamp(j.start_time), "end_time": timestamp(j.end_time)} for j in jobs]
    lines = [f"{'ID':36}  {'PLATFORM':12}  {'VERSION':10}  {'STATUS':12}  STARTED"]
    lines += [f"{r['id']:36}  {r['platform']:12}  {r['version']:10}  {r['status']:12}  {r['start_time']}" for r in rows]
    ctx.out.emit(rows, lines)
    return 0


def build_logs(ctx: Context) -> int:
    _print_logs(ctx, ctx.args.id, ctx.args.platform)
    return 0
