"""Data capture and sync figures, from one run:

    python benchmarks/bench_data.py [--seconds 5] [--rows 1000000] [--export-rows 100000] [--no-postgres]

* capture: 10 capture methods at 100 Hz each (sensor Readings x5, servo Position, motor
  Position and IsPowered, encoder TicksCount, power sensor Voltage) on fakes, in this process,
  sync off: CPU per sample and the share of one core (goal: under 10 %), samples per second
  delivered against the 1000 asked for;
* sync: finished capture files (tabular, 1000 readings each) uploaded to an in-process fleet on
  SQLite (and PostgreSQL): records/s and files/s, acknowledged and deleted;
* export: ExportTabularData rows/s over gRPC with ``--rows`` rows stored (default 1M, over
  ten parts), exporting one part's ``--export-rows`` (100k), from SQLite and from PostgreSQL
  (a throwaway server, as the tests start one); beside it, a bare grpcio server stream's
  messages/s on this machine, the ceiling for one row per message.

A benchmark, not a test: figures depend on the machine and its load.
"""
from __future__ import annotations

import argparse
import datetime
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

METHODS = ([("sensor", f"s{i}", "Readings") for i in range(5)]
           + [("servo", "servo1", "Position"), ("motor", "motor1", "Position"), ("motor", "motor1", "IsPowered"),
              ("encoder", "encoder1", "TicksCount"), ("power_sensor", "power1", "Voltage")])


def bench_capture(seconds: float, hz: float) -> dict[str, float]:
    from viamlite.machine import Machine

    capture_dir = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    components: dict[str, dict[str, Any]] = {}
    for subtype, name, method in METHODS:
        entry = components.setdefault(name, {"name": name, "api": f"rdk:component:{subtype}", "model": "fake",
                                             "service_configs": [{"type": "data_manager",
                                                                  "attributes": {"capture_methods": []}}]})
        entry["service_configs"][0]["attributes"]["capture_methods"].append(
            {"method": method, "capture_frequency_hz": hz})
    config = {"components": list(components.values()),
              "services": [{"name": "data", "api": "rdk:service:data_manager",
                            "attributes": {"capture_dir": str(capture_dir), "sync_disabled": True}}]}
    try:
        with Machine.from_config(config) as machine:
            manager = machine.resource_by_name("data")
            deadline = time.monotonic() + 10
            while len(manager.collectors) < len(METHODS) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # settle
            before, cpu0, t0 = manager.get_status()["captured"], time.process_time(), time.monotonic()
            time.sleep(seconds)
            after, cpu1, t1 = manager.get_status()["captured"], time.process_time(), time.monotonic()
        samples = after - before
        cpu = cpu1 - cpu0
        return {"samples_per_s": samples / (t1 - t0), "asked_per_s": hz * len(METHODS),
                "cpu_us_per_sample": cpu / max(samples, 1) * 1e6, "core_pct": cpu / (t1 - t0) * 100}
    finally:
        shutil.rmtree(capture_dir, ignore_errors=True)


def _fleet(url: str) -> tuple[Any, Any, str, int]:
    from viamlite_plugins.fleet.db import open_database
    from viamlite_plugins.fleet.server import FleetServer
    from viamlite_plugins.fleet.store import orgs, robots

    db = open_database(url)
    with db.write() as conn:
        org = orgs.create_organization(conn, "bench")
        location = orgs.create_location(conn, org, "l")
        _, part_id = robots.new_robot(conn, location, "r")
    server = FleetServer(db)
    port = server.start("127.0.0.1:0")
    return db, server, part_id, port


def _capture_files(capture_dir: Path, files: int, per_file: int) -> int:
    from viamlite.gen.app import data_sync_pb2 as pb
    from viamlite_plugins.datamanager.captures import CaptureFile, directory

    meta = pb.DataCaptureMetadata(component_type="rdk:component:sensor", component_name="s1", method_name="Readings",
                                  type=pb.DATA_TYPE_TABULAR_SENSOR, file_extension=".dat")
    folder = directory(capture_dir, "rdk:component:sensor", "s1", "Readings")
    start = datetime.datetime.now(datetime.timezone.utc)
    t = 0
    for f in range(files):
        out = CaptureFile(folder, meta, start + datetime.timedelta(seconds=f))
        for _ in range(per_file):
            record = pb.SensorData()
            record.metadata.time_requested.FromMicroseconds(1_700_000_000_000_000 + t * 1000)
            record.struct.update({"readings": {"temperature_c": 21.5 + t % 7, "humidity_pct": 45.25}})
            out.write(record.SerializeToString())
            t += 1
        out.close()
    return t


