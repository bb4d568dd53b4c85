"""The frame system: a tree of named frames rooted at ``world``, each with a pose in its parent."""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

from viamlite.errors import ViamliteError
from viamlite.spatial.algebra import WORLD
from viamlite.spatial.pose import IDENTITY, Pose

# --------------------------------------------------------------------------- frame system


class FrameError(ViamliteError, ValueError):
    """A frame-system problem: bad frame definition, unknown frame, missing parent, cycle."""


class UnknownFrameError(FrameError, KeyError):
    """A frame (or a frame's parent) is not in the frame system."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return BaseException.__str__(self)


class FrameCycleError(FrameError):
    """Following parents from a frame loops instead of reaching ``world``."""


class FrameSystem:
    """A tree of named frames rooted at ``"world"``; each frame has a pose in its parent.

    Parents are resolved when queried, so frames may be added in any order;
    :meth:`validate` checks the whole tree at once.
    """

    def __init__(self, frames: Iterable[tuple[str, str, Pose]] = ()) -> None:
        self._frames: dict[str, tuple[str, Pose]] = {}
        for name, parent, pose in frames:
            self.add_frame(name, parent, pose)

    @staticmethod
    def _add(frames: dict[str, tuple[str, Pose]], name: str, parent: str, pose: Pose) -> None:
        if not isinstance(name, str) or not name:
            raise FrameError(f"frame name must be a non-empty string, got {name!r}")
        if name == WORLD:
            raise FrameError(f"cannot add a frame named {WORLD!r}: it is the root of every frame system")
        if name in frames:
            raise FrameError(f"frame {name!r} is already defined (parent {frames[name][0]!r})")
        if not isinstance(parent, str) or not parent:
            raise FrameError(f"frame {name!r}: parent must be a non-empty string, got {parent!r}")
        if parent == name:
            raise FrameCycleError(f"frame {name!r} cannot be its own parent")
        if not isinstance(pose, Pose):
            raise TypeError(f"frame {name!r}: pose must be a Pose, got {type(pose).__name__}")
        frames[name] = (parent, pose)

    def add_frame(self, name: str, parent: str = WORLD, pose: Pose = IDENTITY) -> None:
        """Add frame ``name`` whose origin sits at ``pose`` in frame ``parent``."""
        self._add(self._frames, name, parent, pose)

    def parent_of(self, name: str) -> str | None:
        """The parent frame's name (``None`` for ``"world"``)."""
        if name == WORLD:
            return None
        if name not in self._frames:
            raise UnknownFrameError(_unknown(name, self._frames))
        return self._frames[name][0]

    def names(self) -> list[str]:
        """Every frame name, ``"world"`` first, then in the order added."""
        return [WORLD, *self._frames]

    def __contains__(self, name: object) -> bool:
        return name == WORLD or name in self._frames

    def __len__(self) -> int:
        return len(self._frames) + 1

    def _with(self, supplemental: Iterable[tuple[str, str, Pose]] | None) -> dict[str, tuple[str, Pose]]:
        if not supplemental:
            return self._frames
        frames = dict(self._frames)
        for name, parent, pose in supplemental:
            self._add(frames, name, parent, pose)
        return frames

    def validate(self, supplemental: Iterable[tuple[str, str, Pose]] | None = None) -> None:
        """Raise :class:`FrameError` unless every frame's parent chain reaches ``"world"``."""
        frames = self._with(supplemental)
        for name in frames:
            _world_pose(frames, name)

    def pose_in(
        self,
        frame_name: str,
        destination: str = WORLD,
        supplemental: Iterable[tuple[str, str, Pose]] | None = None,
    ) -> Pose:
        """Pose of the origin of ``frame_name`` expressed in frame ``destination``."""
        return self.transform(IDENTITY, frame_name, destination, supplemental)

    def transform(
        self,
        pose: Pose,
        source: str,
        destination: str,
        supplemental: Iterable[tuple[str, str, Pose]] | None = None,
    ) -> Pose:
        """Re-express ``pose``, given in frame ``source``, in frame ``destination``.

        ``supplemental`` frames ``(name, parent, pose)`` exist for this call only.
        """
        frames = self._with(supplemental)
        src = _world_pose(frames, source)
        dst = _world_pose(frames, destination)
        return dst.inverse().compose(src.compose(pose))


def _unknown(name: object, frames: dict[str, tuple[str, Pose]]) -> str:
    known = ", ".join(repr(n) for n in sorted([WORLD, *frames]))
    return f"unknown frame {name!r}; known frames: {known}"


def _world_pose(frames: dict[str, tuple[str, Pose]], name: str) -> Pose:
    """Pose of frame ``name`` in ``"world"``, walking up its parents."""
    if name == WORLD:
        return IDENTITY
    if name not in frames:
        raise UnknownFrameError(_unknown(name, frames))
    chain: list[str] = []
    cur = name
    while cur != WORLD:
        if cur in chain:
            loop = " -> ".join(repr(n) for n in [*chain[chain.index(cur):], cur])
            raise FrameCycleError(f"frame {name!r} never reaches {WORLD!r}: parent cycle {loop}")
        entry = frames.get(cur)
        if entry is None:
            raise UnknownFrameError(
                f"frame {chain[-1]!r} has parent {cur!r}, which is not defined; "
                + _unknown(cur, frames).split("; ", 1)[1]
            )
        chain.append(cur)
        cur = entry[0]
    pose = IDENTITY
    for n in reversed(chain):
        pose = pose.compose(frames[n][1])
    return pose


__all__ = ["FrameCycleError", "FrameError", "FrameSystem", "UnknownFrameError"]
