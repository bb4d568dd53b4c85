"""A viam-server machine config (its JSON, as ``viamlite.config`` reads it) and the app API's
``viam.app.v1.RobotConfig``, both ways.

- :func:`config_to_proto` is the fleet's side: it stores a part's config as JSON and answers
  ``RobotService.Config`` with the proto.
- :func:`proto_to_config` is the machine's side: it turns the answer back into the JSON that
  ``viamlite.config.parse_config`` validates and runs.
- :func:`component_to_proto` / :func:`component_from_proto` (and the service pair) convert
  one resource, as ``viam.module.v1`` AddResource needs it.

Round trips keep everything the proto carries: proto → JSON → proto gives the same message,
and JSON → proto → JSON gives the same config, written the way viam-server writes it
(durations as Go prints them, ``"90s"`` as ``"1m30s"``; a resource's ``api`` filled in when
only ``type`` was given; geometry orientations as ``ov_degrees``; whole numbers in
``attributes`` stay whole). JSON keys the proto cannot carry (viamlite-only settings such as
``auth.token_lifetime``, the local ``cloud.app_address``) are reported: appended as JSON paths
to ``dropped`` when a list is given, else logged as one warning. Input of the wrong shape
raises a :class:`~viamlite.errors.ConfigError` naming the JSON path and the fix.
"""
from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from viamlite.app import durations
from viamlite.app.structs import dict_to_struct, number, struct_to_dict
from viamlite.errors import ConfigError
from viamlite.gen.app import robot_pb2

log = logging.getLogger(__name__)

RobotConfig = robot_pb2.RobotConfig
ComponentConfig = robot_pb2.ComponentConfig
ServiceConfig = robot_pb2.ServiceConfig

# --------------------------------------------------------------------------- field tables

@dataclass(frozen=True)
class _Field:
    """One JSON key and the proto field it maps to. ``kind`` says how values convert:
    ``str``, ``bool``, ``int``, ``float``, ``duration``, ``struct``, ``strs`` (a list of
    strings), ``env`` (a string → string map), ``msg`` / ``msgs`` (one or a list of nested
    objects, described by ``spec``) or ``custom`` (``to``/``back`` functions)."""

    key: str
    kind: str
    spec: _Spec | None = None
    field: str = ""
    to: Callable[[Any, Any, str, list[str]], None] | None = None
    back: Callable[[Any, str, list[str]], Any] | None = None

    @property
    def proto_name(self) -> str:
        return self.field or self.key


@dataclass(frozen=True)
class _Spec:
    """A JSON object's keys and how each maps onto one proto message; ``example`` shows the
    object's shape in error messages."""

    fields: tuple[_Field, ...]
    example: str

    @functools.cached_property
    def by_proto_name(self) -> dict[str, _Field]:
        return {f.proto_name: f for f in self.fields}


def _obj(*fields: _Field, example: str) -> _Spec:
    return _Spec(fields, example)


def _f(key: str, kind: str = "str", spec: _Spec | None = None, field: str = "") -> _Field:
    return _Field(key, kind, spec, field)


# --------------------------------------------------------------------------- JSON → proto

def _expect(value: Any, kind: type | tuple[type, ...], path: str, what: str, fix: str) -> Any:
    if isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"expected {what}, got a boolean", path=path, fix=fix)
    if not isinstance(value, kind):
        got = type(value).__name__ if isinstance(value, (dict, list)) else repr(value)
        raise ConfigError(f"expected {what}, got {got}", path=path, fix=fix)
    return value


def _fill(msg: Any, obj: Any, spec: _Spec, path: str, dropped: list[str]) -> Any:
    """Set ``msg``'s fields from the JSON object ``obj`` as ``spec`` says; returns ``msg``."""
    _expect(obj, dict, path or "(top level)", "an object", f"write it as {spec.example}")
    known = {f.key: f for f in spec.fields}
    for key, value in obj.items():
        where = f"{path}.{key}" if path else str(key)
        entry = known.get(key)
        if entry is None:
            dropped.append(where)
            continue
        if value is None:
            continue  # viam-server's JSON reads null as "not set"
        _set(msg, entry, value, where, dropped)
    return msg


