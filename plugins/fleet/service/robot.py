"""``viam.app.v1.RobotService``: what a member machine asks its fleet (config, logs, restarts).

A part calls with its own secret (``robot-secret``) or with an API key that reaches it.
Every call records the part's access and, from the ``viamlite-part-address`` header, the
address it serves on (its ``fqdn``).
"""
from __future__ import annotations

import threading
import time
from typing import Any

from viamlite.errors import InvalidArgumentError, PermissionDeniedError, ResourceNotFoundError
from viamlite.gen.app import robot_pb2
from viamlite.rpc import Call, Code, Lane, Method, RpcError
from viamlite_plugins.fleet.access import Principal, Scope
from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.notify import LogBus
from viamlite_plugins.fleet.service import header, id_field, rpc
from viamlite_plugins.fleet.service.logs import record_of
from viamlite_plugins.fleet.store import keys, robots
from viamlite_plugins.fleet.tokens import Tokens
from viamlite_plugins.fleet.writer import LogWriter

SERVICE = "viam.app.v1.RobotService"
ADDRESS_HEADER = "viamlite-part-address"
#: A Log call may name its batch; a batch sent again under the same id is stored once.
BATCH_HEADER = "viamlite-log-batch"
MAX_LOGS_PER_CALL = 100
RESTART_CHECK_S = 5
#: A part's access is written at most this often (seconds); presence needs no finer grain.
TOUCH_EVERY = 10.0
#: How long a part's place (machine, location, organization) is trusted before it is read
#: again (a part moved or deleted is seen within this many seconds).
PLACE_TTL = 30.0


def _address(call: Call) -> str | None:
    value = header(call, ADDRESS_HEADER)
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 300 or any(c.isspace() for c in value):
        raise InvalidArgumentError(f"the {ADDRESS_HEADER} header {value[:60]!r} is not a HOST:PORT address")
    return value


def _batch_id(call: Call) -> str | None:
    value = header(call, BATCH_HEADER)
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > 64:
        raise InvalidArgumentError(f"the {BATCH_HEADER} header must be 1 to 64 characters (a unique id per batch)")
    return value


