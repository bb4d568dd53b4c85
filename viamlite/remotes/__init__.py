"""Remote parts: other machines' resources shown as this machine's own.

* :mod:`~viamlite.remotes.link`: the link contract a transport plugin provides;
* :mod:`~viamlite.remotes.table`: the links of a machine and the name table;
* :mod:`~viamlite.remotes.protowire`: reading protobuf bytes without their classes;
* :mod:`~viamlite.remotes.forward`: forwarding calls to remote resources as bytes;
* :mod:`~viamlite.remotes.session`: the session a link holds on its remote.
"""
from __future__ import annotations

from viamlite.remotes.link import (
    CHAINS_KEY,
    MACHINE_KEY,
    VIA_KEY,
    ForwardOptions,
    LinkState,
    Reachability,
    RemoteFrame,
    RemoteLink,
    RemoteResource,
)
from viamlite.remotes.table import RemoteManager, RemoteStatus, Route, service_matches, service_name

__all__ = ["CHAINS_KEY", "MACHINE_KEY", "VIA_KEY", "ForwardOptions", "LinkState", "Reachability", "RemoteFrame",
           "RemoteLink", "RemoteManager", "RemoteResource", "RemoteStatus", "Route", "service_matches",
           "service_name"]
