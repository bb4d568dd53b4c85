"""Rows as app API messages."""
from __future__ import annotations

import json
from typing import Any

from viamlite.gen.app import app_pb2
from viamlite.gen.app.app_pb2 import OnlineState
from viamlite_plugins.fleet.store import now_us


def ts(field: Any, us: int | None) -> None:
    if us is not None:
        field.FromMicroseconds(int(us))


def organization(row: Any) -> Any:
    msg = app_pb2.Organization(id=row.id, name=row.name, public_namespace=row.public_namespace or "")
    ts(msg.created_on, row.created_us)
    return msg


def location(row: Any, robot_count: int, org: Any) -> Any:
    msg = app_pb2.Location(id=row.id, name=row.name, parent_location_id=row.parent_location_id or "",
                           robot_count=robot_count)
    msg.auth.location_id = row.id
    msg.organizations.add(organization_id=row.organization_id, primary=True)
    msg.primary_org_identity.id = org.id
    msg.primary_org_identity.name = org.name
    ts(msg.created_on, row.created_us)
    return msg


def online(last_access_us: int | None, window_s: int) -> tuple[int, int]:
    """(OnlineState, seconds since online) from the last access."""
    if last_access_us is None:
        return OnlineState.ONLINE_STATE_AWAITING_SETUP, 0
    ago = max(0, (now_us() - last_access_us) // 1_000_000)
    return (OnlineState.ONLINE_STATE_ONLINE if ago <= window_s else OnlineState.ONLINE_STATE_OFFLINE), int(ago)


def robot(row: Any, last_access_us: int | None, window_s: int = 30) -> Any:
    state, ago = online(last_access_us, window_s)
    msg = app_pb2.Robot(id=row.id, name=row.name, location=row.location_id, online_state=state,
                        seconds_since_online=ago)
    ts(msg.last_access, last_access_us)
    ts(msg.created_on, row.created_us)
    return msg


def part(row: Any, location_id: str, *, with_secret: bool) -> Any:
    state, ago = online(row.last_access_us, row.online_window_s)
    msg = app_pb2.RobotPart(id=row.id, name=row.name, robot=row.robot_id, location_id=location_id,
                            main_part=row.main_part, fqdn=row.fqdn, local_fqdn=row.local_fqdn,
                            online_state=state, seconds_since_online=ago, robot_config_json=row.config)
    msg.robot_config.update(json.loads(row.config))
    if with_secret:
        msg.secret = row.secret
        secret = msg.secrets.add(id=row.id, secret=row.secret, state=1)  # SharedSecret.State.ENABLED
        ts(secret.created_on, row.created_us)
    agent = json.loads(row.agent_info or "{}")
    if agent:
        msg.user_supplied_info.update({"agent_info": agent})
    ts(msg.last_access, row.last_access_us)
    ts(msg.created_on, row.created_us)
    ts(msg.last_updated, row.updated_us)
    return msg
