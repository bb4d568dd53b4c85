"""Opening a V4L2 capture device with linuxpy, and what to say when it cannot be opened.

:func:`open_capture` finds the device named by ``video_path`` (``video0``, ``/dev/video0``,
or the camera's label as ``v4l2-ctl --list-devices`` shows it), sets MJPEG at the size and
frame rate asked for, starts streaming and returns a :class:`Capture` whose ``read`` gives
one frame's bytes as the camera sent them. Every failure is a :class:`WebcamError` naming
the device tried and the fix.
"""
from __future__ import annotations

import errno
import os
import select
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viamlite.errors import UnhealthyResourceError

LIST = "ls /dev/video* or v4l2-ctl --list-devices lists the cameras"
#: Pixel formats whose frames are JPEG images already (served as they come).
JPEG_FORMATS = ("MJPG", "JPEG")


class WebcamError(UnhealthyResourceError):
    """The camera could not be opened or stopped sending frames; the message says why and what to do."""


@dataclass(frozen=True)
class CaptureSettings:
    video_path: str | None
    width_px: int  # 0: the device's current width
    height_px: int
    frame_rate: float
    format: str  # a fourcc: MJPG or JPEG


def resolve(video_path: str | None, dev: Path = Path("/dev")) -> str:
    """The device file for ``video_path``: ``video0`` is ``/dev/video0``; a path is itself;
    anything else is a camera's label, looked up among the capture devices. None: the first
    capture device."""
    if video_path and (video_path.startswith("/") or os.sep in video_path):
        return video_path
    if video_path and (dev / video_path).exists():
        return str(dev / video_path)
    if video_path and video_path.startswith("video") and video_path[5:].isdigit():
        return str(dev / video_path)  # does not exist: opening it says so
    from linuxpy.video.device import iter_video_capture_files

    files = sorted(str(f) for f in iter_video_capture_files(dev))
    if video_path is None:
        if not files:
            raise WebcamError(f"no video capture device under {dev}: is the camera plugged in? ({LIST})")
        return files[0]
    labels = []
    for path in files:
        label = _label(path)
        labels.append(f"{path} ({label})")
        if label == video_path:
            return path
    found = ", ".join(labels) or "none"
    raise WebcamError(f"no camera labelled {video_path!r}; capture devices: {found}. Set video_path to one of "
                      f"them ({LIST})")


def _label(path: str) -> str:
    from linuxpy.video.device import Device

    try:
        with Device(path) as device:
            return device.info.card
    except OSError:
        return "?"


class Capture:
    """An open, streaming capture device. ``read(timeout)`` is one frame's bytes (None when
    no frame came within ``timeout`` seconds); ``close`` stops streaming and closes it."""

    def __init__(self, path: str, device: Any, stream: Any, width: int, height: int, pixel_format: str,
                 frame_rate: float | None, label: str) -> None:
        self.path = path
        self.width = width
        self.height = height
        self.pixel_format = pixel_format
        self.frame_rate = frame_rate
        self.label = label
        self._device = device
        self._stream = stream
        self._source = stream.buffer

    def read(self, timeout: float) -> bytes | None:
        try:
            ready, _, _ = select.select((self._device,), (), (), timeout)
            if not ready:
                return None
            frame = self._source.raw_read()
            return bytes(frame)
        except BlockingIOError:  # woken with no buffer ready after all
            return None
        except (OSError, ValueError) as exc:
            raise WebcamError(f"webcam {self.path} stopped sending frames: {_reason(exc)}; is it still plugged "
                              f"in? ({LIST})") from exc

    def close(self) -> None:
        for step in (self._stream.close, self._device.close):
            try:
                step()
            except (OSError, ValueError):
                pass  # unplugged already: nothing left to release


