"""``data`` and ``dataset``: export, delete, datasets and direct database access, over the
app's DataService and DatasetService (a ``viamlite fleet`` or Viam's).

* Exports write what the Viam CLI writes: ``<destination>/data.ndjson`` (one
  ExportTabularDataResponse as JSON a line) for tabular data; ``<destination>/data/<time>_<id><ext>``
  (the time with ``_`` for ``:``) with ``<destination>/metadata/<same>.json`` (the
  BinaryMetadata) for binaries.
  A binary already fetched (its file there, with its size) is skipped, so an export that
  stopped resumes; tabular data is written to ``data.ndjson.part`` and renamed when complete.
* A progress line on a terminal (standard error), nothing on a pipe.
"""
from __future__ import annotations

import datetime
import json
import os
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

from viamlite_plugins.cloud.commands.context import Context
from viamlite_plugins.cloud.commands.errors import CommandError, UsageError
from viamlite_plugins.cloud.commands.output import message


def protojson(msg: Any) -> dict[str, Any]:
    """A message as the Viam CLI writes it (protojson: lowerCamelCase names)."""
    from google.protobuf import json_format

    return json_format.MessageToDict(msg)

DATA = "viam.app.data.v1.DataService"
DATASET = "viam.app.dataset.v1.DatasetService"
PAGE = 100
TABULAR_PAGE = 1000
CALL_TIMEOUT_S = 60.0


def _opt(ctx: Context, name: str, default: Any = "") -> Any:
    value = getattr(ctx.args, name, None)
    return default if value is None else value


def _list(ctx: Context, name: str) -> list[str]:
    return [v.strip() for v in str(_opt(ctx, name)).split(",") if v.strip()]


def _time(ctx: Context, name: str) -> Any:
    text = _opt(ctx, name)
    if not text:
        return None
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--{name} {text!r} is not a time: write RFC 3339, such as 2026-12-01T12:00:00Z") from None
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


