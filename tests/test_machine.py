"""The resource graph: build order, reconfigure, rebuild, remove, failures, live reload."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from viamlite.config import parse_config
from viamlite.errors import ConfigError, ResourceNotFoundError, UnhealthyResourceError
from viamlite.hookspecs import hookimpl
from viamlite.machine import ConfigWatcher, Machine, State
from viamlite.names import API
from viamlite.plugins import build_plugin_manager
from viamlite.resource import MustRebuild, Resource

WIDGET = API("acme", "component", "widget")
LOG: list[tuple[str, str]] = []


class Widget(Resource):
    API = WIDGET

    def __init__(self, config: Any, deps: Any) -> None:
        super().__init__(config.name)
        if config.attributes.get("explode"):
            raise RuntimeError("wiring harness not connected")
        self.deps = sorted(n.name for n in deps)
        self.value = config.attributes.get("value")
        LOG.append(("build", self.name))

    def reconfigure(self, config: Any, deps: Any) -> None:
        if config.attributes.get("rebuild"):
            raise MustRebuild()
        self.value = config.attributes.get("value")
        self.deps = sorted(n.name for n in deps)
        LOG.append(("reconfigure", self.name))

    def _on_close(self) -> None:
        LOG.append(("close", self.name))


class Plugin:
    @hookimpl
    def viamlite_register_models(self, registry: Any) -> None:
        registry.register(WIDGET, "acme:test:widget", Widget,
                          validate=lambda cfg: [cfg.attributes["follow"]] if "follow" in cfg.attributes else [])


def widget(name: str, **attributes: Any) -> dict[str, Any]:
    depends = attributes.pop("depends_on", [])
    return {"name": name, "api": "acme:component:widget", "model": "acme:test:widget",
            "attributes": attributes, "depends_on": depends}


@pytest.fixture
def machine() -> Any:
    LOG.clear()
    m = Machine(plugin_manager=build_plugin_manager(extra=[Plugin()], load_entry_points=False))
    yield m
    m.close()


def apply(machine: Machine, *components: dict[str, Any]) -> None:
    machine.apply(parse_config({"components": list(components)}))


def test_dependency_order_and_implicit_dependencies(machine: Machine) -> None:
    apply(machine, widget("c", follow="b"), widget("b", depends_on=["a"]), widget("a"))
    assert [n for op, n in LOG if op == "build"] == ["a", "b", "c"]
    assert machine.resource(WIDGET, "c").deps == ["b"]  # type: ignore[attr-defined]


def test_cycle_is_a_config_error(machine: Machine) -> None:
    with pytest.raises(ConfigError, match="dependency cycle: .*a -> .*b -> .*a|cycle"):
        apply(machine, widget("a", depends_on=["b"]), widget("b", depends_on=["a"]))


def test_reconfigure_in_place_rebuild_and_remove(machine: Machine) -> None:
    apply(machine, widget("a", value=1), widget("b", depends_on=["a"]))
    first = machine.resource(WIDGET, "a")
    LOG.clear()
    apply(machine, widget("a", value=2), widget("b", depends_on=["a"]))
    assert machine.resource(WIDGET, "a") is first and first.value == 2  # type: ignore[attr-defined]
    assert LOG == [("reconfigure", "a")]
    LOG.clear()
    apply(machine, widget("a", value=3, rebuild=True), widget("b", depends_on=["a"]))
    assert machine.resource(WIDGET, "a") is not first and first.closed
    # b depended on the rebuilt a: it is reconfigured with the new dependency
    assert LOG == [("close", "a"), ("build", "a"), ("reconfigure", "b")]
    LOG.clear()
    apply(machine, widget("a", value=3, rebuild=True))
    assert LOG == [("close", "b")]
    with pytest.raises(ResourceNotFoundError, match="'b'.*resources of this API: a"):
        machine.resource(WIDGET, "b")


def test_failed_build_is_unhealthy_and_others_still_run(machine: Machine) -> None:
    apply(machine, widget("good"), widget("bad", explode=True), widget("child", depends_on=["bad"]))
    states = {e.config.name: (e.state, e.error) for e in machine.entries()}
    assert states["good"][0] == State.READY
    assert states["bad"] == (State.UNHEALTHY, "RuntimeError: wiring harness not connected")
    assert states["child"][0] == State.UNHEALTHY and "'bad'" in states["child"][1]
    with pytest.raises(UnhealthyResourceError, match="wiring harness"):
        machine.resource(WIDGET, "bad")
    apply(machine, widget("good"), widget("bad"), widget("child", depends_on=["bad"]))
    assert all(e.state == State.READY for e in machine.entries())


def test_unknown_model_lists_available(machine: Machine) -> None:
    with pytest.raises(ConfigError) as info:
        apply(machine, {"name": "w", "api": "acme:component:widget", "model": "acme:test:gadget"})
    assert info.value.path == "components[0].model"
    assert "acme:test:widget" in info.value.fix


def test_close_is_idempotent_and_reverse_order(machine: Machine) -> None:
    apply(machine, widget("a"), widget("b", depends_on=["a"]))
    LOG.clear()
    machine.close()
    machine.close()
    assert LOG == [("close", "b"), ("close", "a")]


def test_watcher_applies_edits_and_keeps_last_good(machine: Machine, tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"components": [widget("a", value=1)]}))
    apply(machine, widget("a", value=1))
    watcher = ConfigWatcher(machine, path)
    path.write_text(json.dumps({"components": [widget("a", value=2), widget("z")]}))
    assert watcher.check() is True
    assert machine.resource(WIDGET, "a").value == 2  # type: ignore[attr-defined]
    assert {n.name for n in machine.resource_names} == {"a", "z"}
    path.write_text('{"components": [')  # a bad edit
    assert watcher.check() is False
    assert watcher.last_error is not None and str(path) in str(watcher.last_error)
    assert {n.name for n in machine.resource_names} == {"a", "z"}
    path.write_text(json.dumps({"components": [widget("a", value=2), widget("z", model_typo=1)] + [
        {"name": "q", "api": "acme:component:widget", "model": "nope"}]}))
    assert watcher.check() is False and "unknown model" in str(watcher.last_error)
    assert {n.name for n in machine.resource_names} == {"a", "z"}


def test_builtin_service_viamlite_lacks_is_unavailable_not_fatal(machine: Machine) -> None:
    machine.apply(parse_config({"components": [widget("a")],
                                "services": [{"name": "dm", "type": "data_manager"}]}))
    states = {e.config.name: (e.state, e.error) for e in machine.entries()}
    assert states["a"][0] == State.READY
    assert states["dm"][0] == State.UNHEALTHY and "no built-in data_manager service" in states["dm"][1]
