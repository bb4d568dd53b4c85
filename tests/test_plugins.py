"""Plugins: bundled ones come through entry points; env vars restrict and trace; hooks documented."""
from __future__ import annotations

import inspect
import subprocess
import sys

from viamlite import hookspecs
from viamlite.names import API, Model
from viamlite.plugins import build_plugin_manager
from viamlite.registry import ModelRegistry


def _registry(env: dict[str, str]) -> ModelRegistry:
    registry = ModelRegistry()
    build_plugin_manager(env=env).hook.viamlite_register_models(registry=registry)
    return registry


def test_fake_plugin_found_through_entry_point() -> None:
    pm = build_plugin_manager(env={})
    assert pm.get_plugin("fake") is not None
    assert pm.get_plugin("viamlite.cli.builtin") is not None
    registry = _registry({})
    for subtype in ("servo", "motor", "board", "sensor", "switch"):
        assert Model.parse("fake") in registry.models_for(API.component(subtype))


def test_env_restricts_entry_points() -> None:
    pm = build_plugin_manager(env={"VIAMLITE_PLUGINS": ""})
    assert pm.get_plugin("fake") is None
    assert pm.get_plugin("viamlite.cli.builtin") is not None, "built-ins always load"
    only_builtins = _registry({"VIAMLITE_PLUGINS": "nothing-else"})
    assert [str(api) for api in only_builtins.apis()] == ["rdk:service:shell"]  # the built-in shell service


def test_later_plugins_override_models() -> None:
    class Override:
        @hookspecs.hookimpl
        def viamlite_register_models(self, registry: ModelRegistry) -> None:
            registry.register("rdk:component:servo", "fake", lambda cfg, deps: "override")

    registry = ModelRegistry()
    build_plugin_manager(extra=[Override()], env={}).hook.viamlite_register_models(registry=registry)
    reg = registry.lookup(API.component("servo"), Model.parse("fake"))
    assert reg is not None and reg.factory(None, {}) == "override"
    assert any(r.api == API.component("servo") for r in registry.shadowed)


def test_trace_env_writes_hook_calls() -> None:
    code = "from viamlite.plugins import build_plugin_manager; from viamlite.registry import ModelRegistry; " \
           "build_plugin_manager().hook.viamlite_register_models(registry=ModelRegistry())"
    out = subprocess.run([sys.executable, "-c", code], env={"VIAMLITE_TRACE_PLUGINS": "1", "PATH": ""},
                         capture_output=True, text=True, check=True)
    assert "viamlite_register_models" in out.stderr


def test_every_hook_documented_with_typed_parameters() -> None:
    specs = [f for name, f in vars(hookspecs).items() if name.startswith("viamlite_")]
    assert len(specs) >= 3
    for spec in specs:
        assert spec.__doc__ and len(spec.__doc__.strip()) > 40, spec.__name__
        sig = inspect.signature(spec)
        assert all(p.annotation is not inspect.Parameter.empty for p in sig.parameters.values()), spec.__name__
        assert "Called" in spec.__doc__ or "called" in spec.__doc__, f"{spec.__name__} says when it is called"


def test_importing_viamlite_is_light() -> None:
    code = "import sys, viamlite; print(sorted(m for m in ('grpc', 'google.protobuf', 'pluggy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
