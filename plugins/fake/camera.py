"""The fake camera: a moving test pattern in JPEG or PNG, a point cloud in PCD, intrinsics.

Pillow is imported when the first frame is made, not when the fake is built, so a machine
with a fake camera starts as fast as one without.
"""
from __future__ import annotations

import io
import math
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from viamlite_plugins.fake import FakeResource

from viamlite.attributes import Attributes
from viamlite.components.camera import (
    JPEG,
    PCD,
    PNG,
    Camera,
    CameraProperties,
    Images,
    IntrinsicParameters,
    NamedImage,
    PointCloud,
    read_parameters,
)
from viamlite.errors import InvalidArgumentError
from viamlite.resource import Extra

MIME_TYPES = (JPEG, PNG)
#: Test-pattern bars, left to right (white, yellow, cyan, green, magenta, red, blue, black).
BARS = ((255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0), (255, 0, 255), (255, 0, 0), (0, 0, 255),
        (0, 0, 0))
#: Encoded frames kept, so callers faster than the frame rate get the frame again, not a new encode.
CACHED_FRAMES = 4
#: The point cloud's grid (columns x rows), its size and distance from the camera, in metres.
CLOUD_GRID = (32, 24)
CLOUD_SPAN_M = 1.0
CLOUD_DEPTH_M = 2.0


