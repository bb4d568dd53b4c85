"""The data manager on its own: capture files as Viam writes them (the viam-sdk reads them),
recovery of torn files, every capture method against the fakes, config errors naming the
path and the fix, the disk bound, and sync against an in-process fleet: deleted only after
acknowledgement, a lost acknowledgement duplicating nothing, big binaries streamed, refused
files set aside, an unreachable fleet leaving the files in place."""
from __future__ import annotations

import datetime
import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest

from viamlite.config import ConfigError, parse_config
from viamlite.gen.app import data_sync_pb2 as pb
from viamlite_plugins.datamanager import captures
from viamlite_plugins.datamanager.collector import Collector
from viamlite_plugins.datamanager.disk import DiskGuard
from viamlite_plugins.datamanager.methods import TABLE
from viamlite_plugins.datamanager.settings import capture_methods


def _methods(method: str, hz: float = 10, **extra: Any) -> list[dict[str, Any]]:
    return [{"type": "data_manager", "attributes": {"capture_methods": [
        {"method": method, "capture_frequency_hz": hz, **extra}]}}]


def _write(folder: Path, records: int, *, tabular: bool = True) -> Path:
    meta = pb.DataCaptureMetadata(component_type="rdk:component:sensor", component_name="s1", method_name="Readings",
                                  type=pb.DATA_TYPE_TABULAR_SENSOR if tabular else pb.DATA_TYPE_BINARY_SENSOR,
                                  file_extension=".dat" if tabular else ".jpeg")
    f = captures.CaptureFile(folder, meta, datetime.datetime.now(datetime.timezone.utc))
    for i in range(records):
        record = pb.SensorData()
        record.metadata.time_requested.FromMicroseconds(1_000_000 * (i + 1))
        if tabular:
            record.struct.update({"readings": {"i": i}})
        else:
            record.binary = bytes([i % 256]) * 100
        f.write(record.SerializeToString())
    return f.path if not records else f.close()  # type: ignore[return-value]


# -- files --------------------------------------------------------------------------

def test_a_capture_file_is_viams_format_and_layout(tmp_path: Path) -> None:
    sdk = pytest.importorskip("viam.gen.app.datasync.v1.data_sync_pb2")
    from viamlite_plugins.datamanager.captures import directory, split

    folder = directory(tmp_path, "rdk:component:sensor", "s1", "Readings")
    path = _write(folder, 3)
    assert path.parent == tmp_path / "rdk_component_sensor" / "s1" / "Readings"
    assert path.suffix == ".capture"
    datetime.datetime.strptime(path.stem, "%Y-%m-%dT%H_%M_%S.%fZ")  # Go's 2006-01-02T15_04_05.000000Z07_00
    messages, end = split(path.read_bytes())
    assert end == path.stat().st_size and len(messages) == 4
    head = sdk.DataCaptureMetadata.FromString(messages[0])
    assert (head.component_name, head.method_name, head.type) == ("s1", "Readings", sdk.DATA_TYPE_TABULAR_SENSOR)
    assert [sdk.SensorData.FromString(m).struct["readings"]["i"] for m in messages[1:]] == [0, 1, 2]


def test_recovery_keeps_every_complete_record_and_cuts_the_torn_one(tmp_path: Path) -> None:
    folder = tmp_path / "rdk_component_sensor" / "s1" / "Readings"
    meta = pb.DataCaptureMetadata(component_name="s1", type=pb.DATA_TYPE_TABULAR_SENSOR)
    f = captures.CaptureFile(folder, meta, datetime.datetime.now(datetime.timezone.utc))
    for i in range(5):
        record = pb.SensorData()
        record.struct.update({"i": i})
        f.write(record.SerializeToString())
    torn = f.path
    with open(torn, "ab") as out:  # a record cut short by a kill: its length says more than there is
        out.write(captures.delimited(b"\x12" + b"x" * 40)[:20])
    empty = captures.CaptureFile(tmp_path / "other", meta, datetime.datetime.now(datetime.timezone.utc)).path
    assert captures.recover(tmp_path) == (1, 20)
    assert not torn.exists() and not empty.exists(), "a .prog with no record is removed"
    head, records = captures.read(torn.with_suffix(".capture"))
    assert head.component_name == "s1" and [r.struct["i"] for r in records] == [0, 1, 2, 3, 4]
    assert captures.recover(tmp_path) == (0, 0)


# -- config and methods ------------------------------------------------------------

