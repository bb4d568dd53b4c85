"""How fast a module package goes into a `viamlite fleet` and out to a machine.

    python benchmarks/bench_module_registry.py [--sizes-mib 1,8,32] [--repeat 3]

Against a real `viamlite fleet serve --no-tls` on 127.0.0.1 (a fresh SQLite file): for each
size, a package of that many MiB (random bytes beside an entrypoint, so gzip cannot shrink it)
is uploaded with UploadModuleFile in 32 KiB chunks as `viamlite module upload` and the Viam CLI
send it (the viam-sdk's upload_module_file sends the file as one message, which the fleet's 4 MiB
message limit refuses above that size),
then fetched as a machine does (PackageService.GetPackage, PackageDownloadService.DownloadPackage
on the part's own credentials, checksum, checks, unpack). Prints the median time of each and
MiB/s. A benchmark: it prints figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _package(mib: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as tar:
        for name, data, mode in (("run.sh", b"#!/bin/sh\nexit 0\n", 0o755), ("blob", os.urandom(mib << 20), 0o644)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mib", default="1,8,32")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import logging

    logging.getLogger("viamlite.dial").setLevel(logging.ERROR)  # the key in clear to this host is the point
    from tests.fleetpeer import FleetProcess, fleet_init

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VIAMLITE_HOME"] = str(Path(tmp) / "machine-home")
        url = f"sqlite:///{tmp}/fleet.db"
        owner = fleet_init(url)
        fleet = FleetProcess(url, home=Path(tmp) / "fleet-home")
        try:
            asyncio.run(_run(fleet, owner, [int(s) for s in args.sizes_mib.split(",")], args.repeat))
        finally:
            fleet.stop()


def _upload(fleet, owner, info, data: bytes) -> None:  # type: ignore[no-untyped-def]
    from viamlite.gen.app import app_pb2
    from viamlite_plugins.cloud.commands.app import AppClient, BaseURL

    app = AppClient(BaseURL.parse(fleet.base_url), owner.api_key_id, owner.api_key)
    try:
        ours = app_pb2.ModuleFileInfo(module_id=info.module_id, version=info.version, platform=info.platform)
        messages = [app_pb2.UploadModuleFileRequest(module_file_info=ours)]
        messages += [app_pb2.UploadModuleFileRequest(file=data[i:i + 32768]) for i in range(0, len(data), 32768)]
        call = app._dialed.channel.stream_unary("/viam.app.v1.AppService/UploadModuleFile",
                                                request_serializer=app_pb2.UploadModuleFileRequest.SerializeToString,
                                                response_deserializer=app_pb2.UploadModuleFileResponse.FromString)
        call(iter(messages), timeout=300)
    finally:
        app.close()


async def _run(fleet, owner, sizes: list[int], repeat: int) -> None:  # type: ignore[no-untyped-def]
    from viam.proto.app import ModuleFileInfo

    from viamlite.config import CloudConfig
    from viamlite_plugins.cloud.member import packages

    client = await fleet.viam_client(owner.api_key_id, owner.api_key)
    try:
        app = client.app_client
        module_id, _ = await app.create_module(owner.organization_id, "bench")
        await app.update_module(module_id, "", "", [], "run.sh")
        robot_id = await app.new_robot("bench-bot", owner.location_id)
        part = (await app.get_robot_parts(robot_id))[0]
        cloud = CloudConfig(id=part.id, secret=part.secret, app_address=f"http://{fleet.address}")
        print(f"{'MiB':>5}  {'upload s':>9}  {'MiB/s':>7}  {'fetch+unpack s':>15}  {'MiB/s':>7}")
        for mib in sizes:
            data = _package(mib)
            ups, fetches = [], []
            for i in range(repeat):
                version = f"{mib}.0.{i}"
                t0 = time.perf_counter()
                await asyncio.to_thread(_upload, fleet, owner, ModuleFileInfo(module_id=module_id, version=version,
                                                                              platform="any"), data)
                ups.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                await asyncio.to_thread(packages._fetch, cloud, module_id, version)
                fetches.append(time.perf_counter() - t0)
            up, fetch = statistics.median(ups), statistics.median(fetches)
            size = len(data) / (1 << 20)
            print(f"{mib:>5}  {up:>9.3f}  {size / up:>7.1f}  {fetch:>15.3f}  {size / fetch:>7.1f}")
    finally:
        client.close()


if __name__ == "__main__":
    main()
