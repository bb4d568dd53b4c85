"""Generic API over the wire: ``viam.component.generic.v1.GenericService`` (shared methods only)."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.generic import Generic
from viamlite.gen import generic_pb2 as pb

service = ResourceService(Generic.API, pb.DESCRIPTOR.services_by_name["GenericService"])