def test_capture_methods_read_viam_servers_config_and_errors_name_the_path() -> None:
    config = parse_config({"components": [
        {"name": "s1", "api": "rdk:component:sensor", "model": "fake",
         "service_configs": _methods("Readings", 5, tags=["a"])},
        {"name": "b1", "api": "rdk:component:board", "model": "fake",
         "service_configs": _methods("Analogs", 2, additional_params={"reader_name": "a1"})},
        {"name": "m1", "api": "rdk:component:motor", "model": "fake", "service_configs": _methods("IsPowered", disabled=True)},
        {"name": "m2", "api": "rdk:component:motor", "model": "fake", "service_configs": _methods("Position", 0)},
    ]})
    found = capture_methods(config)
    assert [(m.resource, m.method, m.frequency_hz, m.tags, m.additional_params) for m in found] == [
        ("s1", "Readings", 5.0, ("a",), ()), ("b1", "Analogs", 2.0, (), (("reader_name", "a1"),))]
    bad = parse_config({"components": [{"name": "s1", "api": "rdk:component:servo", "model": "fake",
                                        "service_configs": _methods("Readings")}]})
    with pytest.raises(ConfigError) as info:
        capture_methods(bad)
    assert "components[0].service_configs[0].attributes.capture_methods[0].method" in str(info.value)
    assert "Position" in str(info.value)
    missing = parse_config({"components": [{"name": "b1", "api": "rdk:component:board", "model": "fake",
                                            "service_configs": _methods("Gpios")}]})
    with pytest.raises(ConfigError, match="pin_name"):
        capture_methods(missing)


def test_every_capture_method_captures_from_the_fakes(tmp_path: Path) -> None:
    from viamlite.machine import Machine
    from viamlite.names import API
    from viamlite_plugins.datamanager.settings import CaptureMethod

    apis = sorted({subtype for subtype, _ in TABLE})
    components = [{"name": f"{a}1", "api": f"rdk:component:{a}", "model": "fake"} for a in apis]
    with Machine.from_config({"components": components}) as machine:
        # The fake board reads any analog name.
        params = {"Analogs": (("reader_name", "a1"),), "Gpios": (("pin_name", "1"),)}
        for (subtype, method), spec in TABLE.items():
            capture = CaptureMethod(API.component(subtype), f"{subtype}1", method, 10.0, params.get(method, ()), ())
            collector = Collector(capture, capture_dir=tmp_path, service_tags=("t",), max_file_bytes=1 << 20,
                                  rotate_after_s=60, resource=lambda c=capture: machine.resource(c.api, c.resource))
            assert collector.capture_once() >= 1, method
            collector.rotate()
    seen = {(p.parent.parent.parent.name, p.parent.name) for p in tmp_path.rglob("*.capture")}
    assert seen == {(f"rdk_component_{s}", m) for s, m in TABLE}
    head, records = captures.read(next((tmp_path / "rdk_component_servo").rglob("*.capture")))
    assert set(records[0].struct) == {"position_deg"} and list(head.tags) == ["t"]
    head, records = captures.read(next((tmp_path / "rdk_component_camera").rglob("*.capture")))
    assert head.type == pb.DATA_TYPE_BINARY_SENSOR and head.file_extension == ".jpeg"
    assert records[0].binary[:2] == b"\xff\xd8" and records[0].metadata.mime_type == pb.MIME_TYPE_IMAGE_JPEG


# -- the disk bound ----------------------------------------------------------------

def test_the_disk_bound_drops_the_oldest_files_first_counts_and_logs(tmp_path: Path, caplog: Any) -> None:
    folder = tmp_path / "rdk_component_sensor" / "s1" / "Readings"
    paths = []
    for i in range(4):
        path = _write(folder, 50)
        os.utime(path, (1000 + i, 1000 + i))
        paths.append(path)
    size = paths[0].stat().st_size
    writing = captures.CaptureFile(folder, pb.DataCaptureMetadata(), datetime.datetime.now(datetime.timezone.utc))
    guard = DiskGuard(tmp_path, limit_bytes=int(size * 2.5))
    with caplog.at_level(logging.WARNING, logger="viamlite.datamanager"):
        assert guard.check() == 2
    assert [p.exists() for p in paths] == [False, False, True, True]
    assert writing.path.exists(), "the file being written is never dropped"
    assert (guard.dropped_files, guard.dropped_bytes) == (2, 2 * size)
    assert "dropped the 2 oldest capture files" in caplog.text
    assert guard.check() == 0


