"""``viam.app.datasync.v1.DataSyncService``: what machines (and SDK clients) upload.

* DataCaptureUpload: a tabular capture file's readings in one call, or one binary reading.
* StreamingDataCaptureUpload: one binary reading too large for one message (metadata, then
  the bytes in chunks).
* FileUpload: any file (metadata, then the bytes), stored as binary data.

A part's secret uploads for its own part only; an API key for a part it owns. An upload
that carries ``viamlite-upload-id`` (the machine's stable id for it) is stored once: a
retry with the same id (its acknowledgement was lost) answers with the first upload's ids
and stores nothing again. Binary bytes are stored in the database, so every fleet process
serves them.
"""
from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from viamlite.app.structs import struct_to_dict
from viamlite.errors import InvalidArgumentError, PermissionDeniedError, ResourceNotFoundError
from viamlite.gen.app import data_sync_pb2 as pb
from viamlite.rpc import Call, Lane, Method
from viamlite_plugins.fleet.access import Scope
from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.service import header, id_field, rpc
from viamlite_plugins.fleet.store import data as datastore
from viamlite_plugins.fleet.store import datasets
from viamlite_plugins.fleet.store import now_us, orgs, robots
from viamlite_plugins.fleet.tokens import Tokens

SERVICE = "viam.app.datasync.v1.DataSyncService"
UPLOAD_ID_HEADER = "viamlite-upload-id"
MAX_READINGS = 100_000
MAX_BINARY_BYTES = 64 * 1024 * 1024
MIME_TYPES = {pb.MIME_TYPE_IMAGE_JPEG: "image/jpeg", pb.MIME_TYPE_IMAGE_PNG: "image/png",
              pb.MIME_TYPE_APPLICATION_PCD: "pointcloud/pcd", pb.MIME_TYPE_VIDEO_MP4: "video/mp4"}


def capture_of(meta: Any) -> datastore.Capture:
    for name in ("component_type", "component_name", "method_name", "mime_type", "file_name"):
        if len(getattr(meta, name)) > 200:
            raise InvalidArgumentError(f"metadata.{name} is longer than 200 characters")
    if len(meta.tags) > 100 or any(len(t) > 200 for t in meta.tags):
        raise InvalidArgumentError("metadata.tags: at most 100 tags of at most 200 characters each")
    params = {k: [v.type_url, base64.b64encode(v.value).decode()] for k, v in meta.method_parameters.items()}
    return datastore.Capture(meta.component_type, meta.component_name, meta.method_name, params, tuple(meta.tags),
                             meta.mime_type)


def _key(call: Call) -> str | None:
    value = header(call, UPLOAD_ID_HEADER)
    if value is not None and (not value or len(value) > 300):
        raise InvalidArgumentError(f"the {UPLOAD_ID_HEADER} header must be 1 to 300 characters")
    return value


