"""The plugin manager: built-in plugins first, then the ``viamlite`` entry points.

Environment:

``VIAMLITE_PLUGINS``
    Comma-separated entry-point names to load (``fake,blinka``); unset loads all, an
    empty value loads none. Built-in plugins always load.
``VIAMLITE_TRACE_PLUGINS``
    When set to a non-empty value, every hook call is traced to standard error.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata

import pluggy

from viamlite import hookspecs

ENTRY_POINT_GROUP = "viamlite"
BUILTIN_PLUGINS: tuple[str, ...] = ("viamlite.cli.builtin", "viamlite.cli.machines", "viamlite.fastpath.commands",
                                     "viamlite.adapters.parent",
                                     "viamlite.services.shell")

log = logging.getLogger(__name__)


def _selected(env: Mapping[str, str]) -> set[str] | None:
    raw = env.get("VIAMLITE_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _entry_points() -> list[metadata.EntryPoint]:
    found = metadata.entry_points(group=ENTRY_POINT_GROUP)

    def order(ep: metadata.EntryPoint) -> tuple[bool, str]:
        dist = ep.dist.name if ep.dist is not None else ""
        return (dist != "viamlite", ep.name)

    return sorted(found, key=order)


def build_plugin_manager(
    *,
    extra: Iterable[object] = (),
    load_entry_points: bool = True,
    env: Mapping[str, str] | None = None,
) -> pluggy.PluginManager:
    """Build a plugin manager: built-ins, then entry points, then ``extra`` plugins.

    ``extra`` are plugin objects registered last (so they are called first), which is how
    an embedding application or a test adds its own models without packaging them.
    A plugin that fails to import is reported with a warning and skipped.
    """
    env = os.environ if env is None else env
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if env.get("VIAMLITE_TRACE_PLUGINS"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    for module_name in BUILTIN_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    if load_entry_points:
        wanted = _selected(env)
        for ep in _entry_points():
            if wanted is not None and ep.name not in wanted:
                continue
            if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken third-party plugin must not stop the machine
                log.warning("plugin %r (%s) failed to load and is skipped: %s", ep.name, ep.value, exc)
                continue
            pm.register(plugin, name=ep.name)
    for plugin in extra:
        pm.register(plugin)
    return pm