# -- sync against a fleet in this process ------------------------------------------

@pytest.fixture
def fleet(tmp_path: Path):  # type: ignore[no-untyped-def]
    from viamlite.config import CloudConfig
    from viamlite_plugins.datamanager.link import DataLink
    from viamlite_plugins.fleet.db import open_database
    from viamlite_plugins.fleet.server import FleetServer
    from viamlite_plugins.fleet.store import orgs, robots

    db = open_database(f"sqlite:///{tmp_path / 'fleet.db'}")
    with db.write() as conn:
        org = orgs.create_organization(conn, "o")
        location = orgs.create_location(conn, org, "l")
        _, part_id = robots.new_robot(conn, location, "r")
        secret = robots.get_part(conn, part_id).secret
    server = FleetServer(db)
    port = server.start("127.0.0.1:0")
    link = DataLink(CloudConfig.parse({"id": part_id, "secret": secret, "app_address": f"http://127.0.0.1:{port}"}))
    yield db, part_id, link
    link.close()
    server.stop(0)


def _stored(db: Any) -> tuple[int, int]:
    from sqlalchemy import func, select

    from viamlite_plugins.fleet.db.schema_data import binary_data, tabular_data

    with db.read() as conn:
        return (conn.execute(select(func.count()).select_from(tabular_data)).scalar_one(),
                conn.execute(select(func.count()).select_from(binary_data)).scalar_one())


def test_sync_deletes_after_the_ack_and_a_lost_ack_duplicates_nothing(fleet: Any, tmp_path: Path) -> None:
    from viamlite_plugins.datamanager.sync import Syncer

    db, part_id, link = fleet
    capture_dir = tmp_path / "capture"
    folder = capture_dir / "rdk_component_sensor" / "s1" / "Readings"
    path = _write(folder, 7)
    kept = path.read_bytes()
    images = _write(capture_dir / "rdk_component_camera" / "c1" / "GetImages", 3, tabular=False)
    kept_images = images.read_bytes()
    syncer = Syncer(link, part_id, capture_dir, 60)
    assert syncer.sync_once()
    assert not path.exists() and not images.exists()
    assert _stored(db) == (7, 3)
    # The acknowledgement was lost (the machine died before deleting): the same files again.
    path.write_bytes(kept)
    images.write_bytes(kept_images)
    assert syncer.sync_once()
    assert _stored(db) == (7, 3), "a retried upload stored twice"
    assert (syncer.synced_files, syncer.synced_records) == (4, 20)


def test_big_binaries_are_streamed_and_refused_files_set_aside(fleet: Any, tmp_path: Path) -> None:
    from viamlite_plugins.datamanager.sync import Syncer

    db, part_id, link = fleet
    capture_dir = tmp_path / "capture"
    meta = pb.DataCaptureMetadata(component_type="rdk:component:camera", component_name="c1", method_name="GetImages",
                                  type=pb.DATA_TYPE_BINARY_SENSOR, file_extension=".jpeg", mime_type="image/jpeg")
    f = captures.CaptureFile(capture_dir / "rdk_component_camera" / "c1" / "GetImages", meta,
                             datetime.datetime.now(datetime.timezone.utc))
    big = os.urandom(1_500_000)
    f.write(pb.SensorData(binary=big).SerializeToString())
    f.close()
    bad_meta = pb.DataCaptureMetadata(component_name="s1", type=pb.DATA_TYPE_UNSPECIFIED)
    bad = captures.CaptureFile(capture_dir / "x" / "s1" / "M", bad_meta, datetime.datetime.now(datetime.timezone.utc))
    bad.write(pb.SensorData(binary=b"x").SerializeToString())
    bad_path = bad.close()
    syncer = Syncer(link, part_id, capture_dir, 60)
    assert syncer.sync_once()
    assert _stored(db) == (0, 1)
    from sqlalchemy import select

    from viamlite_plugins.fleet.db.schema_data import binary_blobs

    with db.read() as conn:
        assert bytes(conn.execute(select(binary_blobs.c.data)).scalar_one()) == big
    assert not bad_path.exists() and (capture_dir / "failed" / bad_path.relative_to(capture_dir)).exists()
    assert syncer.failed_files == 1


