"""``viam.app.v1.AppService``: organizations, locations, machines, parts, logs and keys."""
from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Iterator
from typing import Any

from viamlite.errors import InvalidArgumentError, PermissionDeniedError, ResourceNotFoundError
from viamlite.gen.app import app_pb2
from viamlite.rpc import Call, Lane, Method
from viamlite_plugins.fleet.access import Principal, Scope
from viamlite_plugins.fleet.db import Database
from viamlite_plugins.fleet.notify import LogBus
from viamlite_plugins.fleet.service import header, id_field, name_field, rpc, rpc_stream
from viamlite_plugins.fleet.service import views
from viamlite_plugins.fleet.service.logs import entry_of
from viamlite_plugins.fleet.store import keys, now_us, orgs, robots
from viamlite_plugins.fleet.store import logs as logstore
from viamlite_plugins.fleet.store.keys import ROLES, RESOURCE_TYPES, Grant
from viamlite_plugins.fleet.tokens import Tokens

SERVICE = "viam.app.v1.AppService"
MAX_PAGE = 1000
DEFAULT_PAGE = 100
MAX_CONFIG_BYTES = 1 << 20
LEVELS = ("debug", "info", "warn", "warning", "error", "fatal", "panic", "dpanic")


def _page_token(record: logstore.Record | None) -> str:
    if record is None:
        return ""
    return base64.urlsafe_b64encode(f"{record.time_us}:{record.id}".encode()).decode()


def _parse_token(token: str, field: str = "page_token") -> tuple[int, int] | None:
    if not token:
        return None
    try:
        t, _, i = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        return int(t), int(i)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidArgumentError(f"{field} {token[:40]!r} is not a token this fleet gave: pass back "
                                   f"next_page_token unchanged, or leave it empty for the first page") from None


def _time(msg: Any, field: str) -> int | None:
    return msg.ToMicroseconds() if msg.ByteSize() else None


