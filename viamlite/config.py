"""The machine config: viam-server's JSON format, parsed and validated.

Every error is a :class:`~viamlite.errors.ConfigError` naming the JSON path of the field,
what was wrong and the fix. Keys viamlite does not use (``packages``,
``agent``, ...) are kept in ``MachineConfig.raw`` and otherwise ignored, so a config written
for viam-server loads unchanged.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from viamlite import address as _address
from viamlite.errors import ConfigError
from viamlite.names import API, Model, ResourceName

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.auth import KeyHash

DEFAULT_BIND = "localhost:8080"
DEFAULT_HEARTBEAT_WINDOW = 2.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: Any, path: str) -> float:
    """Parse a Go-style duration (``"1.5s"``, ``"100ms"``, ``"1m30s"``) into seconds."""
    if not isinstance(text, str) or not text:
        raise ConfigError(f"expected a duration string, got {text!r}", path=path,
                          fix='write a duration such as "2s", "500ms" or "1m30s"')
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or text == "0":
        if text == "0":
            return 0.0
        raise ConfigError(f"{text!r} is not a duration", path=path,
                          fix='write a number with a unit (ns, us, ms, s, m, h), such as "2s" or "1m30s"')
    return total


def _expect(value: Any, kind: type | tuple[type, ...], path: str, what: str, fix: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"expected {what}, got a boolean", path=path, fix=fix)
    if not isinstance(value, kind):
        shown = json.dumps(value) if not isinstance(value, (dict, list)) else type(value).__name__
        raise ConfigError(f"expected {what}, got {shown}", path=path, fix=fix)
    return value


def _number(obj: Mapping[str, Any], key: str, path: str, default: float = 0.0) -> float:
    value = obj.get(key, default)
    return float(_expect(value, (int, float), f"{path}.{key}", "a number", f"set {key} to a number"))


@dataclass(frozen=True)
class FrameConfig:
    """A resource's ``frame`` block: where it sits relative to its parent frame."""

    parent: str = "world"
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    orientation: Mapping[str, Any] | None = None
    geometry: Mapping[str, Any] | None = None

    def pose(self) -> Any:
        """The :class:`~viamlite.spatial.Pose` this block places its frame at, relative to its parent."""
        from viamlite.spatial import Pose, Vector3, parse_orientation

        return Pose(Vector3(*self.translation), parse_orientation(self.orientation))

    @classmethod
    def parse(cls, obj: Any, path: str) -> "FrameConfig":
        _expect(obj, dict, path, "an object", 'write "frame": {"parent": "world", "translation": {"x": 0, "y": 0, "z": 0}}')
        parent = obj.get("parent", "world")
        _expect(parent, str, f"{path}.parent", "a frame name", 'set "parent" to "world" or another frame\'s name')
        tr = obj.get("translation", {}) or {}
        _expect(tr, dict, f"{path}.translation", "an object", 'write "translation": {"x": 0, "y": 0, "z": 0} (millimetres)')
        translation = tuple(_number(tr, k, f"{path}.translation") for k in ("x", "y", "z"))
        orientation = obj.get("orientation")
        _check_orientation(orientation, f"{path}.orientation")
        geometry = obj.get("geometry")
        if geometry is not None:
            _check_geometry(geometry, f"{path}.geometry")
        return cls(parent or "world", translation, orientation, geometry)  # type: ignore[arg-type]


def _check_geometry(obj: Any, path: str) -> None:
    _expect(obj, dict, path, "an object", 'write {"type": "box", "x": 10, "y": 10, "z": 10}')
    kind = obj.get("type", "")
    needs = {"box": ("x", "y", "z"), "sphere": ("r",), "capsule": ("r", "l")}
    if kind not in needs:
        raise ConfigError(f"unknown geometry type {kind!r}", path=f"{path}.type",
                          fix="use one of: box (x, y, z), sphere (r), capsule (r, l), sizes in millimetres")
    for key in needs[kind]:
        _number(obj, key, path)
    tr = obj.get("translation") or {}
    _expect(tr, dict, f"{path}.translation", "an object", 'write "translation": {"x": 0, "y": 0, "z": 0} (millimetres)')
    for key in ("x", "y", "z"):
        _number(tr, key, f"{path}.translation")
    _check_orientation(obj.get("orientation"), f"{path}.orientation")


def _check_orientation(orientation: Any, path: str) -> None:
    if orientation is None:
        return
    from viamlite import spatial

    try:
        spatial.parse_orientation(orientation)
    except ValueError as exc:
        raise ConfigError(str(exc), path=path,
                          fix='write {"type": "ov_degrees", "value": {"x": 0, "y": 0, "z": 1, "th": 0}}') from None


