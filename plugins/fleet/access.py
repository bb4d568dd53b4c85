"""Who may do what: the principal behind a call and the scope of its grants.

A principal is an API key with its grants (owner or operator on an organization, a
location or a machine) or a machine part authenticated by its secret. A resource outside a
principal's scope answers as if it did not exist (NOT_FOUND), so ids of other
organizations tell nothing; a resource in scope that needs a role the principal lacks is
PERMISSION_DENIED.
"""
from __future__ import annotations

from dataclasses import dataclass

from viamlite.errors import PermissionDeniedError
from viamlite_plugins.fleet.store.keys import Grant

API_KEY = "api-key"
PART_SECRET = "robot-secret"
OWNER, OPERATOR = "owner", "operator"


@dataclass(frozen=True)
class Scope:
    """Where a resource sits: its organization, and its location and machine when it has them."""

    organization_id: str
    location_id: str = ""
    robot_id: str = ""


@dataclass(frozen=True)
class Principal:
    kind: str  # API_KEY or PART_SECRET
    id: str  # the key id, or the part id
    grants: tuple[Grant, ...] = ()
    part_robot_id: str = ""  # for a part: its machine

    @property
    def is_part(self) -> bool:
        return self.kind == PART_SECRET

    def _matching(self, scope: Scope) -> list[Grant]:
        out = []
        for g in self.grants:
            if g.organization_id != scope.organization_id:
                continue
            if (g.resource_type == "organization"
                    or (g.resource_type == "location" and scope.location_id and g.resource_id == scope.location_id)
                    or (g.resource_type == "robot" and scope.robot_id and g.resource_id == scope.robot_id)):
                out.append(g)
        return out

    def sees(self, scope: Scope) -> bool:
        """Whether any grant reaches ``scope`` (reading it, or anything under it)."""
        return bool(self._matching(scope))

    def owns(self, scope: Scope) -> bool:
        return any(g.role == OWNER for g in self._matching(scope))

    def require_owner(self, scope: Scope, action: str) -> None:
        if not self.owns(scope):
            raise PermissionDeniedError(f"{action} needs an owner key for this {_level(scope)}; this key is an "
                                        f"operator (it may read and run, not create or delete)")

    def organizations(self) -> set[str]:
        return {g.organization_id for g in self.grants}

    def reaches_inside(self, organization_id: str) -> bool:
        """Whether any grant is in ``organization_id`` (so the organization is listed)."""
        return organization_id in self.organizations()

    def granted(self, resource_type: str, organization_id: str) -> set[str]:
        return {g.resource_id for g in self.grants if g.resource_type == resource_type
                and g.organization_id == organization_id}


def _level(scope: Scope) -> str:
    return "machine" if scope.robot_id else "location" if scope.location_id else "organization"
