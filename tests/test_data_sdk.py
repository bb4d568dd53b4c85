"""The official viam-sdk's DataClient, unchanged, drives the fleet's data API (DataService,
DataSyncService, DatasetService) on a real ``viamlite fleet serve``, on SQLite and on
PostgreSQL; every call is scoped by the caller's key."""
from __future__ import annotations

import asyncio
import datetime

import pytest

from tests.fleetpeer import FleetProcess, fleet_init
from tests.pg import fleet_db_url, postgres  # noqa: F401  (fixtures)

UTC = datetime.timezone.utc


@pytest.fixture
def fleet(fleet_db_url: str, tmp_path):  # noqa: F811
    owner = fleet_init(fleet_db_url)
    other = fleet_init(fleet_db_url, "--organization", "other")
    process = FleetProcess(fleet_db_url, home=tmp_path)
    yield process, owner, other
    process.stop()


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 90))


def _at(seconds: float) -> datetime.datetime:
    return datetime.datetime(2026, 12, 1, 12, 0, tzinfo=UTC) + datetime.timedelta(seconds=seconds)


def test_the_sdk_uploads_reads_exports_and_deletes_data(fleet, fleet_db_url) -> None:  # noqa: F811
    from grpclib.exceptions import GRPCError
    from viam.proto.app.data import Filter

    process, owner, other = fleet

    async def scenario() -> None:
        client = await process.viam_client(owner.api_key_id, owner.api_key)
        stranger = await process.viam_client(other.api_key_id, other.api_key)
        app, data = client.app_client, client.data_client
        try:
            robot_id = await app.new_robot("rover", owner.location_id)
            part = (await app.get_robot_parts(robot_id))[0]

            # Tabular: one upload of three readings, read back by filter, in capture order.
            readings = [{"readings": {"t": float(i), "n": i}} for i in range(3)]
            times = [(_at(i), _at(i + 0.01)) for i in range(3)]
            file_id = await data.tabular_data_capture_upload(readings, part.id, "rdk:component:sensor", "sensor1",
                                                             "Readings", times, tags=["bench"])
            assert file_id
            rows, count, last = await data.tabular_data_by_filter(Filter(part_id=part.id))
            assert count == 3 and last
            assert [r.data for r in rows] == readings
            assert [r.time_requested.replace(tzinfo=UTC) for r in rows] == [t for t, _ in times]
            meta = rows[0].metadata
            assert (meta.part_id, meta.robot_id, meta.robot_name, meta.organization_id, meta.location_id,
                    meta.component_name, meta.method_name, list(meta.tags)) == (
                part.id, robot_id, "rover", owner.organization_id, owner.location_id, "sensor1", "Readings", ["bench"])
            page, _, last = await data.tabular_data_by_filter(Filter(part_id=part.id), limit=2)
            rest, _, _ = await data.tabular_data_by_filter(Filter(part_id=part.id), limit=2, last=last)
            assert [r.data for r in page + rest] == readings
            _, only_count, _ = await data.tabular_data_by_filter(Filter(component_name="nope"), count_only=True)
            assert only_count == 0

            points = await data.export_tabular_data(part.id, "sensor1", "rdk:component:sensor", "Readings",
                                                    _at(0.5), _at(10))
            assert [p.payload for p in points] == readings[1:]
            assert [p.time_captured.replace(tzinfo=UTC) for p in points] == [t for t, _ in times[1:]]
            assert points[0].robot_name == "rover" and points[0].tags == ["bench"]

            # Binary: a capture upload and a file upload, by filter and by id.
            jpeg = b"\xff\xd8" + bytes(range(256)) * 40 + b"\xff\xd9"
            binary_id = await data.binary_data_capture_upload(jpeg, part.id, "rdk:component:camera", "camera1",
                                                              "GetImages", ".jpeg", mime_type="image/jpeg",
                                                              data_request_times=(_at(1), _at(1.1)))
            file_bytes = b"line\n" * 1000
            file_binary_id = await data.file_upload(part.id, file_bytes, file_name="notes", file_extension=".txt")
            found, n, _ = await data.binary_data_by_filter(Filter(part_id=part.id, component_name="camera1"))
            assert n == 1 and found[0].binary == jpeg
            assert found[0].metadata.binary_data_id == binary_id
            assert found[0].metadata.capture_metadata.mime_type == "image/jpeg"
            assert found[0].metadata.time_requested.ToDatetime(tzinfo=UTC) == _at(1)
            by_ids = await data.binary_data_by_ids([file_binary_id, binary_id])
            assert sorted(b.binary for b in by_ids) == sorted([jpeg, file_bytes])
            without = await data.binary_data_by_ids([file_binary_id], include_binary_data=False)
            assert without[0].binary == b"" and without[0].metadata.file_name == "notes"

            # Datasets.
            dataset_id = await data.create_dataset("cats", owner.organization_id)
            await data.add_binary_data_to_dataset_by_ids([binary_id], dataset_id)
            in_set, n, _ = await data.binary_data_by_filter(Filter(dataset_id=dataset_id), include_binary_data=False)
            assert n == 1 and list(in_set[0].metadata.dataset_ids) == [dataset_id]
            listed = await data.list_dataset_by_ids([dataset_id])
            assert [d.name for d in listed] == ["cats"]

            # Another organization's key sees none of it, and cannot touch it.
            theirs, n, _ = await stranger.data_client.tabular_data_by_filter()
            assert (theirs, n) == ([], 0)
            with pytest.raises(GRPCError) as info:
                await stranger.data_client.binary_data_by_ids([binary_id])
            assert "no binary data" in str(info.value.message)
            with pytest.raises(GRPCError):
                await stranger.data_client.add_binary_data_to_dataset_by_ids([binary_id], dataset_id)

            # Direct database access needs PostgreSQL.
            if fleet_db_url.startswith("sqlite"):
                with pytest.raises(GRPCError) as info:
                    await data.get_database_connection(owner.organization_id)
                assert "needs the fleet on PostgreSQL" in str(info.value.message)
            else:
                host = await data.get_database_connection(owner.organization_id)
                assert host.startswith("127.0.0.1:")

            # Deleting: the tabular rows received more than 0 days ago, then binaries by filter.
            await asyncio.sleep(0.01)
            assert await data.delete_tabular_data(owner.organization_id, 0) == 3
            assert (await data.tabular_data_by_filter())[1] == 0
            assert await data.delete_binary_data_by_filter(Filter(part_id=part.id)) == 2
            assert (await data.binary_data_by_filter())[1] == 0
        finally:
            client.close()
            stranger.close()

    _run(scenario())