@dataclass(frozen=True)
class ResourceConfig:
    """One entry of ``components`` or ``services``."""

    name: str
    api: API
    model: Model
    attributes: Mapping[str, Any]
    depends_on: tuple[str, ...]
    frame: FrameConfig | None
    path: str  # JSON path, for error messages
    raw: Mapping[str, Any] = field(compare=False, repr=False, default_factory=dict)

    @property
    def resource_name(self) -> ResourceName:
        return ResourceName(self.api, self.name)

    def error(self, problem: str, *, attribute: str = "", fix: str = "") -> ConfigError:
        """A ConfigError pointing at this resource (or one of its attributes)."""
        path = f"{self.path}.attributes.{attribute}" if attribute else self.path
        return ConfigError(problem, path=path, fix=fix)

    def same_build(self, other: "ResourceConfig") -> bool:
        """True when nothing that the resource sees changed."""
        return (self.api, self.model, self.attributes, self.depends_on, self.frame) == (
            other.api, other.model, other.attributes, other.depends_on, other.frame)

    @classmethod
    def parse(cls, obj: Any, path: str, kind: str) -> "ResourceConfig":
        example = ('{"name": "servo1", "api": "rdk:component:servo", "model": "rdk:builtin:fake"}'
                   if kind == "component" else '{"name": "svc1", "api": "rdk:service:generic", "model": "fake"}')
        _expect(obj, dict, path, f"a {kind} object", f"write each {kind} as {example}")
        name = obj.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{kind} has no name", path=f"{path}.name", fix=f"give it a name, as in {example}")
        if not _NAME.match(name):
            raise ConfigError(f"name {name!r} has characters that are not allowed", path=f"{path}.name",
                              fix="use letters, digits, '-' and '_', starting with a letter or digit")
        api = cls._parse_api(obj, path, kind, example)
        model_text = obj.get("model")
        if model_text is None and kind == "service":
            model_text = "rdk:builtin:builtin"  # as viam-server: a service's model defaults to builtin
        if not isinstance(model_text, str) or not model_text:
            raise ConfigError(f"{kind} {name!r} has no model", path=f"{path}.model",
                              fix='set "model", such as "rdk:builtin:fake" or its short form "fake"')
        try:
            model = Model.parse(model_text)
        except ValueError as exc:
            raise ConfigError(str(exc), path=f"{path}.model", fix='write a triplet such as "rdk:builtin:fake"') from None
        attributes = obj.get("attributes")
        attributes = {} if attributes is None else attributes
        _expect(attributes, dict, f"{path}.attributes", "an object", 'write "attributes": {} or an object of settings')
        depends_on = obj.get("depends_on")
        depends_on = [] if depends_on is None else depends_on
        _expect(depends_on, list, f"{path}.depends_on", "a list of resource names", 'write "depends_on": ["motor1"]')
        for i, dep in enumerate(depends_on):
            _expect(dep, str, f"{path}.depends_on[{i}]", "a resource name", "list resource names as strings")
        frame = FrameConfig.parse(obj["frame"], f"{path}.frame") if obj.get("frame") is not None else None
        return cls(name, api, model, _freeze(attributes), tuple(depends_on), frame, path, obj)

    @staticmethod
    def _parse_api(obj: Mapping[str, Any], path: str, kind: str, example: str) -> API:
        if obj.get("api"):
            _expect(obj["api"], str, f"{path}.api", "an API triplet", 'write "api": "rdk:component:servo"')
            try:
                api = API.parse(obj["api"])
            except ValueError as exc:
                raise ConfigError(str(exc), path=f"{path}.api", fix=f"write the API as in {example}") from None
        elif obj.get("type"):
            _expect(obj["type"], str, f"{path}.type", "an API subtype", 'write "type": "servo"')
            namespace = obj.get("namespace") or "rdk"
            api = API(namespace, kind, obj["type"])
        else:
            raise ConfigError(f"{kind} {obj.get('name')!r} names no API", path=f"{path}.api",
                              fix=f'set "api" (as in {example}) or "type" (such as "servo")')
        if api.type != kind:
            raise ConfigError(f"API {api} is not a {kind} API", path=f"{path}.api",
                              fix=f"list it under \"{api.type}s\" or use a rdk:{kind}:... API")
        return api


class _FrozenDict(dict):  # type: ignore[type-arg]
    """A dict that can be compared and shared between threads without copies."""

    def __hash__(self) -> int:  # pragma: no cover - not used as a key
        return hash(json.dumps(self, sort_keys=True, default=str))

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("config attributes are read-only")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _readonly  # type: ignore[assignment]