def _set(msg: Any, entry: _Field, value: Any, path: str, dropped: list[str]) -> None:
    name, kind = entry.proto_name, entry.kind
    if kind == "str":
        setattr(msg, name, _expect(value, str, path, "a string", f'write "{entry.key}": "..."'))
    elif kind == "bool":
        setattr(msg, name, _expect(value, bool, path, "true or false", f'write "{entry.key}": true or false'))
    elif kind == "int":
        whole = _expect(value, int, path, "a whole number", f'write "{entry.key}" as a whole number')
        if not -2**31 <= whole < 2**31:
            raise ConfigError(f"{whole} is out of range", path=path, fix="use a number that fits in 32 bits")
        setattr(msg, name, whole)
    elif kind == "float":
        real = _expect(value, (int, float), path, "a number", f'write "{entry.key}" as a number')
        if not math.isfinite(real):
            raise ConfigError(f"{real!r} is not a finite number", path=path, fix="use a finite number")
        setattr(msg, name, real)
    elif kind == "duration":
        durations.to_proto(value, getattr(msg, name), path)
    elif kind == "struct":
        _expect(value, dict, path, "an object", f'write "{entry.key}": {{...}}')
        dict_to_struct(value, getattr(msg, name), path)
    elif kind == "strs":
        _expect(value, list, path, "a list of strings", f'write "{entry.key}": ["..."]')
        for i, item in enumerate(value):
            _expect(item, str, f"{path}[{i}]", "a string", "list strings only")
        getattr(msg, name).extend(value)
    elif kind == "env":
        _expect(value, dict, path, "an object of strings", f'write "{entry.key}": {{"NAME": "value"}}')
        for key, item in value.items():
            _expect(item, str, f"{path}.{key}", "a string", "give every variable a string value")
            getattr(msg, name)[key] = item
    elif kind == "msg":
        assert entry.spec is not None
        _expect(value, dict, path, "an object", f"write it as {entry.spec.example}")
        target = getattr(msg, name)
        target.SetInParent()
        _fill(target, value, entry.spec, path, dropped)
    elif kind == "msgs":
        assert entry.spec is not None
        _expect(value, list, path, "a list", f'write "{entry.key}": [{entry.spec.example}]')
        for i, item in enumerate(value):
            _fill(getattr(msg, name).add(), item, entry.spec, f"{path}[{i}]", dropped)
    elif kind == "custom":
        assert entry.to is not None
        entry.to(msg, value, path, dropped)
    else:  # pragma: no cover - the tables below use only the kinds above
        raise AssertionError(kind)


# --------------------------------------------------------------------------- proto → JSON

def _read(msg: Any, spec: _Spec, path: str, dropped: list[str]) -> dict[str, Any]:
    """The JSON object of ``msg`` as ``spec`` says; set fields it has no key for are reported."""
    out: dict[str, Any] = {}
    by_name = spec.by_proto_name
    for field, value in msg.ListFields():  # only the fields that are set, in field-number order
        entry = by_name.get(field.name)
        where = f"{path}.{entry.key if entry else field.name}" if path else (entry.key if entry else field.name)
        if entry is None:
            dropped.append(where)
            continue
        converted = _get(msg, entry, value, where, dropped)
        if converted is not _UNSET:
            out[entry.key] = converted
    for entry in spec.fields:
        if entry.kind == "float" and entry.key not in out:
            out[entry.key] = 0  # the parts of a translation are written all three, zeros too
    return out


_UNSET = object()


def _get(msg: Any, entry: _Field, value: Any, path: str, dropped: list[str]) -> Any:
    """The JSON value of one set field (``value``) of ``msg``."""
    kind = entry.kind
    if kind == "custom":
        assert entry.back is not None
        return entry.back(msg, path, dropped)
    if kind == "msgs":
        assert entry.spec is not None
        return [_read(item, entry.spec, f"{path}[{i}]", dropped) for i, item in enumerate(value)]
    if kind == "msg":
        assert entry.spec is not None
        return _read(value, entry.spec, path, dropped)
    if kind == "strs":
        return list(value)
    if kind == "env":
        return dict(value)
    if kind == "duration":
        return durations.from_proto(value)
    if kind == "struct":
        return struct_to_dict(value)
    if kind == "float":
        return number(value)
    return value


