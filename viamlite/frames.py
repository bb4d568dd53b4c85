"""The machine's frame system, built from the ``frame`` blocks of its config."""
from __future__ import annotations

from viamlite.config import FrameConfig, MachineConfig
from viamlite.spatial import FrameSystem, Pose, Vector3, parse_orientation


def frame_pose(frame: FrameConfig) -> Pose:
    """The pose a frame block places its frame at, relative to its parent."""
    return Pose(Vector3(*frame.translation), parse_orientation(frame.orientation))


def build_frame_system(config: MachineConfig) -> FrameSystem:
    """One frame per resource with a frame block, named after the resource."""
    return FrameSystem((res.name, res.frame.parent, frame_pose(res.frame))
                       for res in config.resources if res.frame is not None)