def _freeze(obj: Any) -> Any:
    if isinstance(obj, dict):
        return _FrozenDict({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return tuple(_freeze(v) for v in obj)
    return obj


DEFAULT_CONNECTION_CHECK_INTERVAL = 10.0
DEFAULT_RECONNECT_INTERVAL = 1.0
_PREFIX = re.compile(r"^[A-Za-z0-9_\-.:]*$")


@dataclass(frozen=True)
class RemoteConfig:
    """One entry of ``remotes``: another machine whose resources this one shows.

    ``prefix`` is prepended to every name from the remote, with no separator;
    ``auth_entity``/``auth_payload`` are the API key's ID and key (sent only to this
    remote); ``frame`` places the remote's world frame (``<name>_world``) in ours.
    """

    name: str
    address: str
    prefix: str = ""
    insecure: bool = False
    auth_entity: str = ""
    auth_type: str = ""
    auth_payload: str = field(default="", repr=False)
    frame: FrameConfig | None = None
    connection_check_interval: float = DEFAULT_CONNECTION_CHECK_INTERVAL
    reconnect_interval: float = DEFAULT_RECONNECT_INTERVAL
    path: str = field(default="", compare=False)

    @property
    def world_frame(self) -> str:
        """The name of the remote's world frame in this machine's frame system."""
        return f"{self.name}_world"

    @classmethod
    def parse(cls, obj: Any, path: str) -> "RemoteConfig":
        example = '{"name": "arm-part", "address": "arm.local:8080"}'
        _expect(obj, dict, path, "a remote object", f"write each remote as {example}")
        name = obj.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(f"remote name {name!r} is missing or not allowed", path=f"{path}.name",
                              fix="use letters, digits, '-' and '_', starting with a letter or digit")
        address = obj.get("address")
        if not isinstance(address, str) or not address.strip():
            raise ConfigError(f"remote {name!r} has no address", path=f"{path}.address",
                              fix='set "address" to "host:port" of the other machine')
        _check_remote_address(address.strip(), f"{path}.address")
        prefix = obj.get("prefix", "") or ""
        _expect(prefix, str, f"{path}.prefix", "a string", 'write "prefix": "arm-"')
        if not _PREFIX.match(prefix):
            raise ConfigError(f"prefix {prefix!r} has characters that are not allowed", path=f"{path}.prefix",
                              fix="use letters, digits and '-', '_', '.', ':' (it is prepended to resource names as is)")
        insecure = obj.get("insecure", False)
        _expect(insecure, bool, f"{path}.insecure", "true or false", 'write "insecure": true or false')
        entity, kind, payload = _remote_auth(obj.get("auth"), f"{path}.auth")
        frame = FrameConfig.parse(obj["frame"], f"{path}.frame") if obj.get("frame") is not None else None
        intervals = []
        for key, default in (("connection_check_interval", DEFAULT_CONNECTION_CHECK_INTERVAL),
                             ("reconnect_interval", DEFAULT_RECONNECT_INTERVAL)):
            if obj.get(key) in (None, ""):
                intervals.append(default)
                continue
            seconds = parse_duration(obj[key], f"{path}.{key}")
            if not 0.01 <= seconds <= 3600:
                raise ConfigError(f"{key} {obj[key]!r} is out of range", path=f"{path}.{key}",
                                  fix='use a duration from "10ms" to "1h", such as "5s"')
            intervals.append(seconds)
        return cls(name=name, address=address.strip(), prefix=prefix, insecure=insecure, auth_entity=entity,
                   auth_type=kind, auth_payload=payload, frame=frame, connection_check_interval=intervals[0],
                   reconnect_interval=intervals[1], path=path)


def _check_remote_address(address: str, path: str) -> None:
    """A remote's address: ``host:port`` (a scheme in front is accepted) or a unix socket."""
    text = _address.strip_scheme(address)
    if text.startswith(("unix:", "/")):
        return
    try:
        _address.split_host_port(text, need_host=True, allow_zero=False)
    except _address.AddressError as exc:
        raise ConfigError(f"address {exc}", path=path,
                          fix='write it as "arm.local:8080", "192.168.1.20:8080" or "unix:/path/to/socket"') from None


def _remote_auth(auth: Any, path: str) -> tuple[str, str, str]:
    """(entity, credentials type, payload) of a remote's ``auth`` block."""
    example = '"auth": {"entity": "KEY-ID", "credentials": {"type": "api-key", "payload": "KEY"}}'
    if not auth:
        return "", "", ""
    _expect(auth, dict, path, "an object", f"write {example}")
    creds = auth.get("credentials") or {}
    _expect(creds, dict, f"{path}.credentials", "an object", 'write {"type": "api-key", "payload": "KEY"}')
    entity = auth.get("entity", "") or ""
    _expect(entity, str, f"{path}.entity", "the API key's ID", f"write {example}")
    if not creds:
        if entity:
            raise ConfigError("auth names an entity but has no credentials", path=f"{path}.credentials",
                              fix=f"write {example}")
        return "", "", ""
    kind = creds.get("type")
    if kind != "api-key":
        raise ConfigError(f"credentials type {kind!r} is not supported", path=f"{path}.credentials.type",
                          fix='use "api-key", with the key\'s ID as "entity" and the key as "payload"')
    payload = creds.get("payload")
    if not isinstance(payload, str) or not payload:
        raise ConfigError("the API key is missing", path=f"{path}.credentials.payload",
                          fix="set payload to the API key (its ID goes in auth.entity)")
    if not entity:
        raise ConfigError("the API key's ID is missing", path=f"{path}.entity",
                          fix='set "entity" to the API key ID that goes with the key')
    return entity, kind, payload


@dataclass(frozen=True)
class NetworkConfig:
    bind_address: str = DEFAULT_BIND
    tls_cert_file: str = ""
    tls_key_file: str = ""
    heartbeat_window: float = DEFAULT_HEARTBEAT_WINDOW

    @classmethod
    def parse(cls, obj: Any, path: str) -> "NetworkConfig":
        _expect(obj, dict, path, "an object", 'write "network": {"bind_address": "localhost:8080"}')
        bind = obj.get("bind_address") or DEFAULT_BIND
        _expect(bind, str, f"{path}.bind_address", '"host:port"', 'write "bind_address": "0.0.0.0:8080"')
        split_host_port(bind, f"{path}.bind_address")
        sessions = obj.get("sessions") or {}
        _expect(sessions, dict, f"{path}.sessions", "an object", 'write "sessions": {"heartbeat_window": "2s"}')
        window = DEFAULT_HEARTBEAT_WINDOW
        if sessions.get("heartbeat_window"):
            window = parse_duration(sessions["heartbeat_window"], f"{path}.sessions.heartbeat_window")
            if not 0.03 <= window <= 60:
                raise ConfigError(f"heartbeat_window {sessions['heartbeat_window']!r} is out of range",
                                  path=f"{path}.sessions.heartbeat_window", fix="use a duration from 30ms to 1m")
        cert, key = obj.get("tls_cert_file", "") or "", obj.get("tls_key_file", "") or ""
        if bool(cert) != bool(key):
            missing = "tls_key_file" if cert else "tls_cert_file"
            raise ConfigError("TLS needs both a certificate and a key", path=f"{path}.{missing}",
                              fix=f"set {missing} too, or remove both")
        return cls(bind, cert, key, window)


def read_tls_files(network: NetworkConfig, source: str = "") -> tuple[bytes, bytes] | None:
    """The (certificate, key) PEM bytes named by ``network``, or None when TLS is not configured."""
    if not network.tls_cert_file:
        return None
    out = []
    for key in ("tls_cert_file", "tls_key_file"):
        path = getattr(network, key)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {path!r}: {exc.strerror}", path=f"network.{key}", file=source,
                              fix="point it at a readable PEM file") from None
        if b"-----BEGIN" not in data:
            raise ConfigError(f"{path!r} is not a PEM file", path=f"network.{key}", file=source,
                              fix="give a PEM-encoded certificate chain and private key")
        out.append(data)
    return out[0], out[1]


def split_host_port(text: str, path: str = "bind") -> tuple[str, int]:
    """A bind address (``host:port``, ``[::1]:8080``, ``:8080`` for every interface), parsed by
    :func:`viamlite.address.split_host_port`; a :class:`ConfigError` naming ``path`` if malformed."""
    try:
        return _address.split_host_port(text, default_host="0.0.0.0")
    except _address.AddressError as exc:
        raise ConfigError(str(exc), path=path, fix='write it as "localhost:8080" or "0.0.0.0:8080"') from None


DEFAULT_REFRESH_INTERVAL = 10.0


@dataclass(frozen=True)
class CloudConfig:
    """viam-server's ``cloud`` block when it makes the machine a member of a fleet (a Viam
    app): the part's ``id``, its credentials (the part ``secret``, or an ``api_key`` with
    ``id`` and ``key``), the app's address (``http://HOST:PORT`` plaintext, ``https://`` TLS)
    and how often the config is fetched (``refresh_interval``, default 10 s).

    A block with ids only (``{"id": ..., "location_id": ...}``, what GetCloudMetadata
    reports) names no app and is not a membership: :func:`CloudConfig.parse` returns None.
    """

    id: str
    app_address: str
    secret: str = field(default="", repr=False)
    api_key_id: str = ""
    api_key: str = field(default="", repr=False)
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def tls(self) -> bool:
        """True for an ``https://`` app address."""
        return self.app_address.startswith("https://")

    @property
    def target(self) -> str:
        """``HOST:PORT`` of the app (port 443 for https and 8080 for http when none is given)."""
        rest = self.app_address.split("://", 1)[1].rstrip("/")
        host, sep, port = rest.rpartition(":")
        if not sep or not port.isdigit() or "]" in port:
            return f"{rest}:{443 if self.tls else 8080}"
        return rest

    @property
    def entity(self) -> tuple[str, str, str]:
        """(entity, credentials type, payload) to authenticate to the app with."""
        if self.api_key_id:
            return self.api_key_id, "api-key", self.api_key
        return self.id, "robot-secret", self.secret

    @classmethod
    def parse(cls, obj: Any, path: str = "cloud") -> "CloudConfig | None":
        example = '"cloud": {"id": "PART-ID", "secret": "SECRET", "app_address": "https://fleet.example:8443"}'
        if obj is None:
            return None
        _expect(obj, dict, path, "an object", f"write {example}")
        if not any(obj.get(k) not in (None, "") for k in ("app_address", "secret", "api_key")):
            return None
        part = obj.get("id")
        if not isinstance(part, str) or not part.strip():
            raise ConfigError("the part id is missing", path=f"{path}.id",
                              fix="set it to the part's id from the fleet (GetRobotParts, or the app's setup page)")
        secret, api_key = obj.get("secret"), obj.get("api_key")
        key_id = key = ""
        if api_key not in (None, ""):
            if secret not in (None, ""):
                raise ConfigError("both a secret and an api_key are given", path=f"{path}.api_key",
                                  fix="keep one: the part's secret, or an API key {\"id\", \"key\"}")
            _expect(api_key, dict, f"{path}.api_key", "an object", 'write "api_key": {"id": "KEY-ID", "key": "KEY"}')
            key_id, key = api_key.get("id"), api_key.get("key")
            for name, value in (("id", key_id), ("key", key)):
                if not isinstance(value, str) or not value:
                    raise ConfigError(f"the API key's {name} is missing", path=f"{path}.api_key.{name}",
                                      fix='write "api_key": {"id": "KEY-ID", "key": "KEY"}')
        elif not isinstance(secret, str) or not secret:
            raise ConfigError("no credentials for the fleet", path=f"{path}.secret",
                              fix='set "secret" to the part\'s secret, or "api_key": {"id": "KEY-ID", "key": "KEY"}')
        address = obj.get("app_address")
        if address in (None, ""):
            raise ConfigError("the fleet's address is missing", path=f"{path}.app_address",
                              fix='set "app_address": "https://HOST:PORT" (or "http://HOST:PORT" for plaintext); '
                                  'Viam\'s own app is "https://app.viam.com:443"')
        _expect(address, str, f"{path}.app_address", "a URL", 'write "app_address": "https://HOST:PORT"')
        address = address.strip()
        scheme, sep, rest = address.partition("://")
        if not sep or scheme not in ("http", "https"):
            raise ConfigError(f"app_address {address!r} does not start with http:// or https://",
                              path=f"{path}.app_address",
                              fix='write "https://HOST:PORT" (TLS) or "http://HOST:PORT" (plaintext)')
        rest = rest.rstrip("/")
        if not rest or "/" in rest:
            raise ConfigError(f"app_address {address!r} is not a scheme and HOST[:PORT] (no path)",
                              path=f"{path}.app_address", fix='write "https://HOST:PORT" with nothing after the port')
        config = cls(part.strip(), address, secret if isinstance(secret, str) else "", key_id, key, raw=obj)
        try:
            _address.split_host_port(config.target, need_host=True, allow_zero=False)
        except _address.AddressError as exc:
            raise ConfigError(f"app_address {address!r}: {exc}", path=f"{path}.app_address",
                              fix='write "https://HOST:PORT" (TLS) or "http://HOST:PORT" (plaintext)') from None
        interval = DEFAULT_REFRESH_INTERVAL
        if obj.get("refresh_interval") not in (None, ""):
            interval = parse_duration(obj["refresh_interval"], f"{path}.refresh_interval")
            if not 0.1 <= interval <= 86400:
                raise ConfigError(f"refresh_interval {obj['refresh_interval']!r} is out of range",
                                  path=f"{path}.refresh_interval", fix='use a duration from "100ms" to "24h" (default "10s")')
        return cls(config.id, address, config.secret, key_id, key, interval, obj)


_MODULE_NAME_MAX = 200
_MODULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]*:[A-Za-z0-9][A-Za-z0-9_\-.]*$")
_MODULE_LOG_LEVELS = ("", "debug", "info", "warn", "warning", "error")
DEFAULT_FIRST_RUN_TIMEOUT = 3600.0