class Progress:
    """``label: N[/TOTAL]`` rewritten in place on a terminal; silent on a pipe."""

    def __init__(self, label: str, total: int | None = None) -> None:
        self.label, self.total, self.done = label, total, 0
        self.shown = sys.stderr.isatty()
        self._lock = threading.Lock()

    def add(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            if self.shown:
                total = f"/{self.total}" if self.total else ""
                sys.stderr.write(f"\r{self.label}: {self.done}{total}")
                sys.stderr.flush()

    def end(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


class DataCalls:
    """DataService and DatasetService calls on the command's app connection."""

    def __init__(self, ctx: Context) -> None:
        from viamlite.gen.app import data_pb2, dataset_pb2

        self.app = ctx.app
        self.pb, self.dpb = data_pb2, dataset_pb2
        self.channel = ctx.app.channel

    def _stub(self, service: str, method: str, module: Any, streaming: bool = False) -> Any:
        make = self.channel.unary_stream if streaming else self.channel.unary_unary
        request, response = getattr(module, f"{method}Request"), getattr(module, f"{method}Response")
        return make(f"/{service}/{method}", request_serializer=request.SerializeToString,
                    response_deserializer=response.FromString)

    def data(self, method: str, request: Any, what: str = "") -> Any:
        import grpc

        try:
            return self._stub(DATA, method, self.pb)(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.FAILED_PRECONDITION:  # a refusal that says what to do
                raise CommandError(f"the app refused {method}: {err.details()}") from None
            raise self.app.failure(err, method, what) from None

    def dataset(self, method: str, request: Any, what: str = "") -> Any:
        import grpc

        try:
            return self._stub(DATASET, method, self.dpb)(request, timeout=CALL_TIMEOUT_S)
        except grpc.RpcError as err:
            raise self.app.failure(err, method, what) from None

    def export(self, request: Any) -> Iterator[Any]:
        import grpc

        responses = self._stub(DATA, "ExportTabularData", self.pb, streaming=True)(request)
        try:
            yield from responses
        except grpc.RpcError as err:
            raise self.app.failure(err, "ExportTabularData", "the data") from None
        finally:
            responses.cancel()


def _filter(ctx: Context, pb: Any) -> Any:
    if _opt(ctx, "component_model"):
        raise UsageError("--component-model: the app's data filter has no model (Filter carries none); filter by "
                         "--component-type and --component-name instead")
    f = pb.Filter(component_name=_opt(ctx, "component_name"), component_type=_opt(ctx, "component_type"),
                  method=_opt(ctx, "method"), robot_name=_opt(ctx, "robot_name"), robot_id=_opt(ctx, "robot_id"),
                  part_name=_opt(ctx, "part_name"), part_id=_opt(ctx, "part_id"),
                  location_ids=_list(ctx, "location_ids"), organization_ids=_list(ctx, "org_ids"),
                  mime_type=_list(ctx, "mime_types"))
    if _list(ctx, "tags"):
        f.tags_filter.type = pb.TAGS_FILTER_TYPE_MATCH_BY_OR
        f.tags_filter.tags.extend(_list(ctx, "tags"))
    for name, field in (("start", f.interval.start), ("end", f.interval.end)):
        when = _time(ctx, name)
        if when is not None:
            field.FromDatetime(when)
    return f


def _destination(ctx: Context) -> Path:
    dest = _opt(ctx, "destination")
    if not dest:
        raise UsageError("--destination is missing: name the folder to export to")
    path = Path(dest).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- export -----------------------------------------------------------------------------


def export(ctx: Context) -> int:
    """The seed's spelling: ``data export --data-type tabular|binary [filters]``."""
    kind = _opt(ctx, "data_type")
    if kind == "binary":
        return export_binary_filter(ctx)
    if kind == "tabular":
        return _export_tabular_by_filter(ctx)
    raise UsageError("say what to export: --data-type tabular|binary (or: data export tabular | binary filter|ids)")


def _write_ndjson(dest: Path, lines: Iterator[dict[str, Any]], progress: Progress) -> int:
    part = dest / "data.ndjson.part"
    count = 0
    with open(part, "w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            count += 1
            progress.add()
    os.replace(part, dest / "data.ndjson")
    progress.end()
    return count


def export_tabular(ctx: Context) -> int:
    """Today's spelling: ``data export tabular --part-id --resource-name --resource-subtype --method``."""
    calls = DataCalls(ctx)
    pb = calls.pb
    for flag in ("part_id", "resource_name", "resource_subtype", "method"):
        if not _opt(ctx, flag):
            raise UsageError(f"--{flag.replace('_', '-')} is missing: data export tabular needs --part-id, "
                             f"--resource-name, --resource-subtype and --method")
    request = pb.ExportTabularDataRequest(part_id=_opt(ctx, "part_id"), resource_name=_opt(ctx, "resource_name"),
                                          resource_subtype=_opt(ctx, "resource_subtype"),
                                          method_name=_opt(ctx, "method"))
    for name, field in (("start", request.interval.start), ("end", request.interval.end)):
        when = _time(ctx, name)
        if when is not None:
            field.FromDatetime(when)
    params = _opt(ctx, "additional_params")
    if params:
        try:
            request.additional_parameters.update(json.loads(params))
        except (ValueError, AttributeError):
            raise UsageError("--additional-params is not a JSON object") from None
    dest = _destination(ctx)
    count = _write_ndjson(dest, (protojson(r) for r in calls.export(request)), Progress("rows"))
    ctx.out.line(f"Exported {count} rows to {dest / 'data.ndjson'}")
    return 0


def _export_tabular_by_filter(ctx: Context) -> int:
    calls = DataCalls(ctx)
    pb = calls.pb
    request = pb.TabularDataByFilterRequest(data_request=pb.DataRequest(filter=_filter(ctx, pb), limit=TABULAR_PAGE))

    def rows() -> Iterator[dict[str, Any]]:
        while True:
            page = calls.data("TabularDataByFilter", request, "the data")
            for row in page.data:
                meta = page.metadata[row.metadata_index]
                line = {"partId": meta.part_id, "resourceName": meta.component_name,
                        "resourceSubtype": meta.component_type, "methodName": meta.method_name,
                        "timeCaptured": row.time_requested.ToJsonString(), "organizationId": meta.organization_id,
                        "locationId": meta.location_id, "robotName": meta.robot_name, "robotId": meta.robot_id,
                        "partName": meta.part_name, "tags": list(meta.tags),
                        "payload": message(row)["data"] if row.HasField("data") else {}}
                yield line
            if len(page.data) < TABULAR_PAGE or not page.last:
                return
            request.data_request.last = page.last

    dest = _destination(ctx)
    count = _write_ndjson(dest, rows(), Progress("rows"))
    ctx.out.line(f"Exported {count} rows to {dest / 'data.ndjson'}")
    return 0


def _file_name(meta: Any) -> str:
    """``<time requested, ":" as "_">_<id><ext>``, the Viam CLI's name for a download."""
    when = meta.time_requested.ToJsonString() if meta.HasField("time_requested") else "unknown"
    ext = meta.file_ext if meta.file_ext and not meta.file_name.endswith(meta.file_ext) else ""
    return f"{when}_{meta.binary_data_id or meta.id}{ext}".replace("/", "_").replace(":", "_")


def _download(calls: DataCalls, dest: Path, ids: list[str], parallel: int) -> tuple[int, int]:
    """Fetch each binary (metadata first, then its bytes) unless already there; (fetched, skipped)."""
    pb = calls.pb
    (dest / "data").mkdir(exist_ok=True)
    (dest / "metadata").mkdir(exist_ok=True)
    progress = Progress("files", len(ids))
    counts = {"fetched": 0, "skipped": 0}
    lock = threading.Lock()

    def one(binary_id: str) -> None:
        meta = calls.data("BinaryDataByIDs", pb.BinaryDataByIDsRequest(binary_data_ids=[binary_id]),
                          f"binary data {binary_id!r}").data[0].metadata
        name = _file_name(meta)
        target = dest / "data" / name
        if target.exists() and target.stat().st_size == meta.file_size_bytes:
            with lock:
                counts["skipped"] += 1
        else:
            data = calls.data("BinaryDataByIDs", pb.BinaryDataByIDsRequest(binary_data_ids=[binary_id],
                                                                         include_binary=True),
                              f"binary data {binary_id!r}").data[0].binary
            part = target.with_name(target.name + ".part")
            part.write_bytes(data)
            os.replace(part, target)
            with lock:
                counts["fetched"] += 1
        (dest / "metadata" / f"{name}.json").write_text(json.dumps(protojson(meta), indent=2))
        progress.add()

    with futures.ThreadPoolExecutor(max(1, min(parallel, 100))) as pool:
        for done in [pool.submit(one, i) for i in ids]:
            done.result()
    progress.end()
    return counts["fetched"], counts["skipped"]


def _ids_by_filter(calls: DataCalls, f: Any) -> list[str]:
    pb = calls.pb
    request = pb.BinaryDataByFilterRequest(data_request=pb.DataRequest(filter=f, limit=PAGE))
    ids: list[str] = []
    while True:
        page = calls.data("BinaryDataByFilter", request, "the data")
        ids += [d.metadata.binary_data_id or d.metadata.id for d in page.data]
        if len(page.data) < PAGE or not page.last:
            return ids
        request.data_request.last = page.last


def export_binary_filter(ctx: Context) -> int:
    calls = DataCalls(ctx)
    dest = _destination(ctx)
    ids = _ids_by_filter(calls, _filter(ctx, calls.pb))
    fetched, skipped = _download(calls, dest, ids, int(_opt(ctx, "parallel", 8)))
    ctx.out.line(f"Exported {len(ids)} files to {dest} ({fetched} fetched, {skipped} already there)")
    return 0


def export_binary_ids(ctx: Context) -> int:
    calls = DataCalls(ctx)
    ids = _list(ctx, "binary_data_ids")
    if not ids:
        raise UsageError("--binary-data-ids is missing: give comma-separated binary data ids")
    dest = _destination(ctx)
    fetched, skipped = _download(calls, dest, ids, int(_opt(ctx, "parallel", 8)))
    ctx.out.line(f"Exported {len(ids)} files to {dest} ({fetched} fetched, {skipped} already there)")
    return 0


# -- delete -------------------------------------------------------------------------------


def delete_binary(ctx: Context) -> int:
    calls = DataCalls(ctx)
    reply = calls.data("DeleteBinaryDataByFilter", calls.pb.DeleteBinaryDataByFilterRequest(filter=_filter(ctx, calls.pb)))
    ctx.out.line(f"Deleted {reply.deleted_count} binary data files")
    return 0


def delete_tabular(ctx: Context) -> int:
    calls = DataCalls(ctx)
    if ctx.args.delete_older_than_days < 0:
        raise UsageError("--delete-older-than-days must be 0 or more")
    reply = calls.data("DeleteTabularData", calls.pb.DeleteTabularDataRequest(
        organization_id=ctx.args.org_id, delete_older_than_days=ctx.args.delete_older_than_days),
        f"organization {ctx.args.org_id!r}")
    ctx.out.line(f"Deleted {reply.deleted_count} tabular data points")
    return 0


# -- datasets -----------------------------------------------------------------------------


def _change_dataset(ctx: Context, verb: str, ids: list[str]) -> int:
    calls = DataCalls(ctx)
    method = "AddBinaryDataToDatasetByIDs" if verb == "add" else "RemoveBinaryDataFromDatasetByIDs"
    request = getattr(calls.pb, f"{method}Request")
    for start in range(0, len(ids), PAGE):
        calls.data(method, request(dataset_id=ctx.args.dataset_id, binary_data_ids=ids[start:start + PAGE]),
                   f"dataset {ctx.args.dataset_id!r}")
    ctx.out.line(f"{'Added' if verb == 'add' else 'Removed'} {len(ids)} binary data files "
                 f"{'to' if verb == 'add' else 'from'} dataset {ctx.args.dataset_id}")
    return 0


def dataset_add_ids(ctx: Context) -> int:
    return _change_dataset(ctx, "add", _list(ctx, "binary_data_ids"))


def dataset_remove_ids(ctx: Context) -> int:
    return _change_dataset(ctx, "remove", _list(ctx, "binary_data_ids"))


def dataset_add_filter(ctx: Context) -> int:
    calls = DataCalls(ctx)
    return _change_dataset(ctx, "add", _ids_by_filter(calls, _filter(ctx, calls.pb)))


def dataset_remove_filter(ctx: Context) -> int:
    calls = DataCalls(ctx)
    return _change_dataset(ctx, "remove", _ids_by_filter(calls, _filter(ctx, calls.pb)))


def dataset_create(ctx: Context) -> int:
    calls = DataCalls(ctx)
    reply = calls.dataset("CreateDataset", calls.dpb.CreateDatasetRequest(name=ctx.args.name,
                                                                          organization_id=ctx.args.org_id),
                          f"organization {ctx.args.org_id!r}")
    ctx.out.emit({"id": reply.id, "name": ctx.args.name}, [f"Created dataset {ctx.args.name} with dataset ID: {reply.id}"])
    return 0


def dataset_list(ctx: Context) -> int:
    calls = DataCalls(ctx)
    ids, org = _list(ctx, "dataset_ids"), _opt(ctx, "org_id")
    if bool(ids) == bool(org):
        raise UsageError("give --org-id (every dataset of the organization) or --dataset-ids, one of the two")
    if ids:
        found = calls.dataset("ListDatasetsByIDs", calls.dpb.ListDatasetsByIDsRequest(ids=ids)).datasets
    else:
        found = calls.dataset("ListDatasetsByOrganizationID",
                              calls.dpb.ListDatasetsByOrganizationIDRequest(organization_id=org),
                              f"organization {org!r}").datasets
    ctx.out.emit([message(d) for d in found], [f"\t{d.name} (id: {d.id}, created {d.time_created.ToJsonString()})"
                                               for d in found] or ["\t(no datasets)"])
    return 0


def dataset_rename(ctx: Context) -> int:
    calls = DataCalls(ctx)
    calls.dataset("RenameDataset", calls.dpb.RenameDatasetRequest(id=ctx.args.dataset_id, name=ctx.args.name),
                  f"dataset {ctx.args.dataset_id!r}")
    ctx.out.line(f"Renamed dataset {ctx.args.dataset_id} to {ctx.args.name}")
    return 0


def dataset_delete(ctx: Context) -> int:
    calls = DataCalls(ctx)
    calls.dataset("DeleteDataset", calls.dpb.DeleteDatasetRequest(id=ctx.args.dataset_id),
                  f"dataset {ctx.args.dataset_id!r}")
    ctx.out.line(f"Deleted dataset {ctx.args.dataset_id}")
    return 0


# -- database -----------------------------------------------------------------------------


def database_configure(ctx: Context) -> int:
    calls = DataCalls(ctx)
    org = ctx.args.org_id
    existing = calls.data("GetDatabaseConnection", calls.pb.GetDatabaseConnectionRequest(organization_id=org),
                          f"organization {org!r}")
    if existing.has_database_user and not ctx.args.yes:
        answer = input("The organization already has a database user: replace its password? (y/n) ").strip().lower()
        if answer not in ("y", "yes"):
            ctx.out.line("Left the database user as it was")
            return 0
    calls.data("ConfigureDatabaseUser", calls.pb.ConfigureDatabaseUserRequest(organization_id=org,
                                                                              password=ctx.args.password),
               f"organization {org!r}")
    after = calls.data("GetDatabaseConnection", calls.pb.GetDatabaseConnectionRequest(organization_id=org))
    ctx.out.line(f"Configured the database user of organization {org}: connect with "
                 f"psql '{after.mongodb_uri}' (the password you gave)")
    return 0


def database_hostname(ctx: Context) -> int:
    calls = DataCalls(ctx)
    org = ctx.args.org_id
    reply = calls.data("GetDatabaseConnection", calls.pb.GetDatabaseConnectionRequest(organization_id=org),
                       f"organization {org!r}")
    ctx.out.line(f"Database hostname: {reply.hostname}")
    ctx.out.line(f"Database connection URI: {reply.mongodb_uri}")
    return 0

