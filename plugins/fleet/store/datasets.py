"""Datasets: named sets of an organization's binary data."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from viamlite.errors import FailedPreconditionError, ResourceNotFoundError
from viamlite_plugins.fleet.db.schema_data import dataset_members, datasets
from viamlite_plugins.fleet.store import new_id, now_us


def create(conn: Connection, organization_id: str, name: str) -> str:
    dataset_id = new_id()
    try:
        with conn.begin_nested():
            conn.execute(datasets.insert().values(id=dataset_id, organization_id=organization_id, name=name,
                                                  created_us=now_us()))
    except IntegrityError:
        raise FailedPreconditionError(f"the organization already has a dataset named {name!r}: choose another "
                                      f"name") from None
    return dataset_id


def get(conn: Connection, dataset_id: str):  # type: ignore[no-untyped-def]
    row = conn.execute(select(datasets).where(datasets.c.id == dataset_id)).first()
    if row is None:
        raise ResourceNotFoundError(f"no dataset with id {dataset_id!r}")
    return row


def list_by_organization(conn: Connection, organization_id: str) -> list:
    query = select(datasets).where(datasets.c.organization_id == organization_id).order_by(datasets.c.created_us,
                                                                                         datasets.c.id)
    return list(conn.execute(query))


def list_by_ids(conn: Connection, ids: Sequence[str]) -> list:
    if not ids:
        return []
    return list(conn.execute(select(datasets).where(datasets.c.id.in_(list(ids))).order_by(datasets.c.created_us)))


def rename(conn: Connection, dataset_id: str, name: str) -> None:
    try:
        with conn.begin_nested():
            conn.execute(update(datasets).where(datasets.c.id == dataset_id).values(name=name))
    except IntegrityError:
        raise FailedPreconditionError(f"the organization already has a dataset named {name!r}: choose another "
                                      f"name") from None


def delete_dataset(conn: Connection, dataset_id: str) -> None:
    conn.execute(delete(dataset_members).where(dataset_members.c.dataset_id == dataset_id))
    conn.execute(delete(datasets).where(datasets.c.id == dataset_id))


def add(conn: Connection, dataset_id: str, binary_ids: Sequence[str]) -> None:
    """Add binaries to the dataset; ones already in it stay once."""
    present = {r.binary_id for r in conn.execute(select(dataset_members.c.binary_id).where(
        dataset_members.c.dataset_id == dataset_id, dataset_members.c.binary_id.in_(list(binary_ids))))}
    new = [{"dataset_id": dataset_id, "binary_id": b} for b in dict.fromkeys(binary_ids) if b not in present]
    if new:
        conn.execute(dataset_members.insert(), new)


def remove(conn: Connection, dataset_id: str, binary_ids: Sequence[str]) -> None:
    conn.execute(delete(dataset_members).where(dataset_members.c.dataset_id == dataset_id,
                                               dataset_members.c.binary_id.in_(list(binary_ids))))