@dataclass(frozen=True)
class ModuleConfig:
    """One entry of ``modules``: a Viam module, a child process speaking ``viam.module.v1``.

    ``type`` is ``"local"`` (``executable_path`` names the program; it must exist) or
    ``"registry"`` (``module_id`` ``"namespace:name"`` and ``version``, fetched from the
    fleet; ``executable_path`` is then where the package's entrypoint was unpacked, when known).
    """

    name: str
    type: str = "local"
    executable_path: str = ""
    module_id: str = ""
    version: str = ""
    env: Mapping[str, str] = field(default_factory=dict)
    log_level: str = ""
    tcp_mode: bool = False
    first_run_timeout: float = DEFAULT_FIRST_RUN_TIMEOUT
    path: str = field(default="", compare=False)

    @classmethod
    def parse(cls, obj: Any, path: str, base: Path | None = None) -> "ModuleConfig":
        example = '{"type": "local", "name": "my-module", "executable_path": "/opt/my-module/run"}'
        _expect(obj, dict, path, "a module object", f"write each module as {example}")
        name = obj.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError("module has no name", path=f"{path}.name", fix=f"give it a name, as in {example}")
        if not _NAME.match(name) or len(name) > _MODULE_NAME_MAX:
            raise ConfigError(f"module name {name!r} is not allowed", path=f"{path}.name",
                              fix=f"use up to {_MODULE_NAME_MAX} letters, digits, '-' and '_', starting with a "
                                  "letter or digit")
        if name == "parent":
            raise ConfigError('"parent" is reserved (it names the machine\'s own socket)', path=f"{path}.name",
                              fix="give the module another name")
        kind = obj.get("type")
        if kind in (None, ""):
            kind = "registry" if obj.get("module_id") else "local"
        if kind not in ("local", "registry"):
            raise ConfigError(f"module type {kind!r} is not known", path=f"{path}.type",
                              fix='use "local" (with executable_path) or "registry" (with module_id and version)')
        exe = obj.get("executable_path") or ""
        _expect(exe, str, f"{path}.executable_path", "a file path", 'write "executable_path": "/opt/my-module/run"')
        module_id = obj.get("module_id") or ""
        _expect(module_id, str, f"{path}.module_id", '"namespace:name"', 'write "module_id": "acme:my-module"')
        version = obj.get("version") or ""
        _expect(version, str, f"{path}.version", "a version string", 'write "version": "1.2.3" (or "latest")')
        if kind == "local":
            if not exe:
                raise ConfigError(f"local module {name!r} has no executable_path", path=f"{path}.executable_path",
                                  fix="set it to the module's program (a file that can be executed)")
            exe = str((base / exe) if base is not None and not Path(exe).is_absolute() else Path(exe))
            if not Path(exe).is_file():
                raise ConfigError(f"{exe!r} does not exist", path=f"{path}.executable_path",
                                  fix="point it at the module's program (relative paths start at the config file)")
            if not os.access(exe, os.X_OK):
                raise ConfigError(f"{exe!r} cannot be executed", path=f"{path}.executable_path",
                                  fix=f"make it executable (chmod +x {exe}) or point at the module's launcher")
        elif not _MODULE_ID.match(module_id):
            raise ConfigError(f"registry module {name!r} needs a module_id \"namespace:name\", got {module_id!r}",
                              path=f"{path}.module_id", fix='write "module_id": "acme:my-module"')
        env = obj.get("env") or {}
        _expect(env, dict, f"{path}.env", "an object of strings", 'write "env": {"NAME": "value"}')
        for key, value in env.items():
            _expect(value, str, f"{path}.env.{key}", "a string", f'write "{key}": "value" (numbers in quotes too)')
        log_level = obj.get("log_level") or ""
        _expect(log_level, str, f"{path}.log_level", "a log level", 'write "log_level": "debug"')
        if log_level.lower() not in _MODULE_LOG_LEVELS:
            raise ConfigError(f"log_level {log_level!r} is not known", path=f"{path}.log_level",
                              fix='use "debug", "info", "warn" or "error" (or leave it out)')
        tcp_mode = obj.get("tcp_mode", False)
        _expect(tcp_mode, bool, f"{path}.tcp_mode", "true or false", 'write "tcp_mode": true or false')
        timeout = DEFAULT_FIRST_RUN_TIMEOUT
        if obj.get("first_run_timeout") not in (None, ""):
            timeout = parse_duration(obj["first_run_timeout"], f"{path}.first_run_timeout")
        return cls(name=name, type=kind, executable_path=exe, module_id=module_id, version=version,
                   env=_freeze(dict(env)), log_level=log_level.lower(), tcp_mode=tcp_mode,
                   first_run_timeout=timeout, path=path)