# --------------------------------------------------------------------------- special fields

_CREDENTIALS = {"api-key": robot_pb2.CREDENTIALS_TYPE_API_KEY,
                "robot-secret": robot_pb2.CREDENTIALS_TYPE_ROBOT_SECRET,
                "robot-location-secret": robot_pb2.CREDENTIALS_TYPE_ROBOT_LOCATION_SECRET}
_CREDENTIAL_NAMES = {code: name for name, code in _CREDENTIALS.items()}


def _credentials_to(msg: Any, value: Any, path: str, dropped: list[str]) -> None:
    if value not in _CREDENTIALS:
        raise ConfigError(f"credentials type {value!r} is not one the app API carries", path=path,
                          fix="use " + ", ".join(f'"{k}"' for k in _CREDENTIALS))
    msg.type = _CREDENTIALS[value]


def _credentials_back(msg: Any, path: str, dropped: list[str]) -> Any:
    if msg.type == robot_pb2.CREDENTIALS_TYPE_UNSPECIFIED:
        return _UNSET
    name = _CREDENTIAL_NAMES.get(msg.type)
    if name is None:
        dropped.append(path)  # internal credentials have no JSON form
        return _UNSET
    return name


_ORIENTATIONS = {  # JSON type: (proto oneof field, JSON value keys → proto fields)
    "ov_degrees": ("vector_degrees", {"x": "x", "y": "y", "z": "z", "th": "theta"}),
    "ov_radians": ("vector_radians", {"x": "x", "y": "y", "z": "z", "th": "theta"}),
    "axis_angles": ("axis_angles", {"x": "x", "y": "y", "z": "z", "th": "theta"}),
    "euler_angles": ("euler_angles", {"roll": "roll", "pitch": "pitch", "yaw": "yaw"}),
    "quaternion": ("quaternion", {"w": "w", "x": "x", "y": "y", "z": "z"}),
}
_ORIENTATION_FIX = ('write {"type": "ov_degrees", "value": {"x": 0, "y": 0, "z": 1, "th": 0}} '
                    '(or ov_radians, axis_angles, euler_angles, quaternion)')


def _orientation_to(msg: Any, value: Any, path: str, dropped: list[str]) -> None:
    _expect(value, dict, path, "an object", _ORIENTATION_FIX)
    kind, raw = value.get("type") or "", value.get("value")
    for key in value:
        if key not in ("type", "value"):
            dropped.append(f"{path}.{key}")
    target = msg.orientation
    if kind == "":
        target.no_orientation.SetInParent()
        return
    if kind not in _ORIENTATIONS:
        raise ConfigError(f"unknown orientation type {kind!r}", path=f"{path}.type", fix=_ORIENTATION_FIX)
    oneof, keys = _ORIENTATIONS[kind]
    raw = {} if raw is None else _expect(raw, dict, f"{path}.value", "an object", _ORIENTATION_FIX)
    inner = getattr(target, oneof)
    inner.SetInParent()
    for key, amount in raw.items():
        low = key.lower() if isinstance(key, str) else key
        if low not in keys:
            raise ConfigError(f"unknown key {key!r} in a {kind} orientation", path=f"{path}.value.{key}",
                              fix="use the keys " + ", ".join(keys))
        _expect(amount, (int, float), f"{path}.value.{key}", "a number", "give every orientation value a number")
        setattr(inner, keys[low], amount)


def _orientation_back(msg: Any, path: str, dropped: list[str]) -> Any:
    if not msg.HasField("orientation"):
        return _UNSET
    which = msg.orientation.WhichOneof("type")
    if which is None or which == "no_orientation":
        return {"type": ""}
    for kind, (oneof, keys) in _ORIENTATIONS.items():
        if oneof == which:
            inner = getattr(msg.orientation, oneof)
            return {"type": kind, "value": {key: number(getattr(inner, field)) for key, field in keys.items()}}
    raise AssertionError(which)  # pragma: no cover - every kind is in the table