class RobotApi:
    def __init__(self, db: Database, tokens: Tokens, bus: LogBus, writer: LogWriter) -> None:
        self.db = db
        self.tokens = tokens
        self.bus = bus
        self.writer = writer
        self._lock = threading.Lock()
        self._places: dict[str, tuple[float, Scope]] = {}
        self._touched: dict[str, tuple[float, str | None, str | None]] = {}
        self._configs: dict[str, tuple[tuple, Any]] = {}  # part id -> (what it was made from, the answer)

    def _who(self, call: Call, part_id: str) -> tuple[Principal, str]:
        who = self.tokens.principal(header(call, "authorization"))
        part_id = id_field(part_id, "id")
        if who.is_part and who.id != part_id:
            raise PermissionDeniedError("a part's secret may only make its own part's calls: the id is another part's")
        return who, part_id

    def _place(self, who: Principal, part_id: str) -> Scope:
        """Where the part sits (cached for :data:`PLACE_TTL`); NOT_FOUND outside ``who``'s scope."""
        now = time.monotonic()
        with self._lock:
            cached = self._places.get(part_id)
        if cached is None or now - cached[0] >= PLACE_TTL:
            with self.db.read() as conn:
                place = robots.place_of(conn, part_id)
            if place is None:
                raise ResourceNotFoundError(f"no machine part with id {part_id!r}")
            cached = (now, Scope(*place))
            with self._lock:
                if len(self._places) > 100_000:
                    self._places.clear()
                self._places[part_id] = cached
        scope = cached[1]
        if not who.is_part and not who.sees(scope):
            raise ResourceNotFoundError(f"no machine part with id {part_id!r}")
        return scope

    def _touch(self, part_id: str, address: str | None, agent: dict[str, Any] | None = None) -> None:
        """Record the part's access: at most every :data:`TOUCH_EVERY` seconds, in the
        writer's next transaction; a new address or agent info is waited for, so the next
        read sees it."""
        now = time.monotonic()
        agent_key = repr(sorted(agent.items())) if agent is not None else None
        with self._lock:
            last = self._touched.get(part_id)
        changed = last is None or address not in (None, last[1]) or agent_key not in (None, last[2])
        if not changed and now - last[0] < TOUCH_EVERY:  # type: ignore[index]
            return
        with self._lock:
            if len(self._touched) > 100_000:
                self._touched.clear()
            previous = last or (0.0, None, None)
            self._touched[part_id] = (now, address if address is not None else previous[1],
                                      agent_key if agent_key is not None else previous[2])
        self.writer.touch(part_id, address=address, agent_info=agent if changed else None, wait=changed)

    def config(self, request: Any, call: Call) -> Any:
        from google.protobuf import json_format

        address = _address(call)
        agent = json_format.MessageToDict(request.agent_info) if request.HasField("agent_info") else None
        who, part_id = self._who(call, request.id)
        scope = self._place(who, part_id)
        self._touch(part_id, address, agent)
        with self.db.read() as conn:
            try:
                part = robots.get_part(conn, part_id)
            except ResourceNotFoundError:
                raise ResourceNotFoundError(f"no machine part with id {part_id!r}") from None
            version = (part.updated_us, part.fqdn, part.local_fqdn, part.secret, scope, keys.keys_version(conn))
            with self._lock:
                cached = self._configs.get(part_id)
            if cached is not None and cached[0] == version:
                return cached[1]
            granted = keys.keys_on(conn, [("organization", scope.organization_id), ("location", scope.location_id),
                                          ("robot", scope.robot_id)])
            grants = keys.grants_of(conn, [k.id for k in granted])
        response = robot_pb2.ConfigResponse(config=self._config_of(part, scope, granted, grants))
        with self._lock:
            if len(self._configs) > 100_000:
                self._configs.clear()
            self._configs[part_id] = (version, response)
        return response

    @staticmethod
    def _config_of(part: Any, scope: Scope, granted: list, grants: dict) -> Any:
        from viamlite.app.robotconfig import config_to_proto

        try:
            config = config_to_proto(robots.config_of(part))
        except (ValueError, TypeError) as exc:
            raise RpcError(Code.FAILED_PRECONDITION, f"the part's stored config cannot be sent: {exc}; fix it with "
                                                     f"UpdateRobotPart") from None
        cloud = config.cloud
        cloud.id = part.id
        cloud.fqdn = part.fqdn
        cloud.local_fqdn = part.local_fqdn
        cloud.secret = part.secret
        cloud.location_id = scope.location_id
        cloud.primary_org_id = scope.organization_id
        cloud.machine_id = scope.robot_id
        # Keys reaching this machine, as hashes: the machine verifies them without holding them.
        usable = [k for k in granted if any(g.organization_id == scope.organization_id for g in grants[k.id])]
        if usable:
            handler = config.auth.handlers.add(type=robot_pb2.CredentialsType.CREDENTIALS_TYPE_API_KEY)
            handler.config.update({"keys": [k.id for k in usable], "key_hashes": {k.id: k.key_hash for k in usable}})
        return config

    def log(self, request: Any, call: Call) -> Any:
        if len(request.logs) > MAX_LOGS_PER_CALL:
            raise InvalidArgumentError(f"logs has {len(request.logs)} entries; send at most {MAX_LOGS_PER_CALL} per call")
        records = [record_of(entry, i) for i, entry in enumerate(request.logs)]
        who, part_id = self._who(call, request.id)
        self._place(who, part_id)
        self._touch(part_id, _address(call))
        if records:
            self.writer.store(part_id, records, _batch_id(call))
        return robot_pb2.LogResponse()

    def needs_restart(self, request: Any, call: Call) -> Any:
        who, part_id = self._who(call, request.id)
        self._place(who, part_id)
        self._touch(part_id, _address(call))
        with self.db.read() as conn:
            marked = robots.get_part(conn, part_id).needs_restart
        must = False
        if marked:
            with self.db.write() as conn:
                must = robots.take_restart(conn, part_id)
        response = robot_pb2.NeedsRestartResponse(id=part_id, must_restart=must)
        response.restart_check_interval.FromSeconds(RESTART_CHECK_S)
        return response

    def certificate(self, request: Any, call: Call) -> Any:
        who, part_id = self._who(call, request.id)
        self._place(who, part_id)
        raise RpcError(Code.UNIMPLEMENTED, "this fleet issues no TLS certificates: the machine keeps its own "
                                           "(network.tls_cert_file, or its self-signed one)")

    def methods(self) -> list[Method]:
        table = {"Config": self.config, "Log": self.log, "NeedsRestart": self.needs_restart,
                 "Certificate": self.certificate}
        service = robot_pb2.DESCRIPTOR.services_by_name["RobotService"]
        out = []
        for name, handler in table.items():
            m = service.methods_by_name[name]
            out.append(Method(f"/{SERVICE}/{name}", getattr(robot_pb2, m.input_type.name),
                              getattr(robot_pb2, m.output_type.name), rpc(handler), lane=Lane.QUICK))
        return out
