"""``viam.app.dataset.v1.DatasetService``: an organization's datasets (named sets of its
binary data): create, list by organization and by ids, rename, delete. Reading needs any
grant in the organization; changing needs an owner of the whole organization."""
from __future__ import annotations

from typing import Any

from viamlite.errors import InvalidArgumentError, ResourceNotFoundError
from viamlite.gen.app import dataset_pb2 as pb
from viamlite.rpc import Call, Lane, Method
from viamlite_plugins.fleet.access import Principal, Scope
from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.service import id_field, name_field, rpc
from viamlite_plugins.fleet.service.datascope import key_principal, organization
from viamlite_plugins.fleet.store import datasets as store
from viamlite_plugins.fleet.tokens import Tokens

SERVICE = "viam.app.dataset.v1.DatasetService"
MAX_IDS = 1000


def dataset_message(row: Any) -> Any:
    out = pb.Dataset(id=row.id, name=row.name, organization_id=row.organization_id,
                     type=pb.DATASET_TYPE_BINARY_DATA)
    out.time_created.FromMicroseconds(row.created_us)
    return out


class DatasetApi:
    def __init__(self, db: Database, tokens: Tokens) -> None:
        self.db = db
        self.tokens = tokens

    def _dataset(self, conn: Any, who: Principal, dataset_id: str, *, owner: bool, action: str) -> Any:
        dataset_id = id_field(dataset_id, "id")
        try:
            row = store.get(conn, dataset_id)
        except ResourceNotFoundError:
            row = None
        if row is None or not who.reaches_inside(row.organization_id):
            raise ResourceNotFoundError(f"no dataset with id {dataset_id!r}")
        if owner:
            who.require_owner(Scope(row.organization_id), action)
        return row

    @staticmethod
    def _binary_only(request: Any) -> None:
        if request.HasField("type") and request.type != pb.DATASET_TYPE_BINARY_DATA:
            raise InvalidArgumentError("type: this fleet's datasets hold binary data only "
                                       "(DATASET_TYPE_BINARY_DATA)")

    def create(self, request: Any, call: Call) -> Any:
        who = key_principal(self.tokens, call)
        self._binary_only(request)
        name = name_field(request.name, "name")
        org = organization(who, request.organization_id, owner=True, action="CreateDataset")
        with self.db.write() as conn:
            return pb.CreateDatasetResponse(id=store.create(conn, org, name))

    def delete(self, request: Any, call: Call) -> Any:
        who = key_principal(self.tokens, call)
        with self.db.write() as conn:
            row = self._dataset(conn, who, request.id, owner=True, action="DeleteDataset")
            store.delete_dataset(conn, row.id)
        return pb.DeleteDatasetResponse()

    def rename(self, request: Any, call: Call) -> Any:
        who = key_principal(self.tokens, call)
        name = name_field(request.name, "name")
        with self.db.write() as conn:
            row = self._dataset(conn, who, request.id, owner=True, action="RenameDataset")
            store.rename(conn, row.id, name)
        return pb.RenameDatasetResponse()

    def list_by_organization(self, request: Any, call: Call) -> Any:
        who = key_principal(self.tokens, call)
        self._binary_only(request)
        org = organization(who, request.organization_id)
        with self.db.read() as conn:
            rows = store.list_by_organization(conn, org)
        return pb.ListDatasetsByOrganizationIDResponse(datasets=[dataset_message(r) for r in rows])

    def list_by_ids(self, request: Any, call: Call) -> Any:
        who = key_principal(self.tokens, call)
        if len(request.ids) > MAX_IDS:
            raise InvalidArgumentError(f"ids has {len(request.ids)} entries; at most {MAX_IDS}")
        ids = [id_field(i, "ids") for i in request.ids]
        with self.db.read() as conn:
            rows = [r for r in store.list_by_ids(conn, ids) if who.reaches_inside(r.organization_id)]
        return pb.ListDatasetsByIDsResponse(datasets=[dataset_message(r) for r in rows])

    def methods(self) -> list[Method]:
        table = {"CreateDataset": self.create, "DeleteDataset": self.delete, "RenameDataset": self.rename,
                 "ListDatasetsByOrganizationID": self.list_by_organization, "ListDatasetsByIDs": self.list_by_ids}
        service = pb.DESCRIPTOR.services_by_name["DatasetService"]
        out = []
        for name, handler in table.items():
            m = service.methods_by_name[name]
            out.append(Method(f"/{SERVICE}/{name}", getattr(pb, m.input_type.name), getattr(pb, m.output_type.name),
                              rpc(handler), lane=Lane.QUICK))
        return out
