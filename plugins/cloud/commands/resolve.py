"""Organizations, locations, machines and parts by name or id, as the Viam CLI finds them.

A flag holds a name or an id (a UUID is taken as an id, and matched against names too); an
empty flag takes the only or the first one. Each answer is the app's own message (an
``Organization``, ``Location``, ``Robot`` or ``RobotPart``). What cannot be found is one
line listing what there is and what to run to see more.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from viamlite_plugins.cloud.commands.app import AppClient
from viamlite_plugins.cloud.commands.errors import CommandError


def is_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _pick(items: Sequence[Any], flag: str, what: str, flag_name: str, listing: str, within: str = "") -> Any:
    where = f" in {within}" if within else ""
    if not items:
        raise CommandError(f"the logged-in key sees no {what}{where}: create one, or log in with a key that sees one")
    if not flag:
        return items[0]
    for item in items:
        if item.id == flag:
            return item
    named = [item for item in items if item.name == flag]
    if len(named) > 1:
        raise CommandError(f"{len(named)} {what}s{where} are called {flag!r}: give {flag_name} the id instead "
                           f"({', '.join(item.id for item in named)})")
    if named:
        return named[0]
    names = ", ".join(repr(item.name) for item in items[:10]) + (", ..." if len(items) > 10 else "")
    raise CommandError(f"no {what} {flag!r}{where} (there is {names}): check {flag_name}, or see {listing}")


class Resolver:
    """The chains over one :class:`AppClient`, with each list read once."""

    def __init__(self, app: AppClient) -> None:
        self.app = app
        self._orgs: list[Any] | None = None
        self._locations: dict[str, list[Any]] = {}
        self._robots: dict[str, list[Any]] = {}

    # -- organizations and locations ---------------------------------------------------
    def organizations(self) -> list[Any]:
        if self._orgs is None:
            self._orgs = list(self.app.call("ListOrganizations").organizations)
        return self._orgs

    def organization(self, flag: str = "") -> Any:
        return _pick(self.organizations(), flag, "organization", "--organization", "viamlite organizations list")

    def locations(self, org: Any) -> list[Any]:
        if org.id not in self._locations:
            self._locations[org.id] = list(self.app.call("ListLocations", organization_id=org.id,
                                                         what=f"organization {org.name!r}").locations)
        return self._locations[org.id]

    def location(self, org: Any, flag: str = "") -> Any:
        return _pick(self.locations(org), flag, "location", "--location", "viamlite locations list",
                     f"organization {org.name!r}")

    def location_by_id(self, location_id: str) -> Any:
        return self.app.call("GetLocation", location_id=location_id, what=f"location {location_id!r}").location

    # -- machines and parts ----------------------------------------------------------------
    def robots(self, location: Any) -> list[Any]:
        if location.id not in self._robots:
            self._robots[location.id] = list(self.app.call("ListRobots", location_id=location.id,
                                                           what=f"location {location.name!r}").robots)
        return self._robots[location.id]

    def robot(self, flag: str = "", org_flag: str = "", location_flag: str = "") -> Any:
        """The machine ``flag`` names; an id is looked up at once when no location is given."""
        if flag and is_id(flag) and not location_flag and not org_flag:
            return self.app.call("GetRobot", id=flag, what=f"machine {flag!r}").robot
        org = self.organization(org_flag)
        location = self.location(org, location_flag)
        robots = self.robots(location)
        if flag and is_id(flag) and not any(r.id == flag for r in robots):
            return self.app.call("GetRobot", id=flag, what=f"machine {flag!r}").robot
        return _pick(robots, flag, "machine", "--machine", "viamlite machines list",
                     f"location {location.name!r}")

    def parts(self, robot: Any) -> list[Any]:
        return list(self.app.call("GetRobotParts", robot_id=robot.id, what=f"machine {robot.name!r}").parts)

    def part(self, flag: str = "", machine_flag: str = "", org_flag: str = "", location_flag: str = "") -> Any:
        """The part ``flag`` names (default: the machine's main part); without ``--machine``
        a part's name is looked for on every machine of the location(s)."""
        if flag and is_id(flag) and not machine_flag:
            return self.app.call("GetRobotPart", id=flag, what=f"part {flag!r}").part
        if machine_flag or not flag:
            robot = self.robot(machine_flag, org_flag, location_flag)
            parts = self.parts(robot)
            if not flag:
                main = [p for p in parts if p.main_part]
                if not main and not parts:
                    raise CommandError(f"machine {robot.name!r} has no parts")
                return (main or parts)[0]
            return _pick(parts, flag, "part", "--part", f"viamlite machines status --machine {robot.id}",
                         f"machine {robot.name!r}")
        org = self.organization(org_flag)
        locations = [self.location(org, location_flag)] if location_flag else self.locations(org)
        found = []
        for location in locations:
            for robot in self.robots(location):
                found += [p for p in self.parts(robot) if p.name == flag or p.id == flag]
        if len(found) > 1:
            raise CommandError(f"{len(found)} parts are called {flag!r} in organization {org.name!r}: add --machine "
                               f"or --location to say which")
        if not found:
            raise CommandError(f"no part {flag!r} in organization {org.name!r}: check --part, or see viamlite "
                               f"machines list and viamlite machines status --machine NAME")
        return found[0]
