"""Generic proxy: ``viam.component.generic.v1.GenericService`` (DoCommand and geometries)."""
from __future__ import annotations

from viamlite.client.resources._base import RemoteResource
from viamlite.components.generic import Generic


class GenericClient(RemoteResource, Generic):
    SERVICE = "viam.component.generic.v1.GenericService"