def bench_sync(url: str, files: int = 60, per_file: int = 1000) -> dict[str, float]:
    from viamlite.config import CloudConfig
    from viamlite_plugins.datamanager.link import DataLink
    from viamlite_plugins.datamanager.sync import Syncer
    from viamlite_plugins.fleet.store import robots

    db, server, part_id, port = _fleet(url)
    capture_dir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        with db.read() as conn:
            secret = robots.get_part(conn, part_id).secret
        records = _capture_files(capture_dir, files, per_file)
        link = DataLink(CloudConfig.parse({"id": part_id, "secret": secret, "app_address": f"http://127.0.0.1:{port}"}))
        syncer = Syncer(link, part_id, capture_dir, 60)
        t0 = time.perf_counter()
        assert syncer.sync_once()
        elapsed = time.perf_counter() - t0
        assert syncer.synced_records == records, (syncer.synced_records, records)
        link.close()
        return {"records_per_s": records / elapsed, "files_per_s": files / elapsed, "records": records}
    finally:
        server.stop(0)
        shutil.rmtree(capture_dir, ignore_errors=True)


def _reading(i: int) -> tuple[dict[str, Any], bytes]:
    """A reading as an upload stores it: its values, and the same as Struct bytes."""
    from google.protobuf import struct_pb2

    values = {"readings": {"temperature_c": 21.5 + i % 7, "humidity_pct": 45.25}}
    struct = struct_pb2.Struct()
    struct.update(values)
    return values, struct.SerializeToString()