class FakeCamera(FakeResource, Camera):
    """A camera showing a moving test pattern (colour bars sliding left, a grey ramp and the
    frame number), ``frame_rate`` new frames a second.

    Attributes: ``width_px`` (default 640) and ``height_px`` (480), 8 to 4096;
    ``frame_rate`` (30, frames per second, up to 1000); ``mime_type`` (``"image/jpeg"`` or
    ``"image/png"``: the type ``get_images`` answers with, unless a call's
    ``extra={"mime_type": ...}`` asks for the other); ``jpeg_quality`` (75, 1 to 95);
    ``noise`` (0 to 64, default 0: a grain of that many grey levels, drawn once per camera,
    over the pattern, so JPEGs are the size a real scene's are: about 30 kB at 640 x 480 with 8);
    ``intrinsic_parameters`` and ``distortion_parameters`` as viam-server reads them (default
    intrinsics: a focal length of ``width_px`` pixels, the centre in the middle).

    The frame shown is the number of frame periods since the camera was built. To make tests
    deterministic, ``do_command``:

    * ``{"freeze": true}`` holds the current frame, ``{"freeze": false}`` runs on from it;
    * ``{"step": n}`` (default 1) freezes and moves ``n`` frames on (negative: back);
    * ``{"frame": n}`` freezes at frame ``n``.

    Each answers ``{"frame": n, "frozen": bool}``. A frozen frame's bytes are the same on
    every call. ``get_point_cloud`` is a PCD file (binary): a 32 x 24 grid of coloured points,
    a rippled sheet 2 m in front of the camera that moves with the frame.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        mime = attrs.string("mime_type", JPEG)
        if mime not in MIME_TYPES:
            raise attrs.fail("mime_type", f"mime_type {mime!r} is not one this fake makes",
                             f"use one of {', '.join(MIME_TYPES)}")
        width = attrs.number("width_px", 640, minimum=8, maximum=4096, integer=True)
        height = attrs.number("height_px", 480, minimum=8, maximum=4096, integer=True)
        intrinsics, distortion = read_parameters(attrs)
        if intrinsics is None:
            intrinsics = IntrinsicParameters(width, height, float(width), float(width), width / 2, height / 2)
        return {"width_px": width, "height_px": height,
                "frame_rate": float(attrs.number("frame_rate", 30, above=0, maximum=1000)),
                "mime_type": mime,
                "jpeg_quality": attrs.number("jpeg_quality", 75, minimum=1, maximum=95, integer=True),
                "noise": float(attrs.number("noise", 0, minimum=0, maximum=64)),
                "intrinsic_parameters": intrinsics, "distortion_parameters": distortion}

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        with self._lock:
            old = getattr(self, "_s", None)
            if old is not None:  # keep the frame shown across a reconfigure
                frame, frozen = self._frame_now(time.monotonic())
            self._s = s
            self._cache: OrderedDict[tuple[int, str], bytes] = OrderedDict()
            self._base: Any = None  # the pattern, made with the first frame
            if old is None:
                self._frozen: int | None = None
                self._frozen_at = 0.0  # when the frozen frame was set
                self._t0 = time.monotonic()
                self._wall0 = time.time()
            elif frozen:
                self._frozen = frame
            else:
                self._frozen = None
                self._restart_at(frame, time.monotonic())
        self._render_lock = getattr(self, "_render_lock", threading.Lock())

    # -- the frame clock -------------------------------------------------------------
    def _frame_now(self, now: float) -> tuple[int, bool]:
        """The frame showing now, and whether it is frozen; locked."""
        if self._frozen is not None:
            return self._frozen, True
        return int(math.floor((now - self._t0) * self._s["frame_rate"])), False

    def _restart_at(self, frame: int, now: float) -> None:
        """Run on from ``frame``, which begins now; locked."""
        self._t0 = now - frame / self._s["frame_rate"]
        self._wall0 = time.time() - (now - self._t0)

    def _captured_at(self, frame: int) -> float:
        """When ``frame`` began, in seconds since the epoch; locked."""
        return self._wall0 + frame / self._s["frame_rate"]

    # -- the API ---------------------------------------------------------------------
    def get_images(self, filter_source_names: Sequence[str] | None = None, *, extra: Extra = None) -> Images:
        self._check_open()
        mime = (extra or {}).get("mime_type") or self._s["mime_type"]
        if mime not in MIME_TYPES:
            raise InvalidArgumentError(f"camera {self.name!r} makes {', '.join(MIME_TYPES)}, not {mime!r}; "
                                       'pass extra={"mime_type": "image/png"} or leave it out')
        if filter_source_names:
            names = list(filter_source_names)
            if any(not isinstance(n, str) for n in names):
                raise InvalidArgumentError(f"filter_source_names must be a list of names, got {names!r}")
            if self.name not in names:
                raise InvalidArgumentError(f"camera {self.name!r} has no source {names[0]!r}; its one source is "
                                           f"{self.name!r}")
        with self._lock:
            frame, frozen = self._frame_now(time.monotonic())
            s = self._s
            cached = self._cache.get((frame, mime))
            captured = self._captured_at(frame) if not frozen else self._frozen_at
        if cached is None:
            cached = self._render(frame, mime, s)
            with self._lock:
                if self._s is s:
                    self._cache[(frame, mime)] = cached
                    while len(self._cache) > CACHED_FRAMES:
                        self._cache.popitem(last=False)
        return Images([NamedImage(self.name, cached, mime)], captured)

    def get_point_cloud(self, *, extra: Extra = None) -> PointCloud:
        self._check_open()
        with self._lock:
            frame, _ = self._frame_now(time.monotonic())
        return PointCloud(point_cloud_pcd(frame), PCD)

    def get_properties(self) -> CameraProperties:
        self._check_open()
        s = self._s
        return CameraProperties(True, s["intrinsic_parameters"], s["distortion_parameters"], list(MIME_TYPES),
                                s["frame_rate"])

    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """``{"freeze": bool}``, ``{"step": n}`` or ``{"frame": n}``; answers ``{"frame", "frozen"}``."""
        self._check_open()
        if len(command) != 1 or next(iter(command)) not in ("freeze", "step", "frame"):
            raise self._unknown_command(command, 'freeze ({"freeze": true}), step ({"step": 1}), frame ({"frame": 0})')
        key, value = next(iter(command.items()))
        if key == "freeze" and not isinstance(value, bool):
            raise InvalidArgumentError(f"freeze must be true or false, got {value!r}")
        if key in ("step", "frame"):
            if value is None and key == "step":
                value = 1
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
                raise InvalidArgumentError(f"{key} must be a whole number of frames, got {value!r}")
            value = int(value)
        self._record("do_command", command=dict(command))
        with self._lock:
            now = time.monotonic()
            frame, frozen = self._frame_now(now)
            if key == "freeze":
                if value and not frozen:
                    self._frozen, self._frozen_at = frame, self._captured_at(frame)
                elif not value and frozen:
                    self._frozen = None
                    self._restart_at(frame, now)
            else:
                target = frame + value if key == "step" else value
                if target < 0:
                    raise InvalidArgumentError(f"frame {target} is before the first frame (0)")
                self._frozen, self._frozen_at = target, time.time()
            frame, frozen = self._frame_now(now)
        return {"frame": frame, "frozen": frozen}

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            frame, frozen = self._frame_now(time.monotonic())
            s = self._s
        return {"frame": frame, "frozen": frozen, "width_px": s["width_px"], "height_px": s["height_px"],
                "frame_rate": s["frame_rate"], "mime_type": s["mime_type"]}

    # -- rendering -------------------------------------------------------------------
    def _render(self, frame: int, mime: str, s: dict[str, Any]) -> bytes:
        """Frame ``frame`` of the pattern, encoded as ``mime`` (Pillow is imported here)."""
        from PIL import ImageDraw

        width, height = s["width_px"], s["height_px"]
        with self._render_lock:
            if self._base is None or self._base.size != (2 * width, height):
                self._base = _pattern(width, height, s["noise"])
            base = self._base
        shift = (frame * max(1, width // 80)) % width
        image = base.crop((shift, 0, shift + width, height))
        draw = ImageDraw.Draw(image)
        label = f"{self.name} frame {frame}"
        draw.rectangle((4, 4, 12 + 6 * len(label), 20), fill=(0, 0, 0))
        draw.text((8, 6), label, fill=(255, 255, 255))
        out = io.BytesIO()
        if mime == JPEG:
            image.save(out, "JPEG", quality=s["jpeg_quality"])
        else:
            image.save(out, "PNG", compress_level=1)
        return out.getvalue()


def _pattern(width: int, height: int, noise: float = 0.0) -> Any:
    """Two periods of the pattern side by side (``2*width`` wide), so any crop of ``width``
    columns is one frame: colour bars over the top two thirds, a grey ramp below, and a
    grain of ``noise`` grey levels over it all."""
    from PIL import Image, ImageChops, ImageDraw

    base = Image.new("RGB", (2 * width, height))
    draw = ImageDraw.Draw(base)
    bars_h = max(1, height * 2 // 3)
    for i in range(2 * len(BARS)):
        x0, x1 = round(i * width / len(BARS)), round((i + 1) * width / len(BARS)) - 1
        if x1 >= x0:
            draw.rectangle((x0, 0, x1, bars_h - 1), fill=BARS[i % len(BARS)])
    ramp = Image.linear_gradient("L").rotate(90).resize((width, height - bars_h)).convert("RGB")
    if ramp.height:
        base.paste(ramp, (0, bars_h))
        base.paste(ramp, (width, bars_h))
    if noise:
        grain = Image.effect_noise((width, height), noise).convert("RGB")
        tiled = Image.new("RGB", base.size)
        tiled.paste(grain, (0, 0))
        tiled.paste(grain, (width, 0))
        base = ImageChops.add(base, tiled, 1.0, -128)
    return base


_POINT = struct.Struct("<fffI")


def point_cloud_pcd(frame: int) -> bytes:
    """A PCD file (v0.7, ``DATA binary``; x, y, z in metres, rgb packed ``0x00RRGGBB``) of a
    rippled sheet in front of the camera whose ripple moves with ``frame``."""
    cols, rows = CLOUD_GRID
    body = bytearray()
    for r in range(rows):
        for c in range(cols):
            x = (c / (cols - 1) - 0.5) * CLOUD_SPAN_M
            y = (r / (rows - 1) - 0.5) * CLOUD_SPAN_M * rows / cols
            z = CLOUD_DEPTH_M + 0.05 * math.sin(2 * math.pi * (c / cols + frame / 30.0))
            red, green, blue = BARS[c * len(BARS) // cols]
            body += _POINT.pack(x, y, z, (red << 16) | (green << 8) | blue)
    n = cols * rows
    header = ("# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS x y z rgb\nSIZE 4 4 4 4\n"
              f"TYPE F F F U\nCOUNT 1 1 1 1\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA binary\n")
    return header.encode("ascii") + bytes(body)