def test_an_unreachable_fleet_leaves_the_files_and_capture_goes_on(tmp_path: Path) -> None:
    from viamlite.config import CloudConfig
    from viamlite_plugins.datamanager.link import DataLink
    from viamlite_plugins.datamanager.sync import Syncer

    capture_dir = tmp_path / "capture"
    path = _write(capture_dir / "rdk_component_sensor" / "s1" / "Readings", 3)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    link = DataLink(CloudConfig.parse({"id": "p", "secret": "s", "app_address": f"http://127.0.0.1:{port}"}))
    try:
        started = time.monotonic()
        assert Syncer(link, "p", capture_dir, 60).sync_once() is False
        assert path.exists()
        assert time.monotonic() - started < 30
    finally:
        link.close()


def test_additional_sync_paths_go_by_file_upload_once_quiet(fleet: Any, tmp_path: Path) -> None:
    from viamlite_plugins.datamanager.sync import Syncer

    db, part_id, link = fleet
    extra = tmp_path / "logs"
    extra.mkdir()
    old, new = extra / "old.txt", extra / "new.txt"
    old.write_text("kept for long")
    new.write_text("still being written")
    os.utime(old, (time.time() - 60, time.time() - 60))
    syncer = Syncer(link, part_id, tmp_path / "capture", 60, additional_paths=(extra,))
    assert syncer.sync_once()
    assert not old.exists() and new.exists()
    assert _stored(db) == (0, 1)


def test_quick_methods_share_one_loop_and_a_slow_one_leaves_it(tmp_path: Path) -> None:
    from viamlite.names import API
    from viamlite_plugins.datamanager.collector import CaptureLoop
    from viamlite_plugins.datamanager.settings import CaptureMethod

    class Sensor:
        def __init__(self, delay: float) -> None:
            self.delay, self.calls = delay, 0

        def get_readings(self) -> dict[str, Any]:
            self.calls += 1
            time.sleep(self.delay)
            return {"n": self.calls}

    quick, slow = Sensor(0.0), Sensor(0.05)
    loop = CaptureLoop("test")
    collectors = []
    for name, sensor in (("quick", quick), ("slow", slow)):
        method = CaptureMethod(API.component("sensor"), name, "Readings", 50.0, (), ())
        collector = Collector(method, capture_dir=tmp_path, service_tags=(), max_file_bytes=1 << 20,
                              rotate_after_s=60, resource=lambda s=sensor: s)
        loop.add(collector)
        collectors.append(collector)
    time.sleep(1.0)
    loop.close()
    assert collectors[1]._thread.is_alive(), "the slow method has a thread of its own"
    for collector in collectors:
        collector.stop()
    assert quick.calls >= 25, "the slow method did not hold up the quick one"
    head, records = captures.read(next((tmp_path / "rdk_component_sensor" / "quick").rglob("*.capture")))
    assert [r.struct["readings"]["n"] for r in records] == list(range(1, len(records) + 1))


def test_the_manager_follows_config_edits_and_reports_unknown_methods(tmp_path: Path, caplog: Any) -> None:
    from viamlite.machine import Machine

    def config(methods: list[dict[str, Any]]) -> Any:
        return parse_config({
            "components": [{"name": "s1", "api": "rdk:component:sensor", "model": "fake",
                            "service_configs": [{"type": "data_manager", "attributes": {"capture_methods": methods}}]},
                           {"name": "servo1", "api": "rdk:component:servo", "model": "fake",
                            "service_configs": _methods("Position", 20)}],
            "services": [{"name": "data", "api": "rdk:service:data_manager",
                          "attributes": {"capture_dir": str(tmp_path), "sync_disabled": True}}]})

    def collectors(manager: Any, want: int) -> int:
        deadline = time.monotonic() + 10
        while len(manager.collectors) != want and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(manager.collectors)

    with Machine.from_config(config([{"method": "Readings", "capture_frequency_hz": 20}])) as machine:
        manager = machine.resource_by_name("data")
        assert collectors(manager, 2) == 2
        machine.apply(config([]))
        assert collectors(manager, 1) == 1
        with caplog.at_level(logging.ERROR, logger="viamlite.datamanager"):
            machine.apply(config([{"method": "Nope", "capture_frequency_hz": 1}]))
            time.sleep(1.0)
            assert collectors(manager, 1) == 1, "the other resources' methods go on"
        assert "has no capture method 'Nope'" in caplog.text and "use one of: Readings" in caplog.text
        machine.apply(config([{"method": "Readings", "capture_frequency_hz": 20}]))
        assert collectors(manager, 2) == 2
        time.sleep(0.5)
        assert manager.get_status()["captured"] > 0
