"""``viam.app.data.v1.DataService``: captured tabular and binary data by filter and by id,
export, deletion, datasets' binary data, and direct database access.

Every call is scoped by the caller's key (:mod:`.datascope`): rows outside its grants are
not there for it; ids outside them are NOT_FOUND. Pages are in capture-time order
(``time_requested``, then upload order), ``last`` is the token of the page's last row.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

from viamlite.app.structs import dict_to_struct
from viamlite.errors import InvalidArgumentError, ResourceNotFoundError
from viamlite.gen.app import data_pb2
from viamlite.rpc import Call, Lane, Method
from viamlite.rpc.varint import encode_varint
from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.db.schema_data import binary_data, tabular_data
from viamlite_plugins.fleet.service import id_field, rpc, rpc_stream
from viamlite_plugins.fleet.service.datascope import key_principal, organization, visible
from viamlite_plugins.fleet.store import data as datastore
from viamlite_plugins.fleet.store import datasets as datasetstore
from viamlite_plugins.fleet.store import dbusers
from viamlite_plugins.fleet.tokens import Tokens

SERVICE = "viam.app.data.v1.DataService"
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MAX_IDS = 1000
#: A reply of binaries with their bytes stays under the transport's 4 MiB.
MAX_REPLY_BYTES = 3_500_000


# -- requests to store values ---------------------------------------------------------


def filter_of(f: Any) -> datastore.Filter:
    interval = f.interval
    tags_type = f.tags_filter.type
    mode = {data_pb2.TAGS_FILTER_TYPE_TAGGED: "tagged", data_pb2.TAGS_FILTER_TYPE_UNTAGGED: "untagged"}.get(tags_type, "")
    return datastore.Filter(
        component_name=f.component_name, component_type=f.component_type, method=f.method,
        robot_name=f.robot_name, robot_id=f.robot_id, part_name=f.part_name, part_id=f.part_id,
        location_ids=tuple(f.location_ids), organization_ids=tuple(f.organization_ids),
        mime_types=tuple(f.mime_type),
        start_us=interval.start.ToMicroseconds() if interval.HasField("start") else None,
        end_us=interval.end.ToMicroseconds() if interval.HasField("end") else None,
        tags=tuple(f.tags_filter.tags), tags_mode=mode, dataset_id=f.dataset_id)


def token_of(row: Any) -> str:
    return base64.urlsafe_b64encode(f"{row.time_requested_us}:{row.id}".encode()).decode()


def parse_token(token: str, numeric: bool) -> tuple[int, Any] | None:
    if not token:
        return None
    try:
        t, _, i = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        return int(t), (int(i) if numeric else i)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgumentError(f"last {token[:40]!r} is not a token this fleet gave: pass back the last "
                                   f"value of the previous page unchanged, or leave it empty") from None


def limit_of(limit: int) -> int:
    if limit > MAX_LIMIT:
        raise InvalidArgumentError(f"limit is {limit}; at most {MAX_LIMIT} rows come in one page")
    return limit or DEFAULT_LIMIT


# -- rows to messages ----------------------------------------------------------------


def _parameters_any(stored: str, out: Any) -> None:
    for key, (type_url, value) in json.loads(stored).items():
        entry = out[key]
        entry.type_url = type_url
        entry.value = base64.b64decode(value)


def parameters_dict(stored: str) -> dict[str, Any]:
    """Method parameters as plain values (string wrappers unwrapped; others by type)."""
    from google.protobuf import wrappers_pb2

    out: dict[str, Any] = {}
    for key, (type_url, value) in json.loads(stored).items():
        if type_url.endswith("google.protobuf.StringValue"):
            out[key] = wrappers_pb2.StringValue.FromString(base64.b64decode(value)).value
        else:
            out[key] = type_url
    return out


def capture_metadata(row: Any) -> Any:
    meta = data_pb2.CaptureMetadata(
        organization_id=row.organization_id, location_id=row.location_id, robot_name=row.robot_name,
        robot_id=row.robot_id, part_name=row.part_name, part_id=row.part_id, component_type=row.component_type,
        component_name=row.component_name, method_name=row.method_name, tags=json.loads(row.tags),
        mime_type=row.mime_type)
    _parameters_any(row.method_parameters, meta.method_parameters)
    return meta


def _metadata_key(row: Any) -> tuple[Any, ...]:
    return (row.part_id, row.robot_name, row.part_name, row.location_id, row.component_type, row.component_name,
            row.method_name, row.method_parameters, row.tags, row.mime_type)


class Encoded:
    """A reply serialized already (the transport asks a reply only for its bytes): a long
    export builds each row's reply from stored bytes instead of converting values."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def SerializeToString(self) -> bytes:  # noqa: N802 - the protobuf method's name
        return self.data


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (a message) on the wire."""
    return encode_varint(number << 3 | 2) + encode_varint(len(payload)) + payload


def _timestamp(us: int) -> bytes:
    seconds, micros = divmod(us, 1_000_000)
    if seconds < 0:
        from google.protobuf import timestamp_pb2

        ts = timestamp_pb2.Timestamp()
        ts.FromMicroseconds(us)
        return ts.SerializeToString()
    return ((b"\x08" + encode_varint(seconds) if seconds else b"")
            + (b"\x10" + encode_varint(micros * 1000) if micros else b""))


def _payload(row: Any) -> bytes:
    """The row's data as a serialized Struct (stored so, or converted from its JSON)."""
    if row.payload is not None:
        return bytes(row.payload)
    out = data_pb2.TabularData().data
    dict_to_struct(json.loads(row.data), out)
    return out.SerializeToString()


