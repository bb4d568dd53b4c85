"""The bundled ``cloud`` plugin: the machine's side of a fleet (``viamlite serve`` with a
``cloud`` block, :mod:`.member`).

Only hook implementations live here, and they import nothing heavy until a config asks for a
fleet: serving a machine without a ``cloud`` block loads none of the member's code nor the
app API's generated code.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from viamlite.hookspecs import hookimpl

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.config import MachineConfig


@hookimpl
def viamlite_config_source(config: "MachineConfig", plugin_manager: Any) -> Any:
    """A :class:`~viamlite_plugins.cloud.member.FleetMember` for a config whose cloud block
    names a fleet."""
    if config.cloud is None:
        return None
    from viamlite_plugins.cloud.member import FleetMember

    return FleetMember(config, plugin_manager=plugin_manager)