@dataclass(frozen=True)
class MachineConfig:
    """A whole machine config. ``cloud`` is set when the ``cloud`` block makes the machine a
    fleet member (see :class:`CloudConfig`)."""

    components: tuple[ResourceConfig, ...] = ()
    services: tuple[ResourceConfig, ...] = ()
    remotes: tuple[RemoteConfig, ...] = ()
    network: NetworkConfig = NetworkConfig()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    source: str = ""
    auth: "AuthConfig | None" = None
    cloud: CloudConfig | None = None
    modules: tuple[ModuleConfig, ...] = ()

    @property
    def resources(self) -> tuple[ResourceConfig, ...]:
        return self.components + self.services


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    return _expect(value, list, key, "a list", f'write "{key}": [ ... ]')


def parse_config(obj: Any, *, source: str = "") -> MachineConfig:
    """Validate a config object (already decoded from JSON)."""
    try:
        _expect(obj, dict, "(top level)", "a JSON object", 'write the config as {"components": [...]}')
        components = tuple(ResourceConfig.parse(c, f"components[{i}]", "component")
                           for i, c in enumerate(_list(obj, "components")))
        services = tuple(ResourceConfig.parse(s, f"services[{i}]", "service")
                         for i, s in enumerate(_list(obj, "services")))
        remotes = tuple(RemoteConfig.parse(r, f"remotes[{i}]") for i, r in enumerate(_list(obj, "remotes")))
        network = NetworkConfig.parse(obj.get("network") or {}, "network")
        auth = AuthConfig.parse(obj.get("auth"))
        cloud = CloudConfig.parse(obj.get("cloud"))
        base = Path(source).resolve().parent if source and Path(source).is_file() else None
        modules = tuple(ModuleConfig.parse(m, f"modules[{i}]", base) for i, m in enumerate(_list(obj, "modules")))
        _check_names(components + services, remotes)
        _check_module_names(modules)
        return MachineConfig(components, services, remotes, network, obj, source, auth, cloud, modules)
    except ConfigError as exc:
        raise exc.in_file(source) if source and not exc.file else exc