_GEOMETRY_FIX = 'write {"type": "box", "x": 10, "y": 10, "z": 10}, {"type": "sphere", "r": 5} or {"type": "capsule", "r": 5, "l": 20}'
_SHAPES = {"box": ("x", "y", "z"), "sphere": ("r",), "capsule": ("r", "l")}


def _geometry_to(msg: Any, value: Any, path: str, dropped: list[str]) -> None:
    """A frame's ``geometry`` block into ``viam.common.v1.Geometry`` (its center pose in
    orientation-vector degrees, as the Viam API carries poses)."""
    from viamlite.spatial import parse_orientation, quat_to_ov_degrees

    _expect(value, dict, path, "an object", _GEOMETRY_FIX)
    kind = value.get("type")
    if kind not in _SHAPES:
        raise ConfigError(f"unknown geometry type {kind!r}", path=f"{path}.type", fix=_GEOMETRY_FIX)
    allowed = {"type", "translation", "orientation", "label", *_SHAPES[kind]}
    for key in value:
        if key not in allowed:
            dropped.append(f"{path}.{key}")
    sizes = {}
    for key in _SHAPES[kind]:
        sizes[key] = float(_expect(value.get(key, 0), (int, float), f"{path}.{key}", "a number (millimetres)", _GEOMETRY_FIX))
    geometry = msg.geometry
    geometry.SetInParent()
    if kind == "box":
        geometry.box.dims_mm.x, geometry.box.dims_mm.y, geometry.box.dims_mm.z = sizes["x"], sizes["y"], sizes["z"]
    elif kind == "sphere":
        geometry.sphere.radius_mm = sizes["r"]
    else:
        geometry.capsule.radius_mm, geometry.capsule.length_mm = sizes["r"], sizes["l"]
    translation = value.get("translation") or {}
    _expect(translation, dict, f"{path}.translation", "an object", 'write "translation": {"x": 0, "y": 0, "z": 0}')
    center = geometry.center
    for key in ("x", "y", "z"):
        setattr(center, key, _expect(translation.get(key, 0), (int, float), f"{path}.translation.{key}", "a number",
                                     "give x, y and z in millimetres"))
    try:
        quaternion = parse_orientation(value.get("orientation"))
    except ValueError as exc:
        raise ConfigError(str(exc), path=f"{path}.orientation", fix=_ORIENTATION_FIX) from None
    ov = quat_to_ov_degrees(quaternion)
    center.o_x, center.o_y, center.o_z, center.theta = ov.o_x, ov.o_y, ov.o_z, ov.theta_deg
    label = value.get("label")
    if label is not None:
        geometry.label = _expect(label, str, f"{path}.label", "a string", 'write "label": "..."')


def _geometry_back(msg: Any, path: str, dropped: list[str]) -> Any:
    if not msg.HasField("geometry"):
        return _UNSET
    geometry = msg.geometry
    shape = geometry.WhichOneof("geometry_type")
    out: dict[str, Any]
    if shape == "box":
        dims = geometry.box.dims_mm
        out = {"type": "box", "x": number(dims.x), "y": number(dims.y), "z": number(dims.z)}
    elif shape == "sphere":
        out = {"type": "sphere", "r": number(geometry.sphere.radius_mm)}
    elif shape == "capsule":
        out = {"type": "capsule", "r": number(geometry.capsule.radius_mm), "l": number(geometry.capsule.length_mm)}
    else:  # meshes and point clouds have no JSON form in a machine config
        dropped.append(path)
        return _UNSET
    center = geometry.center
    if center.x or center.y or center.z:
        out["translation"] = {"x": number(center.x), "y": number(center.y), "z": number(center.z)}
    identity = (center.o_x, center.o_y, center.o_z, center.theta) in ((0, 0, 1, 0), (0, 0, 0, 0))
    if not identity:
        out["orientation"] = {"type": "ov_degrees", "value": {
            "x": number(center.o_x), "y": number(center.o_y), "z": number(center.o_z), "th": number(center.theta)}}
    if geometry.label:
        out["label"] = geometry.label
    return out


