"""Geometries attached to a resource: boxes, spheres and capsules, sizes in millimetres."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from viamlite.spatial import IDENTITY, Pose, Vector3


@dataclass(frozen=True)
class Geometry:
    """One geometry; ``kind`` is ``box`` (``dims_mm``), ``sphere`` (``radius_mm``) or
    ``capsule`` (``radius_mm``, ``length_mm``), centred at ``center``."""

    kind: str
    center: Pose = IDENTITY
    dims_mm: Vector3 = Vector3(0.0, 0.0, 0.0)
    radius_mm: float = 0.0
    length_mm: float = 0.0
    label: str = ""

    @classmethod
    def from_config(cls, obj: Mapping[str, Any], label: str = "") -> "Geometry":
        """Build from a frame's ``geometry`` block (already validated by the config)."""
        from viamlite.spatial import parse_orientation

        tr = obj.get("translation") or {}
        center = Pose(Vector3(float(tr.get("x", 0)), float(tr.get("y", 0)), float(tr.get("z", 0))),
                      parse_orientation(obj.get("orientation")))
        kind = obj["type"]
        return cls(
            kind=kind, center=center,
            dims_mm=Vector3(float(obj.get("x", 0)), float(obj.get("y", 0)), float(obj.get("z", 0))),
            radius_mm=float(obj.get("r", 0)), length_mm=float(obj.get("l", 0)),
            label=str(obj.get("label") or label),
        )