def _check_module_names(modules: tuple[ModuleConfig, ...]) -> None:
    seen: dict[str, ModuleConfig] = {}
    for module in modules:
        if module.name in seen:
            raise ConfigError(f"module name {module.name!r} is already used by {seen[module.name].path}",
                              path=f"{module.path}.name", fix="give every module its own name")
        seen[module.name] = module


def _check_names(resources: tuple[ResourceConfig, ...], remotes: tuple[RemoteConfig, ...]) -> None:
    seen: dict[str, ResourceConfig] = {}
    for res in resources:
        if res.name in seen:
            raise ConfigError(f"name {res.name!r} is already used by {seen[res.name].path}", path=f"{res.path}.name",
                              fix="give every component and service its own name")
        seen[res.name] = res
    for res in resources:
        for i, dep in enumerate(res.depends_on):
            if dep not in seen:
                raise ConfigError(f"depends on {dep!r}, which is not in the config", path=f"{res.path}.depends_on[{i}]",
                                  fix=f"add a resource named {dep!r} or remove it from depends_on")
    _check_frames(resources)
    names: set[str] = set()
    for remote in remotes:
        if remote.name in names:
            raise ConfigError(f"remote name {remote.name!r} is used twice", path=f"{remote.path}.name",
                              fix="give every remote its own name")
        names.add(remote.name)
    frames = {"world", *(r.name for r in resources if r.frame is not None)}
    frames |= {r.world_frame for r in remotes if r.frame is not None}
    for remote in remotes:
        if remote.frame is None:
            continue
        if remote.frame.parent not in frames or remote.frame.parent == remote.world_frame:
            known = ", ".join(sorted(frames - {remote.world_frame}))
            raise ConfigError(f"frame parent {remote.frame.parent!r} is not a frame of this machine",
                              path=f"{remote.path}.frame.parent", fix=f"use one of: {known}")