class AppApi:
    def __init__(self, db: Database, tokens: Tokens, bus: LogBus) -> None:
        self.db = db
        self.tokens = tokens
        self.bus = bus

    # -- who is calling, and what they see -----------------------------------------

    def _principal(self, call: Call) -> Principal:
        principal = self.tokens.principal(header(call, "authorization"))
        if principal.is_part:
            raise PermissionDeniedError("a machine part's secret may only make its part's own machine calls "
                                        "(RobotService); use an API key for the app API")
        return principal

    def _org(self, conn: Any, who: Principal, org_id: str) -> Any:
        org_id = id_field(org_id, "organization_id")
        if not who.reaches_inside(org_id):
            raise ResourceNotFoundError(f"no organization with id {org_id!r}")
        return orgs.get_organization(conn, org_id)

    def _location(self, conn: Any, who: Principal, location_id: str, field: str = "location_id") -> tuple[Any, Scope]:
        location_id = id_field(location_id, field)
        try:
            row = orgs.get_location(conn, location_id)
        except ResourceNotFoundError:
            row = None
        if row is None:
            raise ResourceNotFoundError(f"no location with id {location_id!r}")
        scope = Scope(row.organization_id, row.id)
        if not (who.sees(scope) or self._granted_robots_in(conn, who, row)):
            raise ResourceNotFoundError(f"no location with id {location_id!r}")
        return row, scope

    def _granted_robots_in(self, conn: Any, who: Principal, location: Any) -> list[str]:
        granted = who.granted("robot", location.organization_id)
        return [r.id for r in robots.list_robots(conn, location.id) if r.id in granted] if granted else []

    def _robot(self, conn: Any, who: Principal, robot_id: str, field: str = "id") -> tuple[Any, Scope]:
        if not robot_id:
            raise ResourceNotFoundError(f"{field} is empty: no machine has an empty id")
        robot_id = id_field(robot_id, field)
        try:
            row = robots.get_robot(conn, robot_id)
            location = orgs.get_location(conn, row.location_id)
        except ResourceNotFoundError:
            row = None
        if row is None:
            raise ResourceNotFoundError(f"no machine with id {robot_id!r}")
        scope = Scope(location.organization_id, location.id, row.id)
        if not who.sees(scope):
            raise ResourceNotFoundError(f"no machine with id {robot_id!r}")
        return row, scope

    def _part(self, conn: Any, who: Principal, part_id: str, field: str = "id") -> tuple[Any, Scope]:
        part_id = id_field(part_id, field)
        try:
            row = robots.get_part(conn, part_id)
            _, scope = self._robot(conn, who, row.robot_id)
        except ResourceNotFoundError:
            raise ResourceNotFoundError(f"no machine part with id {part_id!r}") from None
        return row, scope

    def _robot_message(self, conn: Any, row: Any) -> Any:
        parts = robots.list_parts(conn, row.id)
        last = max((p.last_access_us for p in parts if p.last_access_us is not None), default=None)
        window = max((p.online_window_s for p in parts), default=30)
        return views.robot(row, last, window)

    def _part_message(self, who: Principal, row: Any, scope: Scope) -> Any:
        return views.part(row, scope.location_id, with_secret=who.owns(scope))

    # -- organizations and locations -----------------------------------------------

    def list_organizations(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            rows = orgs.list_organizations(conn, who.organizations())
        return app_pb2.ListOrganizationsResponse(organizations=[views.organization(r) for r in rows])

    def get_organization(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            return app_pb2.GetOrganizationResponse(organization=views.organization(
                self._org(conn, who, request.organization_id)))

    def _location_message(self, conn: Any, row: Any) -> Any:
        count = orgs.robot_counts(conn, [row.id]).get(row.id, 0)
        return views.location(row, count, orgs.get_organization(conn, row.organization_id))

    def list_locations(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            org = self._org(conn, who, request.organization_id)
            rows = orgs.list_locations(conn, org.id)
            if not who.sees(Scope(org.id)):
                granted = who.granted("location", org.id)
                rows = [r for r in rows if r.id in granted or self._granted_robots_in(conn, who, r)]
            counts = orgs.robot_counts(conn, [r.id for r in rows])
            return app_pb2.ListLocationsResponse(locations=[views.location(r, counts.get(r.id, 0), org) for r in rows])

    def get_location(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            row, _ = self._location(conn, who, request.location_id)
            return app_pb2.GetLocationResponse(location=self._location_message(conn, row))

    def create_location(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        name = name_field(request.name, "name")
        with self.db.write() as conn:
            org = self._org(conn, who, request.organization_id)
            who.require_owner(Scope(org.id), "CreateLocation")
            parent = ""
            if request.parent_location_id:
                parent_row, _ = self._location(conn, who, request.parent_location_id, "parent_location_id")
                parent = parent_row.id
            location_id = orgs.create_location(conn, org.id, name, parent)
            return app_pb2.CreateLocationResponse(location=self._location_message(conn, orgs.get_location(conn, location_id)))

    def delete_location(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.write() as conn:
            row, _ = self._location(conn, who, request.location_id)
            who.require_owner(Scope(row.organization_id), "DeleteLocation")
            orgs.delete_location(conn, row.id)
        return app_pb2.DeleteLocationResponse()

    def orgs_with_access(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            row, _ = self._location(conn, who, request.location_id)
            org = orgs.get_organization(conn, row.organization_id)
        return app_pb2.GetOrganizationsWithAccessToLocationResponse(
            organization_identities=[app_pb2.OrganizationIdentity(id=org.id, name=org.name)])

    # -- machines and parts ------------------------------------------------------------

    def list_robots(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            location, scope = self._location(conn, who, request.location_id)
            rows = robots.list_robots(conn, location.id)
            if not who.sees(scope):
                granted = who.granted("robot", location.organization_id)
                rows = [r for r in rows if r.id in granted]
            return app_pb2.ListRobotsResponse(robots=[self._robot_message(conn, r) for r in rows])

    def get_robot(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            row, _ = self._robot(conn, who, request.id)
            return app_pb2.GetRobotResponse(robot=self._robot_message(conn, row))

    def new_robot(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        name = name_field(request.name, "name")
        with self.db.write() as conn:
            location, scope = self._location(conn, who, request.location, "location")
            who.require_owner(scope, "NewRobot")
            robot_id, _ = robots.new_robot(conn, location.id, name)
        return app_pb2.NewRobotResponse(id=robot_id)

    def update_robot(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        name = name_field(request.name, "name")
        with self.db.write() as conn:
            row, scope = self._robot(conn, who, request.id)
            who.require_owner(scope, "UpdateRobot")
            location_id = row.location_id
            if request.location and request.location != row.location_id:
                target, target_scope = self._location(conn, who, request.location, "location")
                who.require_owner(target_scope, "moving a machine to a location")
                location_id = target.id
            robots.update_robot(conn, row.id, name, location_id)
            return app_pb2.UpdateRobotResponse(robot=self._robot_message(conn, robots.get_robot(conn, row.id)))

    def delete_robot(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.write() as conn:
            row, scope = self._robot(conn, who, request.id)
            who.require_owner(scope, "DeleteRobot")
            robots.delete_robot(conn, row.id)
        return app_pb2.DeleteRobotResponse()

    def get_robot_parts(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            row, scope = self._robot(conn, who, request.robot_id, "robot_id")
            parts = robots.list_parts(conn, row.id)
        return app_pb2.GetRobotPartsResponse(parts=[self._part_message(who, p, scope) for p in parts])

    def get_robot_part(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            row, scope = self._part(conn, who, request.id)
        return app_pb2.GetRobotPartResponse(part=self._part_message(who, row, scope), config_json=row.config)

    def new_robot_part(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        name = name_field(request.part_name, "part_name")
        with self.db.write() as conn:
            row, scope = self._robot(conn, who, request.robot_id, "robot_id")
            who.require_owner(scope, "NewRobotPart")
            part_id = robots.new_part(conn, row.id, name)
        return app_pb2.NewRobotPartResponse(part_id=part_id)

    def update_robot_part(self, request: Any, call: Call) -> Any:
        from viamlite.app.structs import struct_to_dict

        who = self._principal(call)
        name = name_field(request.name, "name")
        config: dict[str, Any] | None = None
        if request.robot_config_json:
            if len(request.robot_config_json) > MAX_CONFIG_BYTES:
                raise InvalidArgumentError(f"robot_config_json is {len(request.robot_config_json)} bytes; at most "
                                           f"{MAX_CONFIG_BYTES} are allowed")
            try:
                config = json.loads(request.robot_config_json)
            except ValueError as exc:
                raise InvalidArgumentError(f"robot_config_json is not JSON: {exc}") from None
        elif request.HasField("robot_config"):
            if request.robot_config.ByteSize() > MAX_CONFIG_BYTES:
                raise InvalidArgumentError(f"robot_config is {request.robot_config.ByteSize()} bytes; at most "
                                           f"{MAX_CONFIG_BYTES} are allowed")
            config = struct_to_dict(request.robot_config)  # whole numbers stay whole
        if config is not None:
            _check_config(config)
        with self.db.write() as conn:
            row, scope = self._part(conn, who, request.id)
            who.require_owner(scope, "UpdateRobotPart")
            if request.HasField("last_known_update") and request.last_known_update.ToMicroseconds() < row.updated_us:
                from viamlite.errors import FailedPreconditionError

                raise FailedPreconditionError("the part was changed since last_known_update: read it again "
                                              "(GetRobotPart) and apply your edit to the current config")
            robots.update_part(conn, row.id, name, config, who.id)
            return app_pb2.UpdateRobotPartResponse(part=self._part_message(who, robots.get_part(conn, row.id), scope))

    def delete_robot_part(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.write() as conn:
            row, scope = self._part(conn, who, request.part_id, "part_id")
            who.require_owner(scope, "DeleteRobotPart")
            robots.delete_part(conn, row.id)
        return app_pb2.DeleteRobotPartResponse()

    def get_robot_part_history(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        limit = _limit(request.page_limit, "page_limit")
        before = None
        if request.page_token:
            try:
                before = int(request.page_token)
            except ValueError:
                raise InvalidArgumentError("page_token is not a token this fleet gave: pass back next_page_token "
                                           "unchanged") from None
        with self.db.read() as conn:
            row, scope = self._part(conn, who, request.id)
            rows = robots.part_history_page(conn, row.id, before_id=before, limit=limit,
                                            start_us=_time(request.start, "start"), end_us=_time(request.end, "end"))
        out = app_pb2.GetRobotPartHistoryResponse()
        for h in rows:
            entry = out.history.add(part=h.part_id, robot=h.robot_id)
            views.ts(entry.when, h.when_us)
            entry.old.CopyFrom(views.part(row, scope.location_id, with_secret=False))
            entry.old.name = h.name
            entry.old.robot_config_json = h.config
            entry.old.robot_config.Clear()
            entry.old.robot_config.update(json.loads(h.config))
            entry.edited_by.type = 2  # AUTHENTICATION_TYPE_API_KEY
            entry.edited_by.value = h.edited_by
        if len(rows) == limit:
            out.next_page_token = str(rows[-1].id)
        return out

    def mark_part_for_restart(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.write() as conn:
            row, _ = self._part(conn, who, request.part_id, "part_id")
            robots.mark_for_restart(conn, row.id)
        return app_pb2.MarkPartForRestartResponse()

    # -- logs --------------------------------------------------------------------------

    def get_robot_part_logs(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        limit = _limit(request.limit, "limit")
        levels = [_level(level) for level in request.levels]
        f = logstore.Filter(keyword=request.filter[:200], levels=levels, errors_only=request.errors_only,
                            start_us=_time(request.start, "start"), end_us=_time(request.end, "end"))
        after = _parse_token(request.page_token)
        oldest_first = request.order == app_pb2.LogOrder.LOG_ORDER_ASCENDING
        with self.db.read() as conn:
            row, _ = self._part(conn, who, request.id)
            records = logstore.page(conn, row.id, f, after=after, limit=limit, oldest_first=oldest_first)
        # A page with logs always names the next one (empty when nothing follows): the Viam
        # CLI keeps a page only when it comes with a token.
        return app_pb2.GetRobotPartLogsResponse(logs=[entry_of(r) for r in records],
                                                next_page_token=_page_token(records[-1]) if records else "")

    def tail_robot_part_logs(self, request: Any, call: Call) -> Iterator[Any]:
        who = self._principal(call)
        f = logstore.Filter(keyword=request.filter[:200], errors_only=request.errors_only)
        with self.db.read() as conn:
            row, _ = self._part(conn, who, request.id)
        part_id = row.id
        # Records stored a moment before a later one may commit after it: each look goes back
        # a few seconds and skips what was already sent (or was there before the tail began).
        version = self.bus.version(part_id)
        since = now_us()
        with self.db.read() as conn:
            seen = {r.id: since for r in logstore.received_since(conn, part_id, f, since - 5_000_000, limit=100_000)}
        while call.is_active():
            version = self.bus.wait(part_id, version)
            if not call.is_active():
                return
            with self.db.read() as conn:
                records = logstore.received_since(conn, part_id, f, since - 5_000_000)
            fresh = [r for r in records if r.id not in seen]
            now = now_us()
            for r in fresh:
                seen[r.id] = now
            since = now
            for old in [i for i, when in seen.items() if now - when > 10_000_000]:
                del seen[old]
            for start in range(0, len(fresh), 100):
                yield app_pb2.TailRobotPartLogsResponse(logs=[entry_of(r) for r in fresh[start:start + 100]])

    # -- keys --------------------------------------------------------------------------

    def create_key(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        if not request.authorizations:
            raise InvalidArgumentError("authorizations is empty: give at least one (role, resource type, resource id)")
        if len(request.authorizations) > 100:
            raise InvalidArgumentError(f"authorizations has {len(request.authorizations)} entries; at most 100")
        name = request.name.strip() or f"key-{datetime.datetime.now(datetime.timezone.utc).isoformat()}"
        name = name_field(name, "name")
        with self.db.write() as conn:
            grants = [self._grant(conn, who, a, i) for i, a in enumerate(request.authorizations)]
            key_id, key = keys.create_key(conn, name, grants)
        return app_pb2.CreateKeyResponse(key=key, id=key_id)

    def _grant(self, conn: Any, who: Principal, a: Any, i: int) -> Grant:
        field = f"authorizations[{i}]"
        if a.authorization_type and a.authorization_type != "role":
            raise InvalidArgumentError(f"{field}.authorization_type is {a.authorization_type!r}; only 'role' is supported")
        kind, _, role = a.authorization_id.rpartition("_")
        if role not in ROLES or kind not in RESOURCE_TYPES:
            raise InvalidArgumentError(f"{field}.authorization_id is {a.authorization_id!r}: use "
                                       f"'<organization|location|robot>_<owner|operator>'")
        if a.resource_type != kind:
            raise InvalidArgumentError(f"{field}.resource_type is {a.resource_type!r} but authorization_id "
                                       f"{a.authorization_id!r} is for a {kind}")
        if a.identity_type and a.identity_type != "api-key":
            raise InvalidArgumentError(f"{field}.identity_type is {a.identity_type!r}; keys are 'api-key'")
        if kind == "organization":
            scope = Scope(self._org(conn, who, a.resource_id).id)
        elif kind == "location":
            _, scope = self._location(conn, who, a.resource_id, f"{field}.resource_id")
        else:
            _, scope = self._robot(conn, who, a.resource_id, f"{field}.resource_id")
        if a.organization_id and a.organization_id != scope.organization_id:
            raise InvalidArgumentError(f"{field}.organization_id {a.organization_id!r} is not the organization of "
                                       f"{kind} {a.resource_id!r}")
        who.require_owner(scope, "CreateKey")
        return Grant(scope.organization_id, role, kind, a.resource_id)

    def _scope_of(self, conn: Any, g: Grant) -> Scope | None:
        try:
            if g.resource_type == "organization":
                return Scope(g.organization_id)
            if g.resource_type == "location":
                return Scope(g.organization_id, orgs.get_location(conn, g.resource_id).id)
            robot = robots.get_robot(conn, g.resource_id)
            return Scope(g.organization_id, robot.location_id, robot.id)
        except ResourceNotFoundError:
            return None  # its resource was deleted

    def _key_message(self, conn: Any, row: Any, grants: list[Grant]) -> Any:
        msg = app_pb2.APIKeyWithAuthorizations()
        msg.api_key.id, msg.api_key.name = row.id, row.name
        views.ts(msg.api_key.created_on, row.created_us)
        for g in grants:
            msg.authorizations.add(authorization_type="role", authorization_id=f"{g.resource_type}_{g.role}",
                                   resource_type=g.resource_type, resource_id=g.resource_id, org_id=g.organization_id)
        return msg

    def _owned_keys(self, conn: Any, who: Principal, rows: list) -> list[Any]:
        grants = keys.grants_of(conn, [r.id for r in rows])
        out = []
        for row in rows:
            scopes = [self._scope_of(conn, g) for g in grants[row.id]]
            if all(s is None or who.owns(s) for s in scopes):
                out.append(self._key_message(conn, row, grants[row.id]))
        return out

    def list_keys(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            org = self._org(conn, who, request.org_id)
            if not any(g.role == "owner" and g.organization_id == org.id for g in who.grants):
                raise PermissionDeniedError("ListKeys needs an owner key in this organization; this key is an operator")
            return app_pb2.ListKeysResponse(api_keys=self._owned_keys(conn, who, keys.keys_in_organization(conn, org.id)))

    def get_robot_api_keys(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        with self.db.read() as conn:
            row, scope = self._robot(conn, who, request.robot_id, "robot_id")
            who.require_owner(scope, "GetRobotAPIKeys")
            return app_pb2.GetRobotAPIKeysResponse(api_keys=self._owned_keys(conn, who, keys.keys_on(conn, [("robot", row.id)])))

    def delete_key(self, request: Any, call: Call) -> Any:
        who = self._principal(call)
        key_id = id_field(request.id, "id")
        with self.db.write() as conn:
            row = keys.find_key(conn, key_id)
            grants = keys.grants_of(conn, [key_id])[key_id] if row is not None else []
            scopes = [s for s in (self._scope_of(conn, g) for g in grants) if s is not None]
            if row is None or not any(who.sees(s) for s in scopes):
                raise ResourceNotFoundError(f"no API key with id {key_id!r}")
            if not all(who.owns(s) for s in scopes):
                raise PermissionDeniedError("DeleteKey needs an owner key over everything the key authorizes")
            keys.delete_key(conn, key_id)
        return app_pb2.DeleteKeyResponse()

    # -- the method table ----------------------------------------------------------------

    def methods(self) -> list[Method]:
        unary = {
            "ListOrganizations": self.list_organizations, "GetOrganization": self.get_organization,
            "ListLocations": self.list_locations, "GetLocation": self.get_location,
            "CreateLocation": self.create_location, "DeleteLocation": self.delete_location,
            "GetOrganizationsWithAccessToLocation": self.orgs_with_access,
            "ListRobots": self.list_robots, "GetRobot": self.get_robot, "NewRobot": self.new_robot,
            "UpdateRobot": self.update_robot, "DeleteRobot": self.delete_robot,
            "GetRobotParts": self.get_robot_parts, "GetRobotPart": self.get_robot_part,
            "NewRobotPart": self.new_robot_part, "UpdateRobotPart": self.update_robot_part,
            "DeleteRobotPart": self.delete_robot_part, "GetRobotPartHistory": self.get_robot_part_history,
            "MarkPartForRestart": self.mark_part_for_restart, "GetRobotPartLogs": self.get_robot_part_logs,
            "CreateKey": self.create_key, "ListKeys": self.list_keys, "DeleteKey": self.delete_key,
            "GetRobotAPIKeys": self.get_robot_api_keys,
        }
        service = app_pb2.DESCRIPTOR.services_by_name["AppService"]
        out = []
        for name, handler in unary.items():
            m = service.methods_by_name[name]
            out.append(Method(f"/{SERVICE}/{name}", _cls(m.input_type), _cls(m.output_type), rpc(handler)))
        tail = service.methods_by_name["TailRobotPartLogs"]
        out.append(Method(f"/{SERVICE}/TailRobotPartLogs", _cls(tail.input_type), _cls(tail.output_type),
                          rpc_stream(self.tail_robot_part_logs), server_streaming=True, lane=Lane.LONG))
        return out


def _cls(descriptor: Any) -> type:
    return getattr(app_pb2, descriptor.name)


def _limit(value: int, field: str) -> int:
    if value < 0 or value > MAX_PAGE:
        raise InvalidArgumentError(f"{field} is {value}; use 1 to {MAX_PAGE} (0 means {DEFAULT_PAGE})")
    return value or DEFAULT_PAGE


def _level(value: str) -> str:
    level = value.strip().lower()
    if level not in LEVELS:
        raise InvalidArgumentError(f"levels has {value!r}; use debug, info, warn or error")
    return "warn" if level == "warning" else level


def _check_config(config: Any) -> None:
    if not isinstance(config, dict):
        raise InvalidArgumentError("robot_config must be a JSON object (a machine config)")
    for key in ("components", "services", "remotes", "modules", "processes", "packages"):
        if key in config and not isinstance(config[key], list):
            raise InvalidArgumentError(f"robot_config.{key} must be a list")
    for key in ("network", "auth", "cloud"):
        if key in config and not isinstance(config[key], dict):
            raise InvalidArgumentError(f"robot_config.{key} must be an object")
