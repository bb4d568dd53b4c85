"""Generic API over the wire: ``viam.component.generic.v1.GenericService`` (shared methods only)."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.generic import Generic

service = ResourceService(Generic.API, "viam.component.generic.v1.GenericService")