def _sensor_name_to(msg: Any, value: Any, path: str, dropped: list[str]) -> None:
    from viamlite.names import API

    _expect(value, str, path, "a resource name", 'write "sensor_name": "rdk:component:sensor/name"')
    api_text, slash, name = value.rpartition("/")
    try:
        api = API.parse(api_text) if slash else None
    except ValueError:
        api = None
    if api is None or not name:
        raise ConfigError(f"{value!r} is not a resource name", path=path,
                          fix='write it as "rdk:component:sensor/name"')
    target = msg.sensor_name
    target.namespace, target.type, target.subtype, target.name = api.namespace, api.type, api.subtype, name


def _sensor_name_back(msg: Any, path: str, dropped: list[str]) -> Any:
    if not msg.HasField("sensor_name"):
        return _UNSET
    name = msg.sensor_name
    if name.remote_path:
        dropped.append(f"{path}.remote_path")
    return f"{name.namespace}:{name.type}:{name.subtype}/{name.name}"


# --------------------------------------------------------------------------- the tables

_LOG_CONFIGURATION = _obj(_f("level"), example='{"level": "debug"}')
_SERVICE_CONFIG = _obj(_f("type"), _f("attributes", "struct"),
                       example='{"type": "data_manager", "attributes": {"capture_methods": []}}')
_TRANSLATION = _obj(*(_f(k, "float") for k in ("x", "y", "z")), example='{"x": 0, "y": 0, "z": 0}')
_FRAME = _obj(
    _f("parent"), _f("translation", "msg", _TRANSLATION),
    _Field("orientation", "custom", to=_orientation_to, back=_orientation_back),
    _Field("geometry", "custom", to=_geometry_to, back=_geometry_back),
    example='{"parent": "world", "translation": {"x": 0, "y": 0, "z": 0}}')


def _resource_fields(frame: bool) -> tuple[_Field, ...]:
    return (
        _f("name"), _f("namespace"), _f("type"), _f("model"), _f("api"),
        *((_f("frame", "msg", _FRAME),) if frame else ()),
        _f("depends_on", "strs"), _f("service_configs", "msgs", _SERVICE_CONFIG),
        _f("attributes", "struct"), _f("log_configuration", "msg", _LOG_CONFIGURATION),
    )


_COMPONENT = _obj(*_resource_fields(frame=True),
                  example='{"name": "servo1", "api": "rdk:component:servo", "model": "rdk:builtin:fake"}')
_SERVICE = _obj(*_resource_fields(frame=False),
                example='{"name": "svc1", "api": "rdk:service:generic", "model": "rdk:builtin:builtin"}')
_CREDENTIALS_SPEC = _obj(_Field("type", "custom", to=_credentials_to, back=_credentials_back), _f("payload"),
                         example='{"type": "api-key", "payload": "KEY"}')
_REMOTE = _obj(
    _f("name"), _f("address"), _f("frame", "msg", _FRAME),
    _f("auth", "msg", _obj(_f("credentials", "msg", _CREDENTIALS_SPEC), _f("entity"),
                           example='{"entity": "KEY-ID", "credentials": {"type": "api-key", "payload": "KEY"}}')),
    _f("managed_by"), _f("insecure", "bool"), _f("connection_check_interval", "duration"),
    _f("reconnect_interval", "duration"), _f("service_configs", "msgs", _SERVICE_CONFIG), _f("secret"), _f("prefix"),
    example='{"name": "arm-part", "address": "arm.local:8080"}')
_STATUS = _obj(_f("error"), example='{"error": "..."}')
_MODULE = _obj(
    _f("name"), _f("executable_path", field="path"), _f("log_level"), _f("type"), _f("module_id"),
    _f("env", "env"), _f("status", "msg", _STATUS), _f("first_run_timeout", "duration"), _f("tcp_mode", "bool"),
    example='{"type": "local", "name": "my-mod", "executable_path": "/abs/run.sh"}')
_PROCESS = _obj(
    _f("id"), _f("name"), _f("args", "strs"), _f("cwd"), _f("one_shot", "bool"), _f("log", "bool"),
    _f("stop_signal", "int"), _f("stop_timeout", "duration"), _f("env", "env"), _f("username"),
    example='{"id": "p1", "name": "/usr/bin/true", "args": []}')
