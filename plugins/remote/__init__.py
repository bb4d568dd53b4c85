"""Bundled plugin: remote parts linked over gRPC (the Viam wire protocol).

Provides the ``viamlite_remote_link`` hook for every remote; a plugin registered later
can take over some addresses (another transport) by answering first.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from viamlite.hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import RemoteConfig
    from viamlite.remotes import RemoteLink


@hookimpl
def viamlite_remote_link(config: "RemoteConfig", machine_id: str) -> "RemoteLink | None":
    from viamlite_plugins.remote.link import GrpcRemoteLink

    return GrpcRemoteLink(config, machine_id)