def _export_head(row: Any) -> bytes:
    """Every field of a row's ExportTabularDataResponse but its time and payload."""
    out = data_pb2.ExportTabularDataResponse(
        part_id=row.part_id, resource_name=row.component_name, resource_subtype=row.component_type,
        method_name=row.method_name, organization_id=row.organization_id, location_id=row.location_id,
        robot_name=row.robot_name, robot_id=row.robot_id, part_name=row.part_name, tags=json.loads(row.tags))
    dict_to_struct(parameters_dict(row.method_parameters), out.method_parameters)
    return out.SerializeToString()


def binary_metadata(row: Any, datasets: list[str]) -> Any:
    meta = data_pb2.BinaryMetadata(id=row.id, binary_data_id=row.id, capture_metadata=capture_metadata(row),
                                   file_name=row.file_name, file_ext=row.file_ext, dataset_ids=datasets,
                                   file_size_bytes=row.size)
    meta.time_requested.FromMicroseconds(row.time_requested_us)
    meta.time_received.FromMicroseconds(row.time_received_us)
    return meta


class DataApi:
    def __init__(self, db: Database, tokens: Tokens) -> None:
        self.db = db
        self.tokens = tokens

    def _scoped(self, call: Call, table: Any, request_filter: Any | None, *, owner: bool = False) -> Any:
        who = key_principal(self.tokens, call)
        where = visible(who, table, owner=owner)
        if request_filter is not None:
            where = where & datastore.condition(table, filter_of(request_filter))
        return where

    # -- tabular -------------------------------------------------------------------

    def tabular_data_by_filter(self, request: Any, call: Call) -> Any:
        dr = request.data_request
        where = self._scoped(call, tabular_data, dr.filter)
        descending = dr.sort_order == data_pb2.ORDER_DESCENDING
        with self.db.read() as conn:
            if request.count_only:
                return data_pb2.TabularDataByFilterResponse(count=datastore.count(conn, tabular_data, where))
            rows = datastore.page(conn, tabular_data, where, limit=limit_of(dr.limit),
                                  last=parse_token(dr.last, True), descending=descending)
        response = data_pb2.TabularDataByFilterResponse(count=len(rows), last=token_of(rows[-1]) if rows else "")
        index: dict[tuple[Any, ...], int] = {}
        size = 0
        for row in rows:
            key = _metadata_key(row)
            if key not in index:
                index[key] = len(index)
                response.metadata.append(capture_metadata(row))
            item = response.data.add(metadata_index=index[key])
            item.data.MergeFromString(_payload(row))
            item.time_requested.FromMicroseconds(row.time_requested_us)
            item.time_received.FromMicroseconds(row.time_received_us)
            size += len(row.data)
        response.total_size_bytes = size
        return response

    def export_tabular_data(self, request: Any, call: Call) -> Iterator[Any]:
        who = key_principal(self.tokens, call)
        f = datastore.Filter(part_id=id_field(request.part_id, "part_id") if request.part_id else "",
                             component_name=request.resource_name, component_type=request.resource_subtype,
                             method=request.method_name,
                             start_us=request.interval.start.ToMicroseconds() if request.interval.HasField("start") else None,
                             end_us=request.interval.end.ToMicroseconds() if request.interval.HasField("end") else None)
        where = visible(who, tabular_data) & datastore.condition(tabular_data, f)
        headers: dict[tuple[Any, ...], bytes] = {}
        with self.db.read() as conn:
            for row in datastore.stream(conn, tabular_data, where):
                key = _metadata_key(row)
                head = headers.get(key)
                if head is None:
                    head = headers[key] = _export_head(row)
                yield Encoded(head + _field(5, _timestamp(row.time_requested_us)) + _field(13, _payload(row)))

    def delete_tabular_data(self, request: Any, call: Call) -> Any:
        who = key_principal(self.tokens, call)
        org = organization(who, request.organization_id, owner=True, action="DeleteTabularData")
        from viamlite_plugins.fleet.store import now_us

        cutoff = now_us() - int(request.delete_older_than_days) * 86_400_000_000
        where = (tabular_data.c.organization_id == org) & (tabular_data.c.time_received_us < cutoff)
        with self.db.write() as conn:
            return data_pb2.DeleteTabularDataResponse(deleted_count=datastore.delete_tabular(conn, where))

    # -- binary --------------------------------------------------------------------

    def _binary_reply(self, conn: Any, rows: list[Any], include: bool, out: Any) -> int:
        ids = [r.id for r in rows]
        member = datastore.datasets_of(conn, ids)
        blobs = datastore.blobs(conn, ids) if include else {}
        size = 0
        for row in rows:
            item = out.data.add(metadata=binary_metadata(row, member[row.id]))
            if include:
                item.binary = blobs.get(row.id, b"")
            size += row.size
        if include and size > MAX_REPLY_BYTES:
            from viamlite.rpc import Code, RpcError

            raise RpcError(Code.RESOURCE_EXHAUSTED, f"INCLUDE_BINARY_TOO_LARGE: the binaries come to {size} bytes, "
                                                    f"more than one reply carries; ask for fewer at a time")
        return size

    def binary_data_by_filter(self, request: Any, call: Call) -> Any:
        dr = request.data_request
        where = self._scoped(call, binary_data, dr.filter)
        descending = dr.sort_order == data_pb2.ORDER_DESCENDING
        with self.db.read() as conn:
            if request.count_only:
                return data_pb2.BinaryDataByFilterResponse(count=datastore.count(conn, binary_data, where))
            rows = datastore.page(conn, binary_data, where, limit=limit_of(dr.limit),
                                  last=parse_token(dr.last, False), descending=descending)
            response = data_pb2.BinaryDataByFilterResponse(count=len(rows), last=token_of(rows[-1]) if rows else "")
            response.total_size_bytes = self._binary_reply(conn, rows, request.include_binary, response)
        return response

    @staticmethod
    def _ids(request: Any) -> list[str]:
        ids = [*request.binary_data_ids, *(b.file_id for b in request.binary_ids)]
        if not ids:
            raise InvalidArgumentError("binary_data_ids is empty: give the ids of the binary data")
        if len(ids) > MAX_IDS:
            raise InvalidArgumentError(f"{len(ids)} binary data ids; at most {MAX_IDS} per call")
        return [id_field(i, "binary_data_ids") for i in ids]

    def binary_data_by_ids(self, request: Any, call: Call) -> Any:
        ids = self._ids(request)
        where = self._scoped(call, binary_data, None)
        with self.db.read() as conn:
            rows = datastore.binaries(conn, ids, where)
            missing = sorted(set(ids) - {r.id for r in rows})
            if missing:
                raise ResourceNotFoundError(f"no binary data with id {missing[0]!r}")
            response = data_pb2.BinaryDataByIDsResponse(count=len(rows))
            self._binary_reply(conn, rows, request.include_binary, response)
        return response

    def delete_binary_data_by_filter(self, request: Any, call: Call) -> Any:
        where = self._scoped(call, binary_data, request.filter, owner=True)
        with self.db.write() as conn:
            return data_pb2.DeleteBinaryDataByFilterResponse(deleted_count=datastore.delete_binaries(conn, where))

    def delete_binary_data_by_ids(self, request: Any, call: Call) -> Any:
        ids = self._ids(request)
        where = self._scoped(call, binary_data, None, owner=True) & binary_data.c.id.in_(ids)
        with self.db.write() as conn:
            return data_pb2.DeleteBinaryDataByIDsResponse(deleted_count=datastore.delete_binaries(conn, where))

    # -- datasets ------------------------------------------------------------------

    def _dataset_change(self, request: Any, call: Call, change: Any) -> None:
        who = key_principal(self.tokens, call)
        dataset_id = id_field(request.dataset_id, "dataset_id")
        ids = self._ids(request)
        with self.db.write() as conn:
            try:
                dataset = datasetstore.get(conn, dataset_id)
            except ResourceNotFoundError:
                dataset = None
            if dataset is None or not who.reaches_inside(dataset.organization_id):
                raise ResourceNotFoundError(f"no dataset with id {dataset_id!r}")
            where = visible(who, binary_data, owner=True) & (binary_data.c.organization_id == dataset.organization_id)
            rows = datastore.binaries(conn, ids, where)
            missing = sorted(set(ids) - {r.id for r in rows})
            if missing:
                raise ResourceNotFoundError(f"no binary data with id {missing[0]!r} in the dataset's organization "
                                            f"that this key owns")
            change(conn, dataset_id, ids)

    def add_to_dataset(self, request: Any, call: Call) -> Any:
        self._dataset_change(request, call, datasetstore.add)
        return data_pb2.AddBinaryDataToDatasetByIDsResponse()

    def remove_from_dataset(self, request: Any, call: Call) -> Any:
        self._dataset_change(request, call, datasetstore.remove)
        return data_pb2.RemoveBinaryDataFromDatasetByIDsResponse()

    # -- direct database access ------------------------------------------------------

    def configure_database_user(self, request: Any, call: Call) -> Any:
        who = key_principal(self.tokens, call)
        org = organization(who, request.organization_id, owner=True, action="ConfigureDatabaseUser")
        with self.db.write() as conn:
            dbusers.configure(conn, org, request.password)
        return data_pb2.ConfigureDatabaseUserResponse()

    def get_database_connection(self, request: Any, call: Call) -> Any:
        who = key_principal(self.tokens, call)
        org = organization(who, request.organization_id)
        with self.db.read() as conn:
            host, uri, has = dbusers.connection(conn, self.db.url, org)
        return data_pb2.GetDatabaseConnectionResponse(hostname=host, mongodb_uri=uri, has_database_user=has)

    def methods(self) -> list[Method]:
        table = {
            "TabularDataByFilter": self.tabular_data_by_filter, "ExportTabularData": self.export_tabular_data,
            "BinaryDataByFilter": self.binary_data_by_filter, "BinaryDataByIDs": self.binary_data_by_ids,
            "DeleteTabularData": self.delete_tabular_data,
            "DeleteBinaryDataByFilter": self.delete_binary_data_by_filter,
            "DeleteBinaryDataByIDs": self.delete_binary_data_by_ids,
            "AddBinaryDataToDatasetByIDs": self.add_to_dataset,
            "RemoveBinaryDataFromDatasetByIDs": self.remove_from_dataset,
            "ConfigureDatabaseUser": self.configure_database_user,
            "GetDatabaseConnection": self.get_database_connection,
        }
        service = data_pb2.DESCRIPTOR.services_by_name["DataService"]
        out = []
        for name, handler in table.items():
            m = service.methods_by_name[name]
            streaming = m.server_streaming
            out.append(Method(f"/{SERVICE}/{name}", getattr(data_pb2, m.input_type.name),
                              getattr(data_pb2, m.output_type.name),
                              rpc_stream(handler) if streaming else rpc(handler), server_streaming=streaming,
                              lane=Lane.LONG if name in ("ExportTabularData", "DeleteTabularData",
                                                         "DeleteBinaryDataByFilter") else Lane.QUICK))
        return out


def data_methods(db: Database, tokens: Tokens) -> list[Method]:
    """DataService, DataSyncService and DatasetService, as the fleet serves them."""
    from viamlite_plugins.fleet.service.dataset import DatasetApi
    from viamlite_plugins.fleet.service.datasync import DataSyncApi

    return [*DataApi(db, tokens).methods(), *DataSyncApi(db, tokens).methods(), *DatasetApi(db, tokens).methods()]
