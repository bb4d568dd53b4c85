"""Our data, data sync and dataset protos (viamlite.gen.app) equal the viam-sdk 0.85.1
descriptors field by field (tests/wirecheck.py), and bytes written by one read the same in
the other."""
from __future__ import annotations

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

from tests.wirecheck import differences, names

sdk_data = pytest.importorskip("viam.gen.app.data.v1.data_pb2", reason="needs the viam-sdk test dependency")
sdk_sync = pytest.importorskip("viam.gen.app.datasync.v1.data_sync_pb2", reason="needs the viam-sdk test dependency")
sdk_dataset = pytest.importorskip("viam.gen.app.dataset.v1.dataset_pb2", reason="needs the viam-sdk test dependency")

from viamlite.gen import POOL
from viamlite.gen.app import data_pb2, data_sync_pb2, dataset_pb2

OURS = (data_pb2.DESCRIPTOR, data_sync_pb2.DESCRIPTOR, dataset_pb2.DESCRIPTOR)

DATA_METHODS = {
    "TabularDataByFilter", "ExportTabularData", "BinaryDataByFilter", "BinaryDataByIDs", "DeleteTabularData",
    "DeleteBinaryDataByFilter", "DeleteBinaryDataByIDs", "AddBinaryDataToDatasetByIDs",
    "RemoveBinaryDataFromDatasetByIDs", "ConfigureDatabaseUser", "GetDatabaseConnection",
}
DATASET_METHODS = {"CreateDataset", "DeleteDataset", "RenameDataset", "ListDatasetsByOrganizationID", "ListDatasetsByIDs"}


def test_every_message_enum_and_method_equals_the_sdks() -> None:
    assert differences(OURS, descriptor_pool.Default()) == []


def test_the_check_covers_what_we_define() -> None:
    defined = names(OURS)
    assert {"viam.app.data.v1.Filter", "viam.app.data.v1.BinaryMetadata", "viam.app.data.v1.DataService",
            "viam.app.datasync.v1.DataCaptureMetadata", "viam.app.datasync.v1.SensorData",
            "viam.app.datasync.v1.DataSyncService", "viam.app.dataset.v1.DatasetService",
            "viam.app.dataset.v1.DatasetType"} <= defined
    assert len(defined) > 60


def test_the_services_have_the_methods_the_fleet_serves() -> None:
    data = data_pb2.DESCRIPTOR.services_by_name["DataService"]
    assert set(data.methods_by_name) == DATA_METHODS
    assert data.methods_by_name["ExportTabularData"].server_streaming
    sync = data_sync_pb2.DESCRIPTOR.services_by_name["DataSyncService"]
    assert set(sync.methods_by_name) == {"DataCaptureUpload", "FileUpload", "StreamingDataCaptureUpload"}
    assert sync.methods_by_name["FileUpload"].client_streaming
    assert sync.methods_by_name["StreamingDataCaptureUpload"].client_streaming
    dataset = dataset_pb2.DESCRIPTOR.services_by_name["DatasetService"]
    assert set(dataset.methods_by_name) == DATASET_METHODS


def test_the_files_live_in_the_private_pool() -> None:
    for file in OURS:
        assert file.pool is POOL


def test_a_renumbered_field_is_reported() -> None:
    pool = descriptor_pool.DescriptorPool()
    for dependency in ("google/protobuf/any.proto", "google/protobuf/struct.proto", "google/protobuf/timestamp.proto"):
        proto = descriptor_pb2.FileDescriptorProto()
        POOL.FindFileByName(dependency).CopyToProto(proto)
        pool.Add(proto)
    proto = descriptor_pb2.FileDescriptorProto()
    data_pb2.DESCRIPTOR.CopyToProto(proto)
    metadata = next(m for m in proto.message_type if m.name == "BinaryMetadata")
    next(f for f in metadata.field if f.name == "binary_data_id").number = 12
    pool.Add(proto)
    problems = differences([pool.FindFileByName(proto.name)], descriptor_pool.Default())
    assert problems == ["field viam.app.data.v1.BinaryMetadata.binary_data_id: number is 12, the reference's is 10"]


def test_a_capture_record_reads_the_same_in_the_sdk() -> None:
    ours = data_sync_pb2.SensorData()
    ours.metadata.time_requested.FromMicroseconds(1_700_000_000_123_456)
    ours.metadata.time_received.FromMicroseconds(1_700_000_000_223_456)
    ours.struct.update({"readings": {"a": 1.5, "b": "x"}})
    theirs = sdk_sync.SensorData.FromString(ours.SerializeToString())
    assert theirs.WhichOneof("data") == "struct"
    assert theirs.struct["readings"]["a"] == 1.5
    assert theirs.metadata.time_received.ToMicroseconds() == 1_700_000_000_223_456
    head = data_sync_pb2.DataCaptureMetadata(component_type="rdk:component:camera", component_name="camera1",
                                             method_name="GetImages", type=data_sync_pb2.DATA_TYPE_BINARY_SENSOR,
                                             file_extension=".jpeg", tags=["t"], mime_type="image/jpeg")
    back = sdk_sync.DataCaptureMetadata.FromString(head.SerializeToString())
    assert (back.component_name, back.type, back.file_extension, list(back.tags)) == (
        "camera1", sdk_sync.DATA_TYPE_BINARY_SENSOR, ".jpeg", ["t"])
