"""The camera API: images, a point cloud and the camera's properties.

Values are plain Python (bytes and NamedTuples), the same in-process, through the gRPC
client and over the fast path (where images travel as msgpack binary)::

    images, captured_at = Camera.from_robot(machine, "camera1").get_images()
    images[0].data          # the encoded image (JPEG or PNG bytes)
    images[0].mime_type     # "image/jpeg"

The attributes viam-server's cameras share (``intrinsic_parameters``,
``distortion_parameters``) are read by :func:`read_parameters`, for any model.
"""
from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from viamlite.names import API
from viamlite.resource import Extra, Resource

if TYPE_CHECKING:  # pragma: no cover
    from viamlite.attributes import Attributes

JPEG = "image/jpeg"
PNG = "image/png"
RGBA = "image/vnd.viam.rgba"
PCD = "pointcloud/pcd"


class NamedImage(NamedTuple):
    """One image: the source it came from (a plain camera's own name), its bytes, their type."""

    name: str
    data: bytes
    mime_type: str

    def __repr__(self) -> str:  # the bytes by their size: a frame is no use printed at the REPL
        return f"NamedImage(name={self.name!r}, data=<{len(self.data)} bytes>, mime_type={self.mime_type!r})"


class Images(NamedTuple):
    """What ``get_images`` returns: the images, and when they were captured (seconds since
    the epoch, as ``time.time()``; None when the camera cannot say)."""

    images: list[NamedImage]
    captured_at: float | None

    @classmethod
    def from_wire(cls, value: Sequence[Any]) -> "Images":
        images, captured_at = value
        return cls([NamedImage(*image) for image in images], captured_at)


class PointCloud(NamedTuple):
    """A point cloud: its bytes (``pointcloud/pcd``: a PCD file, binary data) and their type."""

    data: bytes
    mime_type: str

    def __repr__(self) -> str:
        return f"PointCloud(data=<{len(self.data)} bytes>, mime_type={self.mime_type!r})"


class IntrinsicParameters(NamedTuple):
    """The pinhole model of the camera, in pixels."""

    width_px: int
    height_px: int
    focal_x_px: float
    focal_y_px: float
    center_x_px: float
    center_y_px: float


class DistortionParameters(NamedTuple):
    """A distortion model by name (``brown_conrady``: rk1, rk2, rk3, tp1, tp2) and its parameters."""

    model: str
    parameters: list[float]


class CameraProperties(NamedTuple):
    """What ``get_properties`` returns."""

    supports_pcd: bool
    intrinsic_parameters: IntrinsicParameters | None
    distortion_parameters: DistortionParameters | None
    mime_types: list[str]
    frame_rate: float | None

    @classmethod
    def from_wire(cls, value: Sequence[Any]) -> "CameraProperties":
        supports_pcd, intrinsics, distortion, mime_types, frame_rate = value
        return cls(supports_pcd, IntrinsicParameters(*intrinsics) if intrinsics else None,
                   DistortionParameters(*distortion) if distortion else None, list(mime_types), frame_rate)


class Camera(Resource):
    API = API.component("camera")

    @abstractmethod
    def get_images(self, filter_source_names: Sequence[str] | None = None, *, extra: Extra = None) -> Images:
        """The latest images, one per source (only those named in ``filter_source_names``
        when it is given), with the time they were captured."""

    @abstractmethod
    def get_point_cloud(self, *, extra: Extra = None) -> PointCloud:
        """A point cloud (NotSupportedError from a camera without depth)."""

    @abstractmethod
    def get_properties(self) -> CameraProperties:
        """Intrinsics, distortion, the image types the camera gives, and its frame rate."""


# -- the attributes every camera model shares ---------------------------------------------

_INTRINSICS = ("width_px", "height_px", "fx", "fy", "ppx", "ppy")
_BROWN_CONRADY = ("rk1", "rk2", "rk3", "tp1", "tp2")


def read_parameters(attrs: "Attributes") -> tuple[IntrinsicParameters | None, DistortionParameters | None]:
    """``intrinsic_parameters`` ``{width_px, height_px, fx, fy, ppx, ppy}`` and
    ``distortion_parameters`` ``{rk1, rk2, rk3, tp1, tp2}``, as viam-server's cameras read
    them (each optional; errors name the attribute and the fix)."""
    intrinsics = None
    raw = attrs.mapping("intrinsic_parameters", example='{"width_px": 640, "height_px": 480, "fx": 600, "fy": 600, '
                                                        '"ppx": 320, "ppy": 240}')
    if raw is not None:
        sub = attrs.nested("intrinsic_parameters", raw)
        missing = [k for k in _INTRINSICS if k not in sub]
        if missing:
            raise sub.fail(missing[0], f"intrinsic_parameters lacks {', '.join(missing)}",
                           "give all of width_px, height_px, fx, fy, ppx, ppy")
        intrinsics = IntrinsicParameters(sub.number("width_px", 0, above=0, integer=True),
                                         sub.number("height_px", 0, above=0, integer=True),
                                         float(sub.number("fx", 0, above=0)), float(sub.number("fy", 0, above=0)),
                                         float(sub.number("ppx", 0, minimum=0)), float(sub.number("ppy", 0, minimum=0)))
    distortion = None
    raw = attrs.mapping("distortion_parameters", example='{"rk1": 0, "rk2": 0, "rk3": 0, "tp1": 0, "tp2": 0}')
    if raw is not None:
        sub = attrs.nested("distortion_parameters", raw)
        unknown = sorted(set(raw) - set(_BROWN_CONRADY))
        if unknown:
            raise sub.fail(unknown[0], f"unknown distortion parameter {unknown[0]!r}",
                           f"use the Brown-Conrady parameters {', '.join(_BROWN_CONRADY)}")
        distortion = DistortionParameters("brown_conrady", [float(sub.number(k, 0.0)) for k in _BROWN_CONRADY])
    return intrinsics, distortion