_PACKAGE = _obj(_f("name"), _f("package"), _f("version"), _f("type"), _f("status", "msg", _STATUS),
                example='{"name": "my-model", "package": "org/my-model", "version": "latest", "type": "ml_model"}')
_NETWORK = _obj(
    _f("fqdn"), _f("bind_address"), _f("tls_cert_file"), _f("tls_key_file"),
    _f("sessions", "msg", _obj(_f("heartbeat_window", "duration"), example='{"heartbeat_window": "2s"}')),
    _f("traffic_tunnel_endpoints", "msgs", _obj(_f("port", "int"), _f("connection_timeout", "duration"),
                                                example='{"port": 8080, "connection_timeout": "10s"}')),
    _f("no_tls", "bool"),
    example='{"bind_address": "localhost:8080"}')
_AUTH = _obj(
    _f("handlers", "msgs", _obj(_Field("type", "custom", to=_credentials_to, back=_credentials_back),
                                _f("config", "struct"),
                                example='{"type": "api-key", "config": {"keys": ["KEY-ID"], "KEY-ID": "KEY"}}')),
    _f("tls_auth_entities", "strs"),
    _f("external_auth_config", "msg", _obj(_f("jwks", "msg", _obj(_f("json", "struct"), example='{"json": {...}}')),
                                           example='{"jwks": {"json": {"keys": []}}}')),
    _f("user_permissions", "msgs", _obj(
        _f("user", "msg", _obj(_f("type"), _f("id"), example='{"type": "...", "id": "..."}')),
        _f("permissions", "msgs", _obj(_f("resources", "strs"), _f("allowed_methods", "strs"),
                                       example='{"resources": ["*"], "allowed_methods": ["*"]}')),
        example='{"user": {...}, "permissions": [...]}')),
    example='{"handlers": [{"type": "api-key", "config": {"keys": ["KEY-ID"], "KEY-ID": "KEY"}}]}')
_CLOUD = _obj(
    _f("id"), _f("fqdn"), _f("local_fqdn"), _f("managed_by"), _f("signaling_address"),
    _f("signaling_insecure", "bool"), _f("location_secret"), _f("secret"),
    _f("location_secrets", "msgs", _obj(_f("id"), _f("secret"), example='{"id": "...", "secret": "..."}')),
    _f("primary_org_id"), _f("location_id"), _f("machine_id"),
    example='{"id": "PART-ID", "secret": "SECRET", "app_address": "https://HOST:PORT"}')
_MAINTENANCE = _obj(_Field("sensor_name", "custom", to=_sensor_name_to, back=_sensor_name_back),
                    _f("maintenance_allowed_key"),
                    example='{"sensor_name": "rdk:component:sensor/s1", "maintenance_allowed_key": "ok"}')
_JOB = _obj(_f("name"), _f("schedule"), _f("resource"), _f("method"), _f("command", "struct"),
            _f("log_configuration", "msg", _LOG_CONFIGURATION),
            example='{"name": "j1", "schedule": "5s", "resource": "sensor1", "method": "GetReadings"}')
_ROBOT = _obj(
    _f("cloud", "msg", _CLOUD), _f("remotes", "msgs", _REMOTE), _f("components", "msgs", _COMPONENT),
    _f("processes", "msgs", _PROCESS), _f("services", "msgs", _SERVICE), _f("network", "msg", _NETWORK),
    _f("auth", "msg", _AUTH), _f("debug", "bool"), _f("modules", "msgs", _MODULE),
    _f("disable_partial_start", "bool"), _f("packages", "msgs", _PACKAGE),
    _f("overwrite_fragment_status", "msgs", _STATUS), _f("enable_web_profile", "bool"),
    _f("log", "msgs", _obj(_f("pattern"), _f("level"), example='{"pattern": "rdk.*", "level": "debug"}')),
    _f("revision"), _f("maintenance", "msg", _MAINTENANCE), _f("disable_log_deduplication", "bool"),
    _f("jobs", "msgs", _JOB),
    _f("tracing", "msg", _obj(_f("enabled", "bool"), _f("disk", "bool"), _f("console", "bool"), _f("otlp_endpoint"),
                              example='{"enabled": true}')),
    example='{"components": [...], "services": [...], "remotes": [...], "modules": [...]}')


