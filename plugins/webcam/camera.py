"""``rdk:builtin:webcam``: a V4L2 camera, its MJPEG frames served as JPEG without a decode."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from viamlite_plugins.webcam.device import JPEG_FORMATS, Capture, CaptureSettings, WebcamError, open_capture
from viamlite_plugins.webcam.reader import LatestFrame

from viamlite.attributes import Attributes
from viamlite.components.camera import (
    JPEG,
    Camera,
    CameraProperties,
    Images,
    NamedImage,
    PointCloud,
    read_parameters,
)
from viamlite.driver import Configured, attributes_of
from viamlite.errors import InvalidArgumentError, NotSupportedError
from viamlite.resource import Extra

#: How long building waits for the camera's first frame.
FIRST_FRAME_S = 5.0
#: How long a call waits for a frame while the camera is restarting (a call may be on the
#: fast path's loop, which should not be held for long).
CALL_WAIT_S = 0.5
FORMAT_ALIASES = {"MJPEG": "MJPG", "MJPG": "MJPG", "JPEG": "JPEG", "": "MJPG"}


class Webcam(Configured, Camera):
    """A USB (UVC) camera through V4L2, as viam-server's ``webcam`` model.

    Attributes: ``video_path`` (``"video0"``, ``"/dev/video0"`` or the camera's label; default
    the first capture device), ``width_px`` and ``height_px`` (default: the camera's current
    size), ``frame_rate`` (30), ``format`` (``"MJPG"``, the default, or ``"JPEG"``: frames
    that are JPEG images already), ``intrinsic_parameters`` and ``distortion_parameters``
    (reported by ``get_properties``). The camera may choose a size or rate near the one
    asked for; ``get_status`` says what it chose.

    A background reader keeps the newest frame; ``get_images`` answers with it at once. When
    the camera stops sending (unplugged), calls fail naming the device, and the reader opens
    it again with backoff.
    """

    def __init__(self, name: str, attributes: Mapping[str, Any] | Attributes | None = None) -> None:
        super().__init__(name)
        self._s = self.settings(attributes_of(attributes))
        capture = open_capture(self._s["capture"])  # WebcamError (unhealthy) when it cannot
        self._info = _describe(capture)
        self._reader = LatestFrame(name, capture, lambda: self._reopened(open_capture(self._s["capture"])))
        if self._reader.wait_for_first(FIRST_FRAME_S) is None:
            why = self._reader.error or f"no frame within {FIRST_FRAME_S:g} s"
            self._reader.close()
            raise WebcamError(f"webcam {capture.path} opened but sent no frame ({why}); is another program "
                              f"holding it (fuser -v {capture.path})?")

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        fmt = attrs.string("format", "")
        if fmt is not None and fmt.upper() not in FORMAT_ALIASES:
            raise attrs.fail("format", f"format {fmt!r} is not one viamlite serves without decoding",
                             f"use one of {', '.join(JPEG_FORMATS)} (most USB webcams offer MJPG), or leave it out")
        intrinsics, distortion = read_parameters(attrs)
        capture = CaptureSettings(video_path=attrs.string("video_path"),
                                  width_px=attrs.number("width_px", 0, minimum=0, maximum=8192, integer=True),
                                  height_px=attrs.number("height_px", 0, minimum=0, maximum=8192, integer=True),
                                  frame_rate=float(attrs.number("frame_rate", 30, above=0, maximum=1000)),
                                  format=FORMAT_ALIASES[(fmt or "").upper()])
        return {"capture": capture, "intrinsic_parameters": intrinsics, "distortion_parameters": distortion}

    def _reopened(self, capture: Capture) -> Capture:
        self._info = _describe(capture)
        return capture

    # -- the API -------------------------------------------------------------------------
    def get_images(self, filter_source_names: Sequence[str] | None = None, *, extra: Extra = None) -> Images:
        self._check_open()
        if filter_source_names and self.name not in filter_source_names:
            raise InvalidArgumentError(f"camera {self.name!r} has no source {list(filter_source_names)[0]!r}; its "
                                       f"one source is {self.name!r}")
        try:
            frame = self._reader.latest(CALL_WAIT_S)
        except TimeoutError as exc:
            raise WebcamError(f"webcam {self._info['device']}: {exc}; {self._reader.error or 'it is restarting'}") \
                from None
        return Images([NamedImage(self.name, frame.data, JPEG)], frame.captured_at)

    def get_point_cloud(self, *, extra: Extra = None) -> PointCloud:
        self._check_open()
        raise NotSupportedError(f"camera {self.name!r} is a webcam: it has no depth, so no point cloud")

    def get_properties(self) -> CameraProperties:
        self._check_open()
        return CameraProperties(False, self._s["intrinsic_parameters"], self._s["distortion_parameters"], [JPEG],
                                self._info["frame_rate"] or self._s["capture"].frame_rate)

    def get_status(self) -> dict[str, Any]:
        reader = getattr(self, "_reader", None)
        return {**self._info, "frames": reader.frames if reader else 0, "error": reader.error if reader else "",
                "reopens": reader.reopens if reader else 0}

    def _on_close(self) -> None:
        reader = getattr(self, "_reader", None)
        if reader is not None:
            reader.close()


def _describe(capture: Capture) -> dict[str, Any]:
    return {"device": capture.path, "label": capture.label, "width_px": capture.width, "height_px": capture.height,
            "format": capture.pixel_format, "frame_rate": capture.frame_rate}