def test_a_retried_upload_with_the_same_id_is_stored_once_and_bad_uploads_are_refused(fleet) -> None:
    import grpc

    from viamlite.gen import auth_pb2
    from viamlite.gen.app import data_sync_pb2 as pb

    process, owner, _ = fleet

    async def part_of() -> tuple[str, str]:
        client = await process.viam_client(owner.api_key_id, owner.api_key)
        try:
            robot_id = await client.app_client.new_robot("arm", owner.location_id)
            part = (await client.app_client.get_robot_parts(robot_id))[0]
            return part.id, part.secret
        finally:
            client.close()

    part_id, secret = _run(part_of())
    with grpc.insecure_channel(process.address) as channel:
        token = channel.unary_unary("/proto.rpc.v1.AuthService/Authenticate",
                                    request_serializer=auth_pb2.AuthenticateRequest.SerializeToString,
                                    response_deserializer=auth_pb2.AuthenticateResponse.FromString)(
            auth_pb2.AuthenticateRequest(entity=part_id, credentials=auth_pb2.Credentials(type="robot-secret",
                                                                                           payload=secret))).access_token
        upload = channel.unary_unary("/viam.app.datasync.v1.DataSyncService/DataCaptureUpload",
                                     request_serializer=pb.DataCaptureUploadRequest.SerializeToString,
                                     response_deserializer=pb.DataCaptureUploadResponse.FromString)
        request = pb.DataCaptureUploadRequest(metadata=pb.UploadMetadata(
            part_id=part_id, component_type="rdk:component:sensor", component_name="s", method_name="Readings",
            type=pb.DATA_TYPE_TABULAR_SENSOR))
        for i in range(5):
            reading = request.sensor_contents.add()
            reading.metadata.time_requested.FromMicroseconds(1_000_000 * i)
            reading.struct.update({"readings": {"i": i}})
        meta = (("authorization", f"Bearer {token}"), ("viamlite-upload-id", "capture/s/Readings/f1.capture"))
        first = upload(request, metadata=meta, timeout=10)
        again = upload(request, metadata=meta, timeout=10)  # the first's acknowledgement was lost
        assert again.file_id == first.file_id
        other = upload(request, metadata=(meta[0], ("viamlite-upload-id", "f2")), timeout=10)
        assert other.file_id != first.file_id

        bad = pb.DataCaptureUploadRequest(metadata=pb.UploadMetadata(part_id=part_id, type=pb.DATA_TYPE_TABULAR_SENSOR))
        bad.sensor_contents.add().binary = b"x"
        with pytest.raises(grpc.RpcError) as info:
            upload(bad, metadata=meta[:1], timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "sensor_contents[0]" in info.value.details()
        foreign = pb.DataCaptureUploadRequest(metadata=pb.UploadMetadata(part_id=owner.location_id,
                                                                         type=pb.DATA_TYPE_TABULAR_SENSOR))
        with pytest.raises(grpc.RpcError) as info:
            upload(foreign, metadata=meta[:1], timeout=10)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED

    async def count() -> int:
        from viam.proto.app.data import Filter

        client = await process.viam_client(owner.api_key_id, owner.api_key)
        try:
            return (await client.data_client.tabular_data_by_filter(Filter(part_id=part_id), count_only=True))[1]
        finally:
            client.close()

    assert _run(count()) == 10