def bench_export(url: str, rows: int, exported: int) -> dict[str, float]:
    """``rows`` stored over ``rows // exported`` parts; one part's ``exported`` rows exported."""
    import grpc
    from sqlalchemy import insert, literal, select

    from viamlite.gen import auth_pb2
    from viamlite.gen.app import data_pb2
    from viamlite_plugins.fleet.db.schema_data import tabular_data
    from viamlite_plugins.fleet.store import data as datastore
    from viamlite_plugins.fleet.store import keys, orgs, robots
    from viamlite_plugins.fleet.store.keys import Grant

    db, server, part_id, port = _fleet(url)
    try:
        with db.write() as conn:
            part = robots.get_part(conn, part_id)
            robot = robots.get_robot(conn, part.robot_id)
            location = orgs.get_location(conn, robot.location_id)
            key_id, key = keys.create_key(conn, "bench", [Grant(location.organization_id, "owner", "organization",
                                                                location.organization_id)])
        origin = datastore.Origin(location.organization_id, location.id, robot.id, robot.name, part.id, part.name)
        capture = datastore.Capture("rdk:component:sensor", "s1", "Readings")
        t0 = time.perf_counter()
        batch = 20_000
        base = 1_700_000_000_000_000
        for start in range(0, exported, batch):
            n = min(batch, exported - start)
            with db.write() as conn:
                upload = datastore.begin_upload(conn, part.id, None, binary=False)
                datastore.insert_tabular(conn, origin, capture, upload.id, (
                    (base + (start + i) * 1000, base + (start + i) * 1000 + 50, *_reading(start + i))
                    for i in range(n)))
        # The other parts' rows: copies of the first part's, under other part ids.
        columns = [c for c in tabular_data.c if c.name != "id"]
        for copy in range(1, max(1, rows // exported)):
            other = f"{copy:08d}-0000-4000-8000-000000000000"
            chosen = [literal(other).label("part_id") if c.name == "part_id" else c for c in columns]
            with db.write() as conn:
                conn.execute(insert(tabular_data).from_select(
                    [c.name for c in columns], select(*chosen).where(tabular_data.c.part_id == part.id)))
        stored_s = time.perf_counter() - t0
        with db.read() as conn:
            stored = datastore.count(conn, tabular_data, tabular_data.c.id > 0)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            token = ch.unary_unary("/proto.rpc.v1.AuthService/Authenticate",
                                   request_serializer=auth_pb2.AuthenticateRequest.SerializeToString,
                                   response_deserializer=auth_pb2.AuthenticateResponse.FromString)(
                auth_pb2.AuthenticateRequest(entity=key_id, credentials=auth_pb2.Credentials(type="api-key",
                                                                                             payload=key))).access_token
            export = ch.unary_stream("/viam.app.data.v1.DataService/ExportTabularData",
                                     request_serializer=data_pb2.ExportTabularDataRequest.SerializeToString,
                                     response_deserializer=data_pb2.ExportTabularDataResponse.FromString)
            t0 = time.perf_counter()
            count = sum(1 for _ in export(data_pb2.ExportTabularDataRequest(
                part_id=part.id, resource_name="s1", resource_subtype="rdk:component:sensor", method_name="Readings"),
                metadata=(("authorization", f"Bearer {token}"),), timeout=3600))
            elapsed = time.perf_counter() - t0
        assert count == exported, (count, exported)
        return {"rows_per_s": exported / elapsed, "export_s": elapsed, "stored": stored, "store_s": stored_s}
    finally:
        server.stop(0)


def stream_ceiling(messages: int = 30_000) -> float:
    """Messages/s of a bare grpcio server stream of tiny messages on this machine, now."""
    from concurrent import futures

    import grpc

    def behavior(request: bytes, ctx: Any) -> Any:
        for _ in range(messages):
            yield b"\x0a\x05hello"

    handler = grpc.method_handlers_generic_handler("bench.S", {"M": grpc.unary_stream_rpc_method_handler(behavior)})
    server = grpc.server(futures.ThreadPoolExecutor(2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            t0 = time.perf_counter()
            n = sum(1 for _ in ch.unary_stream("/bench.S/M")(b""))
            return n / (time.perf_counter() - t0)
    finally:
        server.stop(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="capture measurement window")
    parser.add_argument("--hz", type=float, default=100.0, help="capture frequency of each method")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows stored for the export figure")
    parser.add_argument("--export-rows", type=int, default=100_000, help="rows exported (one part's) of those")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    c = bench_capture(args.seconds, args.hz)
    print(f"capture: {len(METHODS)} methods at {args.hz:g} Hz: {c['samples_per_s']:.0f} samples/s "
          f"(asked {c['asked_per_s']:.0f}), {c['cpu_us_per_sample']:.1f} us CPU per sample, "
          f"{c['core_pct']:.1f} % of one core (goal < 10 %)", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-data-"))
    pg = None
    urls = [("SQLite", lambda name: f"sqlite:///{work / name}.db")]
    if not args.no_postgres:
        try:
            from tests.pg import PostgresServer

            pg = PostgresServer()
            urls.append(("PostgreSQL", lambda name: pg.new_database()))
        except Exception as exc:  # noqa: BLE001
            print(f"(PostgreSQL not measured: {exc})")
    try:
        for label, url in urls:
            s = bench_sync(url("sync"))
            print(f"sync to {label}: {s['records_per_s']:.0f} records/s, {s['files_per_s']:.1f} files/s "
                  f"({s['records']:.0f} records in 1000-record files)", flush=True)
        ceiling = stream_ceiling()
        print(f"gRPC stream ceiling here (bare grpcio, tiny messages): {ceiling:.0f} messages/s", flush=True)
        for label, url in urls:
            e = bench_export(url("export"), args.rows, min(args.export_rows, args.rows))
            print(f"export from {label} ({e['stored']:.0f} rows stored, in {e['store_s']:.0f} s): "
                  f"{e['rows_per_s']:.0f} rows/s ({min(args.export_rows, args.rows)} rows of one part in "
                  f"{e['export_s']:.1f} s; {e['rows_per_s'] / ceiling:.2f}x the bare stream)", flush=True)
    finally:
        if pg is not None:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
