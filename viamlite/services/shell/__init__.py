"""The shell service (``rdk:service:shell``): a shell on the machine, as viam-server offers it.

Configured as ``{"name": "shell", "api": "rdk:service:shell", "model": "rdk:builtin:shell"}``
(viam-server's own ``rdk:builtin:builtin`` is the same model). Attributes: ``shell`` (the
program, default ``$SHELL`` else ``/bin/sh``). It is served over
``viam.service.shell.v1.ShellService/Shell`` (:mod:`viamlite.adapters.shell`), and only to
authenticated callers: a machine without API keys refuses every shell.

Registered as a built-in plugin: the model's module is imported only when a config names it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from viamlite.hookspecs import hookimpl
from viamlite.names import API

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.registry import ModelRegistry

SHELL_API = API("rdk", "service", "shell")
MODELS = ("rdk:builtin:shell", "rdk:builtin:builtin")


@hookimpl
def viamlite_register_models(registry: "ModelRegistry") -> None:
    registry.register_lazy_models(__name__, [(SHELL_API, model, "service:BuiltinShell") for model in MODELS])
