"""The machine's frame system, built from the ``frame`` blocks of its config."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from viamlite.config import FrameConfig, MachineConfig
from viamlite.spatial import FrameSystem, Pose


def frame_pose(frame: FrameConfig) -> Pose:
    """The pose a frame block places its frame at, relative to its parent."""
    return frame.pose()


def build_frame_system(config: MachineConfig, extra: Iterable[tuple[str, str, Pose, Any]] = ()) -> FrameSystem:
    """One frame per resource with a frame block, named after the resource, then the
    ``extra`` frames (name, parent, pose, geometry) remote parts bring; an extra frame
    whose name is already taken is left out with a warning."""
    system = FrameSystem((res.name, res.frame.parent, frame_pose(res.frame))
                         for res in config.resources if res.frame is not None)
    taken = set(system.names())
    for name, parent, pose, _ in extra:
        if name in taken:
            logging.getLogger("viamlite.machine.frames").warning(
                "remote frame %r is left out: a frame of that name exists already (set a remote prefix)", name)
            continue
        taken.add(name)
        system.add_frame(name, parent, pose)
    return system
