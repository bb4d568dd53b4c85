"""viam-server's data manager config, read unchanged.

The service (``{"api": "rdk:service:data_manager", "model": "rdk:builtin:builtin"}``)
attributes: ``capture_dir`` (default ``$VIAM_HOME/capture``, ``~/.viam/capture``),
``sync_interval_mins`` (0.1), ``capture_disabled``, ``sync_disabled``, ``tags``,
``additional_sync_paths``, ``maximum_capture_file_size_bytes`` (256 KiB); and the
viamlite-only ``maximum_capture_dir_bytes`` (1 GiB), the disk bound.

Each component's ``service_configs: [{"type": "data_manager", "attributes":
{"capture_methods": [{"method", "capture_frequency_hz", "additional_params", "disabled",
"tags"}]}}]`` names what to capture.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viamlite.attributes import Attributes
from viamlite.config import ConfigError, MachineConfig, ResourceConfig
from viamlite.names import API

DATA_MANAGER = API.parse("rdk:service:data_manager")
DEFAULT_FILE_BYTES = 256 * 1024
DEFAULT_DIR_BYTES = 1 << 30
DEFAULT_SYNC_MINS = 0.1


def default_capture_dir() -> Path:
    home = os.environ.get("VIAM_HOME")
    return (Path(home) if home else Path.home() / ".viam") / "capture"


@dataclass(frozen=True)
class ManagerSettings:
    capture_dir: Path
    sync_interval_s: float
    capture_disabled: bool
    sync_disabled: bool
    tags: tuple[str, ...]
    additional_sync_paths: tuple[Path, ...]
    maximum_capture_file_size_bytes: int
    maximum_capture_dir_bytes: int


def _strings(attrs: Attributes, key: str, example: str) -> tuple[str, ...]:
    values = attrs.sequence(key, example=example)
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value:
            raise attrs.fail(f"{key}[{i}]", f"{value!r} is not a non-empty string", f'write "{key}": {example}')
    return tuple(values)


def manager_settings(attrs: Attributes) -> ManagerSettings:
    capture_dir = attrs.string("capture_dir") or ""
    mins = attrs.number("sync_interval_mins", DEFAULT_SYNC_MINS, above=0)
    return ManagerSettings(
        capture_dir=Path(capture_dir).expanduser() if capture_dir else default_capture_dir(),
        sync_interval_s=float(mins) * 60.0,
        capture_disabled=attrs.boolean("capture_disabled", False),
        sync_disabled=attrs.boolean("sync_disabled", False),
        tags=_strings(attrs, "tags", '["site-a"]'),
        additional_sync_paths=tuple(Path(p).expanduser() for p in _strings(attrs, "additional_sync_paths",
                                                                             '["/home/me/logs"]')),
        maximum_capture_file_size_bytes=int(attrs.number("maximum_capture_file_size_bytes", DEFAULT_FILE_BYTES,
                                                         minimum=1024, integer=True)),
        maximum_capture_dir_bytes=int(attrs.number("maximum_capture_dir_bytes", DEFAULT_DIR_BYTES,
                                                   minimum=64 * 1024, integer=True)),
    )


@dataclass(frozen=True)
class CaptureMethod:
    """One method of one resource to capture."""

    api: API
    resource: str
    method: str
    frequency_hz: float
    additional_params: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]

    @property
    def key(self) -> tuple[Any, ...]:
        return (self.api, self.resource, self.method, self.frequency_hz, self.additional_params, self.tags)


def capture_methods(config: MachineConfig, errors: list[ConfigError] | None = None) -> list[CaptureMethod]:
    """Every enabled capture method of the config's components (and services), checked. A
    method that does not check raises its ConfigError; with ``errors`` given, it is added
    there instead and the other methods are still returned."""
    out: list[CaptureMethod] = []
    for resource in config.resources:
        try:
            out += _resource_methods(resource)
        except ConfigError as exc:
            if errors is None:
                raise
            errors.append(exc)
    return out


def _resource_methods(resource: ResourceConfig) -> list[CaptureMethod]:
    from viamlite_plugins.datamanager.methods import check_params, method_for

    out: list[CaptureMethod] = []
    for i, entry in enumerate(_service_configs(resource)):
        if not isinstance(entry, Mapping) or entry.get("type") != "data_manager":
            continue
        attrs = entry.get("attributes") or {}
        path = f"{resource.path}.service_configs[{i}].attributes"
        methods = attrs.get("capture_methods") if isinstance(attrs, Mapping) else None
        if methods is None:
            continue
        if not isinstance(methods, list):
            raise ConfigError("capture_methods is not a list", path=f"{path}.capture_methods",
                              fix='write "capture_methods": [{"method": "Readings", "capture_frequency_hz": 1}]')
        for j, raw in enumerate(methods):
            where = f"{path}.capture_methods[{j}]"
            method = _method(resource, raw, where)
            if method is None:
                continue
            spec = method_for(method.api, method.method, where)  # an unknown method is a config error
            check_params(spec, dict(method.additional_params), method.method, where)
            out.append(method)
    return out


def _service_configs(resource: ResourceConfig) -> list[Any]:
    value = resource.raw.get("service_configs") if resource.raw else None
    return list(value) if isinstance(value, list) else []


def _method(resource: ResourceConfig, raw: Any, where: str) -> CaptureMethod | None:
    example = '{"method": "Readings", "capture_frequency_hz": 10}'
    if not isinstance(raw, Mapping):
        raise ConfigError("a capture method is not an object", path=where, fix=f"write {example}")
    name = raw.get("method")
    if not isinstance(name, str) or not name:
        raise ConfigError("the capture method has no method name", path=f"{where}.method", fix=f"write {example}")
    if raw.get("disabled") is True:
        return None
    hz = raw.get("capture_frequency_hz")
    if not isinstance(hz, (int, float)) or isinstance(hz, bool) or hz < 0 or hz > 1000:
        raise ConfigError(f"capture_frequency_hz {hz!r} is not a number from 0 to 1000",
                          path=f"{where}.capture_frequency_hz", fix=f"write {example}")
    if hz == 0:
        return None  # as viam-server: a frequency of 0 captures nothing
    params = raw.get("additional_params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError("additional_params is not an object", path=f"{where}.additional_params",
                          fix='write "additional_params": {"reader_name": "a1"}')
    tags = raw.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ConfigError("tags is not a list of strings", path=f"{where}.tags", fix='write "tags": ["x"]')
    return CaptureMethod(resource.api, resource.name, name, float(hz),
                         tuple(sorted((str(k), str(v)) for k, v in params.items())), tuple(tags))