def open_capture(settings: CaptureSettings) -> Capture:
    """Open and start the device ``settings`` names; WebcamError with the fix when it cannot."""
    try:
        from linuxpy.video.device import BufferType, Capability, Device, VideoCapture
    except ImportError as exc:
        raise WebcamError(f"the webcam model needs linuxpy ({exc}); install it: pip install 'viamlite[webcam]'") \
            from exc
    path = resolve(settings.video_path)
    device = Device(path)
    try:
        device.open()
    except FileNotFoundError:
        raise WebcamError(f"webcam {path} does not exist: is the camera plugged in? {LIST}; set video_path to "
                          "one of them") from None
    except PermissionError:
        raise WebcamError(f"no permission to open webcam {path}: add this user to the video group "
                          "(sudo usermod -aG video $USER, then log in again)") from None
    except OSError as exc:
        raise _open_error(path, exc) from exc
    stream = None
    try:
        try:
            caps = device.info.device_capabilities
        except OSError as exc:
            raise WebcamError(f"{path} is not a V4L2 video device ({_reason(exc)}); {LIST}; set video_path to a "
                              "camera") from None
        if Capability.VIDEO_CAPTURE not in caps:
            raise WebcamError(f"{path} cannot capture video (a camera's metadata node, or an output device); "
                              f"{LIST}; cameras usually have two nodes: pick the one that captures")
        offered = sorted({_fourcc(f.pixel_format) for f in device.info.formats
                          if f.type == BufferType.VIDEO_CAPTURE})
        wanted = settings.format
        if wanted not in offered:
            jpeg = [f for f in JPEG_FORMATS if f in offered]
            if not jpeg:
                raise WebcamError(f"webcam {path} offers {', '.join(offered) or 'no formats'}, none of them MJPEG; "
                                  "viamlite serves MJPEG cameras (most USB webcams are); use one of those")
            wanted = jpeg[0]
        current = device.get_format(BufferType.VIDEO_CAPTURE)
        width = settings.width_px or current.width
        height = settings.height_px or current.height
        device.set_format(BufferType.VIDEO_CAPTURE, width, height, wanted)
        fmt = device.get_format(BufferType.VIDEO_CAPTURE)
        if _fourcc(fmt.pixel_format) not in JPEG_FORMATS:
            raise WebcamError(f"webcam {path} did not take {wanted} (it gave {_fourcc(fmt.pixel_format)}); "
                              "use a camera that offers MJPEG")
        rate: float | None = None
        try:
            device.set_fps(BufferType.VIDEO_CAPTURE, settings.frame_rate)
            rate = float(device.get_fps(BufferType.VIDEO_CAPTURE))
        except (OSError, ZeroDivisionError):
            rate = None  # a driver that cannot set its rate runs at its own
        stream = VideoCapture(device, size=4)
        stream.open()
        return Capture(path, device, stream, fmt.width, fmt.height, _fourcc(fmt.pixel_format), rate,
                       device.info.card)
    except WebcamError:
        _close(stream, device)
        raise
    except OSError as exc:
        _close(stream, device)
        raise _open_error(path, exc) from exc


def _open_error(path: str, exc: OSError) -> WebcamError:
    if exc.errno == errno.EBUSY:
        return WebcamError(f"webcam {path} is busy: another program has it open (fuser -v {path} names it); "
                           "stop that program, or set video_path to another camera")
    if exc.errno in (errno.ENODEV, errno.ENXIO, errno.EIO):
        return WebcamError(f"webcam {path} is gone or not answering ({_reason(exc)}): plug the camera in again; "
                           f"{LIST}")
    return WebcamError(f"webcam {path} could not be opened: {_reason(exc)}; {LIST}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"{errno.errorcode.get(exc.errno, exc.errno)}: {os.strerror(exc.errno)}"
    return f"{type(exc).__name__}: {exc}"


def _fourcc(pixel_format: Any) -> str:
    value = int(pixel_format)
    return "".join(chr((value >> (8 * i)) & 0xFF) for i in range(4)).strip()


def _close(stream: Any, device: Any) -> None:
    for step in ((stream.close,) if stream is not None else ()) + (device.close,):
        try:
            step()
        except (OSError, ValueError):
            pass