# --------------------------------------------------------------------------- API of resources

def _complete_api(msg: Any, kind: str, path: str) -> None:
    """Fill ``api`` from ``namespace``/``type`` when only those were given, as viam-server
    does (it reads only ``api`` from the proto)."""
    if msg.api:
        return
    if not msg.type:
        raise ConfigError(f"{kind} {msg.name!r} names no API", path=f"{path}.api",
                          fix=f'set "api" (such as "rdk:{kind}:servo") or "type"')
    msg.api = f"{msg.namespace or 'rdk'}:{kind}:{msg.type}"


def _complete_apis(msg: Any) -> None:
    for key, kind, items in (("components", "component", msg.components), ("services", "service", msg.services)):
        for i, item in enumerate(items):
            _complete_api(item, kind, f"{key}[{i}]")


# --------------------------------------------------------------------------- public API

def _report(dropped: list[str], into: list[str] | None, what: str) -> None:
    if into is not None:
        into.extend(dropped)
    elif dropped:
        log.warning("%s: the app API's config cannot carry %s; left out", what, ", ".join(dropped))


def config_to_proto(config: Mapping[str, Any], *, dropped: list[str] | None = None) -> Any:
    """The ``viam.app.v1.RobotConfig`` of a machine config (viam-server's JSON, decoded).

    Keys the proto cannot carry are appended to ``dropped`` as JSON paths (or logged when
    ``dropped`` is None); a value of the wrong shape raises a ConfigError naming its path."""
    left_out: list[str] = []
    msg = _fill(RobotConfig(), config, _ROBOT, "", left_out)
    _complete_apis(msg)
    _report(left_out, dropped, "machine config")
    return msg


def proto_to_config(proto: Any, *, dropped: list[str] | None = None) -> dict[str, Any]:
    """The machine config (viam-server's JSON, as a dict) of a ``viam.app.v1.RobotConfig``.

    Fields with no JSON form (a mesh geometry, internal credentials) are reported as in
    :func:`config_to_proto`."""
    left_out: list[str] = []
    out = _read(proto, _ROBOT, "", left_out)
    _report(left_out, dropped, "machine config from the app")
    return out


def component_to_proto(component: Mapping[str, Any], *, path: str = "component",
                       dropped: list[str] | None = None) -> Any:
    """One ``components`` entry as a ``viam.app.v1.ComponentConfig`` (``api`` always set)."""
    left_out: list[str] = []
    msg = _fill(ComponentConfig(), component, _COMPONENT, path, left_out)
    _complete_api(msg, "component", path)
    _report(left_out, dropped, path)
    return msg


def component_from_proto(proto: Any, *, dropped: list[str] | None = None) -> dict[str, Any]:
    """The ``components`` entry of a ``viam.app.v1.ComponentConfig``."""
    left_out: list[str] = []
    out = _read(proto, _COMPONENT, "component", left_out)
    _report(left_out, dropped, "component")
    return out


def service_to_proto(service: Mapping[str, Any], *, path: str = "service",
                     dropped: list[str] | None = None) -> Any:
    """One ``services`` entry as a ``viam.app.v1.ServiceConfig`` (``api`` always set)."""
    left_out: list[str] = []
    msg = _fill(ServiceConfig(), service, _SERVICE, path, left_out)
    _complete_api(msg, "service", path)
    _report(left_out, dropped, path)
    return msg


def service_from_proto(proto: Any, *, dropped: list[str] | None = None) -> dict[str, Any]:
    """The ``services`` entry of a ``viam.app.v1.ServiceConfig``."""
    left_out: list[str] = []
    out = _read(proto, _SERVICE, "service", left_out)
    _report(left_out, dropped, "service")
    return out


__all__ = ["component_from_proto", "component_to_proto", "config_to_proto", "proto_to_config",
           "service_from_proto", "service_to_proto"]
