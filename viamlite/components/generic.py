"""The generic API: only DoCommand (plus geometries and status)."""
from __future__ import annotations

from viamlite.names import API
from viamlite.resource import Resource


class Generic(Resource):
    API = API.component("generic")
