"""``viam.app.build.v1.BuildService``: builds of a module on the fleet's host, on with
``viamlite fleet serve --build-runner`` only.

A build runs code from the module's repository on the fleet host, as the fleet's user (its
``build.setup`` and ``build.build`` steps), so a fleet serves builds only when told to; off,
every call answers FAILED_PRECONDITION saying so. StartBuild clones ``repo`` (a git URL or a
path on the host) at ``ref``, runs meta.json's steps with ``bash -c`` in it, and uploads
``build.path`` (default ``module.tar.gz``) as the module's ``module_version`` for the
platform. The host builds for its own platform (and ``any``); a job for another platform
fails saying so. Jobs and their logs are kept by the fleet process that runs them (builds
are one host's work), one build at a time.
"""
from __future__ import annotations

import json
import logging
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from viamlite.errors import FailedPreconditionError, InvalidArgumentError, ResourceNotFoundError
from viamlite.gen.app import build_pb2 as pb
from viamlite.rpc import Call, Lane, Method
from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.service import rpc, rpc_stream
from viamlite_plugins.fleet.service.modules import ModuleApi
from viamlite_plugins.fleet.store import modules as store
from viamlite_plugins.fleet.store import now_us
from viamlite_plugins.fleet.tokens import Tokens

SERVICE = "viam.app.build.v1.BuildService"
STEP_TIMEOUT_S = 1800.0
OFF = ("this fleet runs no builds: a build runs the module's code on the fleet's host, so it is off unless "
       "the fleet is served with --build-runner; build with module build local and upload instead")
log = logging.getLogger("viamlite.fleet")


def host_platform() -> str:
    import platform

    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm", "armv6l": "arm"}
    machine = platform.machine().lower()
    return f"{platform.system().lower()}/{arch.get(machine, machine)}"


@dataclass
class Job:
    build_id: str
    module_id: str
    platform: str
    version: str
    status: int = pb.JOB_STATUS_IN_PROGRESS
    start_us: int = field(default_factory=now_us)
    end_us: int | None = None
    logs: list[tuple[str, str]] = field(default_factory=list)

    def message(self) -> Any:
        msg = pb.JobInfo(build_id=self.build_id, platform=self.platform, version=self.version, status=self.status)
        msg.start_time.FromMicroseconds(self.start_us)
        if self.end_us is not None:
            msg.end_time.FromMicroseconds(self.end_us)
        return msg