#: How long an access token from AuthService/Authenticate is valid, unless ``auth.token_lifetime`` says.
DEFAULT_TOKEN_LIFETIME = 24 * 3600.0


@dataclass(frozen=True)
class AuthConfig:
    """``auth.handlers`` of type ``api-key``: key id → key, or key id →
    :class:`~viamlite.auth.KeyHash` for a key listed in the handler's ``key_hashes``
    (``{"KEY-ID": "sha256:<hex>"}``, how a fleet hands out its keys: the machine checks them
    without holding them in clear). ``token_lifetime`` is a viamlite-only setting (seconds
    an access token stays valid; viam-server ignores it)."""

    keys: "Mapping[str, str | KeyHash]" = field(default_factory=dict, repr=False)
    token_lifetime: float = DEFAULT_TOKEN_LIFETIME

    @classmethod
    def parse(cls, auth: Any) -> "AuthConfig | None":
        """None when the config asks for no authentication."""
        if not auth:
            return None
        example = '{"type": "api-key", "config": {"keys": ["KEY-ID"], "KEY-ID": "KEY"}}'
        _expect(auth, dict, "auth", "an object", f'write "auth": {{"handlers": [{example}]}}, or leave it out')
        handlers = auth.get("handlers") or []
        _expect(handlers, list, "auth.handlers", "a list", f'write "handlers": [{example}]')
        from viamlite.auth import KeyHash

        keys: dict[str, str | KeyHash] = {}
        for i, handler in enumerate(handlers):
            path = f"auth.handlers[{i}]"
            _expect(handler, dict, path, "an object", f"write {example}")
            kind = handler.get("type")
            if kind != "api-key":
                raise ConfigError(f"handler type {kind!r} is not supported", path=f"{path}.type",
                                  fix='use "api-key" (the only kind of handler viamlite serves)')
            conf = _expect(handler.get("config"), dict, f"{path}.config", "an object", f"write {example}")
            ids = _expect(conf.get("keys"), list, f"{path}.config.keys", "a list of key ids",
                          'list the key ids: "keys": ["KEY-ID"], and give each id its key: "KEY-ID": "KEY"')
            if not ids:
                raise ConfigError("lists no keys", path=f"{path}.config.keys",
                                  fix='add a key id: "keys": ["KEY-ID"], "KEY-ID": "KEY"')
            hashes = conf.get("key_hashes") or {}
            _expect(hashes, dict, f"{path}.config.key_hashes", "an object of key id -> hash",
                    'write "key_hashes": {"KEY-ID": "sha256:<64 hex digits of the key\'s SHA-256>"}')
            for j, key_id in enumerate(ids):
                if not isinstance(key_id, str) or not key_id:
                    raise ConfigError(f"key id {key_id!r} is not a non-empty string", path=f"{path}.config.keys[{j}]",
                                      fix="use the key's id as a string")
                key = conf.get(key_id)
                if key_id in hashes and key is None:
                    try:
                        keys[key_id] = KeyHash.parse(hashes[key_id])
                    except ValueError as exc:
                        raise ConfigError(f"key id {key_id!r} has a malformed hash: {exc}",
                                          path=f"{path}.config.key_hashes.{key_id}",
                                          fix='write "sha256:" followed by the 64 hex digits of the key\'s SHA-256') from None
                    continue
                if not isinstance(key, str) or not key:
                    raise ConfigError(f"key id {key_id!r} has no key", path=f"{path}.config.{key_id}",
                                      fix=f'add "{key_id}": "KEY" next to "keys" (or its hash in "key_hashes")')
                keys[key_id] = key
        if not keys:
            return None
        lifetime = DEFAULT_TOKEN_LIFETIME
        if auth.get("token_lifetime"):
            lifetime = parse_duration(auth["token_lifetime"], "auth.token_lifetime")
            if lifetime < 1:
                raise ConfigError(f"token_lifetime {auth['token_lifetime']!r} is too short", path="auth.token_lifetime",
                                  fix='use at least "1s" (the default is "24h")')
        return cls(keys, lifetime)


def _check_frames(resources: tuple[ResourceConfig, ...]) -> None:
    """Every frame's parent is ``world`` or another resource's frame, with no loops."""
    parents = {r.name: r for r in resources if r.frame is not None}
    for res in parents.values():
        seen = [res.name]
        parent = res.frame.parent  # type: ignore[union-attr]
        while parent != "world":
            if parent not in parents:
                known = ", ".join(["world", *sorted(parents)])
                raise ConfigError(f"frame parent {parent!r} is not a frame of this machine", path=f"{res.path}.frame.parent",
                                  fix=f"use one of: {known} (a resource has a frame when it has a frame block)")
            if parent in seen:
                loop = " -> ".join([*seen, parent])
                raise ConfigError(f"frames form a loop: {loop}", path=f"{res.path}.frame.parent",
                                  fix="make one of these frames a child of world")
            seen.append(parent)
            parent = parents[parent].frame.parent  # type: ignore[union-attr]


def load_config(path: str | Path) -> MachineConfig:
    """Read and validate a config file; errors name the file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=source, fix="check the path given to --config") from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=source, fix="check the file's permissions") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", file=source,
                          fix="correct the JSON syntax there") from None
    return parse_config(obj, source=source)