class DataSyncApi:
    def __init__(self, db: Database, tokens: Tokens) -> None:
        self.db = db
        self.tokens = tokens

    def _origin(self, conn: Any, call: Call, part_id: str) -> datastore.Origin:
        who = self.tokens.principal(header(call, "authorization"))
        part_id = id_field(part_id, "metadata.part_id")
        if who.is_part and who.id != part_id:
            raise PermissionDeniedError("a part's secret may only upload its own part's data: metadata.part_id is "
                                        "another part's")
        try:
            part = robots.get_part(conn, part_id)
            robot = robots.get_robot(conn, part.robot_id)
            location = orgs.get_location(conn, robot.location_id)
        except ResourceNotFoundError:
            raise ResourceNotFoundError(f"no machine part with id {part_id!r}") from None
        scope = Scope(location.organization_id, location.id, robot.id)
        if not who.is_part:
            if not who.sees(scope):
                raise ResourceNotFoundError(f"no machine part with id {part_id!r}")
            who.require_owner(scope, "uploading data")
        return datastore.Origin(location.organization_id, location.id, robot.id, robot.name, part.id, part.name)

    @staticmethod
    def _times(metadata: Any, received: int) -> tuple[int, int]:
        t_req = metadata.time_requested.ToMicroseconds() if metadata.HasField("time_requested") else received
        t_rec = metadata.time_received.ToMicroseconds() if metadata.HasField("time_received") else received
        return t_req, t_rec

    def data_capture_upload(self, request: Any, call: Call) -> Any:
        meta = request.metadata
        capture = capture_of(meta)
        key = _key(call)
        if len(request.sensor_contents) > MAX_READINGS:
            raise InvalidArgumentError(f"sensor_contents has {len(request.sensor_contents)} readings; at most "
                                       f"{MAX_READINGS} per upload")
        received = now_us()
        if meta.type == pb.DATA_TYPE_TABULAR_SENSOR:
            rows = []
            for i, reading in enumerate(request.sensor_contents):
                if reading.WhichOneof("data") != "struct":
                    raise InvalidArgumentError(f"sensor_contents[{i}] is not tabular (a struct) but the upload's "
                                               f"type is DATA_TYPE_TABULAR_SENSOR")
                rows.append((*self._times(reading.metadata, received), struct_to_dict(reading.struct),
                             reading.struct.SerializeToString()))
            with self.db.write() as conn:
                origin = self._origin(conn, call, meta.part_id)
                upload = datastore.begin_upload(conn, origin.part_id, key, binary=False)
                if not upload.repeated:
                    datastore.insert_tabular(conn, origin, capture, upload.id, rows)
            return pb.DataCaptureUploadResponse(file_id=upload.file_id)
        if meta.type == pb.DATA_TYPE_BINARY_SENSOR:
            if len(request.sensor_contents) != 1 or request.sensor_contents[0].WhichOneof("data") != "binary":
                raise InvalidArgumentError("a binary upload (DATA_TYPE_BINARY_SENSOR) carries exactly one reading "
                                           "with binary data; send one upload per image")
            reading = request.sensor_contents[0]
            return self._store_binary(call, meta, capture, key, reading.metadata, reading.binary, received)
        raise InvalidArgumentError(f"metadata.type {meta.type} is not DATA_TYPE_TABULAR_SENSOR (2) or "
                                   f"DATA_TYPE_BINARY_SENSOR (1); files go through FileUpload")

    def _store_binary(self, call: Call, meta: Any, capture: datastore.Capture, key: str | None, sensor: Any,
                      data: bytes, received: int, *, file_name: str = "", response: Any = pb.DataCaptureUploadResponse) -> Any:
        if len(data) > MAX_BINARY_BYTES:
            raise InvalidArgumentError(f"the binary is {len(data)} bytes; at most {MAX_BINARY_BYTES}")
        mime = capture.mime_type or MIME_TYPES.get(sensor.mime_type, "") if sensor is not None else capture.mime_type
        capture = datastore.Capture(capture.component_type, capture.component_name, capture.method_name,
                                    capture.method_parameters, capture.tags, mime or "")
        t_req, t_rec = self._times(sensor, received) if sensor is not None else (received, received)
        with self.db.write() as conn:
            origin = self._origin(conn, call, meta.part_id)
            upload = datastore.begin_upload(conn, origin.part_id, key, binary=True)
            if not upload.repeated:
                datastore.insert_binary(conn, origin, capture, upload.id, upload.binary_data_id,
                                        time_requested_us=t_req, time_received_us=t_rec,
                                        file_name=file_name or meta.file_name, file_ext=meta.file_extension, data=data)
                for dataset_id in meta.dataset_ids:
                    dataset = datasets.get(conn, id_field(dataset_id, "metadata.dataset_ids"))
                    if dataset.organization_id != origin.organization_id:
                        raise ResourceNotFoundError(f"no dataset with id {dataset_id!r} in the part's organization")
                    datasets.add(conn, dataset.id, [upload.binary_data_id])
        return response(file_id=upload.file_id, binary_data_id=upload.binary_data_id)

    @staticmethod
    def _collect(requests: Iterator[Any], first: str, rest: str) -> tuple[Any, bytes]:
        head = next(requests, None)
        if head is None or head.WhichOneof("upload_packet") != first:
            raise InvalidArgumentError(f"the first message of the stream must carry {first}")
        chunks, size = [], 0
        for message in requests:
            if message.WhichOneof("upload_packet") != rest:
                raise InvalidArgumentError(f"after the metadata every message must carry {rest}")
            chunk = message.data if rest == "data" else message.file_contents.data
            size += len(chunk)
            if size > MAX_BINARY_BYTES:
                raise InvalidArgumentError(f"the upload is over {MAX_BINARY_BYTES} bytes, the most one upload may be")
            chunks.append(chunk)
        return getattr(head, first), b"".join(chunks)

    def streaming_upload(self, requests: Iterator[Any], call: Call) -> Any:
        key = _key(call)
        metadata, data = self._collect(requests, "metadata", "data")
        meta = metadata.upload_metadata
        if meta.type != pb.DATA_TYPE_BINARY_SENSOR:
            raise InvalidArgumentError("StreamingDataCaptureUpload carries binary readings: set "
                                       "upload_metadata.type to DATA_TYPE_BINARY_SENSOR")
        return self._store_binary(call, meta, capture_of(meta), key, metadata.sensor_metadata, data, now_us(),
                                  response=pb.StreamingDataCaptureUploadResponse)

    def file_upload(self, requests: Iterator[Any], call: Call) -> Any:
        key = _key(call)
        meta, data = self._collect(requests, "metadata", "file_contents")
        if not meta.file_name:
            raise InvalidArgumentError("metadata.file_name is empty: name the file")
        received = now_us()
        modified = meta.file_modify_time.ToMicroseconds() if meta.HasField("file_modify_time") else received
        sensor = pb.SensorMetadata()
        sensor.time_requested.FromMicroseconds(modified)
        sensor.time_received.FromMicroseconds(received)
        capture = capture_of(meta)
        return self._store_binary(call, meta, capture, key, sensor, data, received, response=pb.FileUploadResponse)

    def methods(self) -> list[Method]:
        service = pb.DESCRIPTOR.services_by_name["DataSyncService"]
        table = {"DataCaptureUpload": rpc(self.data_capture_upload),
                 "StreamingDataCaptureUpload": rpc(self.streaming_upload), "FileUpload": rpc(self.file_upload)}
        out = []
        for name, handler in table.items():
            m = service.methods_by_name[name]
            out.append(Method(f"/{SERVICE}/{name}", getattr(pb, m.input_type.name), getattr(pb, m.output_type.name),
                              handler, client_streaming=m.client_streaming,
                              lane=Lane.LONG if m.client_streaming else Lane.QUICK))
        return out


__all__ = ["DataSyncApi", "UPLOAD_ID_HEADER"]