class BuildApi:
    def __init__(self, db: Database, tokens: Tokens, *, enabled: bool) -> None:
        self.db = db
        self.modules = ModuleApi(db, tokens)
        self.enabled = enabled
        self.jobs: list[Job] = []
        self._changed = threading.Condition()
        self._one_at_a_time = threading.Lock()

    def _on(self) -> None:
        if not self.enabled:
            raise FailedPreconditionError(OFF)

    def start_build(self, request: Any, call: Call) -> Any:
        self._on()
        who = self.modules._who(call)
        store.check_version(request.module_version)
        if not request.repo:
            raise InvalidArgumentError("repo is empty: give the module's repository (meta.json's url)")
        with self.db.read() as conn:
            module = self.modules._owned(conn, who, request.module_id, "building a module")
        platforms = list(dict.fromkeys(request.platforms)) or [host_platform()]
        for p in platforms:
            store.check_platform(p)
        build_id = str(uuid.uuid4())
        jobs = [Job(build_id, module.module_id, p, request.module_version) for p in platforms]
        with self._changed:
            self.jobs.extend(jobs)
        ref = request.ref if request.HasField("ref") else ""
        threading.Thread(target=self._run, args=(module.module_id, request.repo, ref, jobs),
                         name=f"viamlite-build-{build_id[:8]}", daemon=True).start()
        return pb.StartBuildResponse(build_id=build_id)

    # -- the runner --------------------------------------------------------------------
    def _log(self, job: Job, step: str, text: str) -> None:
        with self._changed:
            job.logs.append((step, text))
            self._changed.notify_all()

    def _end(self, job: Job, status: int) -> None:
        with self._changed:
            job.status, job.end_us = status, now_us()
            self._changed.notify_all()

    def _run(self, module_id: str, repo: str, ref: str, jobs: list[Job]) -> None:
        with self._one_at_a_time:
            for job in jobs:
                try:
                    ok = self._build(module_id, repo, ref, job)
                except Exception as exc:  # noqa: BLE001 - a build's failure is its job's, not the fleet's
                    log.exception("build %s failed", job.build_id)
                    self._log(job, "error", f"{type(exc).__name__}: {exc}\n")
                    ok = False
                self._end(job, pb.JOB_STATUS_DONE if ok else pb.JOB_STATUS_FAILED)

    def _step(self, job: Job, step: str, argv: list[str], cwd: Path) -> bool:
        self._log(job, step, f"$ {' '.join(argv)}\n")
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        deadline = time.monotonic() + STEP_TIMEOUT_S
        for line in proc.stdout:
            self._log(job, step, line)
            if time.monotonic() > deadline:
                proc.kill()
                self._log(job, step, f"the step ran over {STEP_TIMEOUT_S:.0f} s and was stopped\n")
        code = proc.wait()
        if code:
            self._log(job, step, f"exit status {code}\n")
        return code == 0

    def _build(self, module_id: str, repo: str, ref: str, job: Job) -> bool:
        if job.platform not in (host_platform(), "any"):
            self._log(job, "setup", f"this fleet host builds for {host_platform()} (and any), not {job.platform}\n")
            return False
        with tempfile.TemporaryDirectory(prefix="viamlite-build-") as tmp:
            work = Path(tmp) / "src"
            clone = ["git", "clone", "--quiet", *(["--branch", ref] if ref else []), "--", repo, str(work)]
            if not self._step(job, "clone", clone, Path(tmp)):
                return False
            meta_path = work / "meta.json"
            try:
                meta = json.loads(meta_path.read_text())
                build = meta["build"]
                steps = [("setup", build.get("setup", "")), ("build", build["build"])]
                artifact = build.get("path") or "module.tar.gz"
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                self._log(job, "setup", f"the repository's meta.json has no build section ({exc}): add "
                                        f'"build": {{"setup": "...", "build": "...", "path": "module.tar.gz"}}\n')
                return False
            for step, command in steps:
                if command and not self._step(job, step, ["bash", "-c", command], work):
                    return False
            package = (work / artifact).resolve()
            if not package.is_relative_to(work.resolve()) or not package.is_file():
                self._log(job, "upload", f"the build made no {artifact} (meta.json's build.path)\n")
                return False
            data = package.read_bytes()
            with self.db.write() as conn:
                module = store.get(conn, module_id)
                store.add_package(conn, module, job.version, job.platform, [], data)
            self._log(job, "upload", f"uploaded {artifact} ({len(data)} bytes) as {module_id} {job.version} for "
                                     f"{job.platform}\n")
            return True

    # -- reading ------------------------------------------------------------------------
    def _visible(self, call: Call, module_id: str) -> None:
        who = self.modules._who(call)
        with self.db.read() as conn:
            self.modules._owned(conn, who, module_id, "reading a module's builds")

    def list_jobs(self, request: Any, call: Call) -> Any:
        self._on()
        with self.db.read() as conn:
            module_id = store.get(conn, request.module_id).module_id if request.module_id else ""
        self._visible(call, module_id)
        with self._changed:
            jobs = [j for j in self.jobs if j.module_id == module_id
                    and (not request.HasField("build_id") or j.build_id == request.build_id)]
        jobs.sort(key=lambda j: (j.start_us, j.platform))
        if request.HasField("max_jobs_length") and request.max_jobs_length > 0:
            jobs = jobs[-request.max_jobs_length:]
        return pb.ListJobsResponse(jobs=[j.message() for j in jobs])

    def get_logs(self, request: Any, call: Call) -> Iterator[Any]:
        self._on()
        with self._changed:
            jobs = [j for j in self.jobs if j.build_id == request.build_id
                    and (not request.platform or j.platform == request.platform)]
        if not jobs:
            raise ResourceNotFoundError(f"no build {request.build_id!r}" +
                                        (f" for {request.platform}" if request.platform else ""))
        self._visible(call, jobs[0].module_id)
        for job in jobs:  # each job's logs, followed until it ends
            sent = 0
            while True:
                with self._changed:
                    while sent == len(job.logs) and job.end_us is None and call.is_active():
                        self._changed.wait(0.5)
                    batch, done = job.logs[sent:], job.end_us is not None
                sent += len(batch)
                for step, text in batch:
                    yield pb.GetLogsResponse(build_step=step, data=text)
                if (done and sent == len(job.logs)) or not call.is_active():
                    break

    def methods(self) -> list[Method]:
        return [
            Method(f"/{SERVICE}/StartBuild", pb.StartBuildRequest, pb.StartBuildResponse, rpc(self.start_build)),
            Method(f"/{SERVICE}/ListJobs", pb.ListJobsRequest, pb.ListJobsResponse, rpc(self.list_jobs)),
            Method(f"/{SERVICE}/GetLogs", pb.GetLogsRequest, pb.GetLogsResponse, rpc_stream(self.get_logs),
                   server_streaming=True, lane=Lane.LONG),
        ]


__all__ = ["BuildApi", "OFF", "host_platform"]
