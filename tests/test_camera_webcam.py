"""``rdk:builtin:webcam`` on a machine without a camera: what it says when the device is missing
or is not a camera (real linuxpy calls), its config errors, the background reader, and the
model over a frame source standing in for the V4L2 device (the HIL scenario
``hil/scenarios/test_camera.py`` runs it on a real camera)."""
from __future__ import annotations

import errno
import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("linuxpy", reason="the webcam model needs linuxpy (pip install -e .[webcam])")

from viamlite_plugins.webcam import device as webcam_device  # noqa: E402
from viamlite_plugins.webcam.device import CaptureSettings, WebcamError, open_capture, resolve  # noqa: E402
from viamlite_plugins.webcam.reader import LatestFrame  # noqa: E402

from viamlite.components.camera import JPEG, Camera  # noqa: E402
from viamlite.errors import ConfigError, NotSupportedError, UnhealthyResourceError  # noqa: E402
from viamlite.machine import Machine  # noqa: E402
from viamlite.reconnect import Backoff  # noqa: E402


def settings(path: str | None) -> CaptureSettings:
    return CaptureSettings(path, 640, 480, 30.0, "MJPG")


def jpeg(n: int, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (n % 256, 0, 0)).save(out, "JPEG")
    return out.getvalue()


def webcam(name: str = "cam", **attributes: Any) -> dict[str, Any]:
    return {"name": name, "api": "rdk:component:camera", "model": "rdk:builtin:webcam", "attributes": attributes}


# -- opening a device (real linuxpy) ------------------------------------------------------------


def test_a_missing_device_names_it_and_how_to_find_the_cameras(tmp_path: Path) -> None:
    with pytest.raises(WebcamError) as info:
        open_capture(settings(str(tmp_path / "video9")))
    text = str(info.value)
    assert f"webcam {tmp_path / 'video9'} does not exist" in text and "v4l2-ctl --list-devices" in text
    assert isinstance(info.value, UnhealthyResourceError)


def test_a_file_that_is_not_a_camera_says_so() -> None:
    with pytest.raises(WebcamError, match=r"/dev/null is not a V4L2 video device \(ENOTTY"):
        open_capture(settings("/dev/null"))


def test_video_path_forms(tmp_path: Path) -> None:
    assert resolve("/dev/video3") == "/dev/video3"
    assert resolve("video2", tmp_path) == str(tmp_path / "video2")
    with pytest.raises(WebcamError, match="no camera labelled 'HD Pro Webcam C920'; capture devices: none"):
        resolve("HD Pro Webcam C920", tmp_path)
    with pytest.raises(WebcamError, match=f"no video capture device under {tmp_path}"):
        resolve(None, tmp_path)


@pytest.mark.parametrize(("code", "words"), [
    (errno.EBUSY, "is busy: another program has it open (fuser -v /dev/video0"),
    (errno.ENODEV, "is gone or not answering"),
    (errno.EINVAL, "could not be opened: EINVAL"),
])
def test_busy_and_vanished_devices_say_what_to_do(code: int, words: str) -> None:
    assert words in str(webcam_device._open_error("/dev/video0", OSError(code, "x")))


def test_a_machine_without_a_camera_serves_the_rest(tmp_path: Path) -> None:
    with Machine.from_config({"components": [webcam("cam", video_path=str(tmp_path / "video0")),
                                             {"name": "s", "api": "rdk:component:servo", "model": "fake"}]}) as m:
        states = {r.name.name: (r.state, r.error) for r in m.get_machine_status().resources}
        assert states["s"] == ("ready", "")
        assert states["cam"][0] == "unhealthy" and "does not exist: is the camera plugged in?" in states["cam"][1]
        with pytest.raises(UnhealthyResourceError, match="video0 does not exist"):
            Camera.from_robot(m, "cam")


@pytest.mark.parametrize(("attributes", "path", "fix"), [
    ({"format": "YUYV"}, "attributes.format", "MJPG"),
    ({"width_px": -1}, "attributes.width_px", ">= 0"),
    ({"frame_rate": 0}, "attributes.frame_rate", "> 0"),
    ({"video_path": 3}, "attributes.video_path", "name"),
    ({"intrinsic_parameters": {"fx": 1}}, "attributes.intrinsic_parameters.width_px", "ppy"),
])
def test_config_errors_name_the_attribute(attributes: dict[str, Any], path: str, fix: str) -> None:
    with pytest.raises(ConfigError) as info:
        Machine.from_config({"components": [webcam(**attributes)]})
    assert path in str(info.value) and fix in str(info.value), str(info.value)


# -- the background reader ------------------------------------------------------------------------


class Source:
    """Frames as a camera sends them, ``rate`` a second; ``unplug()`` makes the next read fail."""

    def __init__(self, rate: float = 200.0, start: int = 0) -> None:
        self.n = start
        self.period = 1.0 / rate
        self.unplugged = threading.Event()
        self.closed = False

    def read(self, timeout: float) -> bytes | None:
        if self.unplugged.is_set():
            raise WebcamError("webcam /dev/video0 stopped sending frames: ENODEV")
        time.sleep(self.period)
        self.n += 1
        return jpeg(self.n)

    def close(self) -> None:
        self.closed = True


def test_the_reader_keeps_the_newest_frame() -> None:
    source = Source()
    reader = LatestFrame("cam", source, lambda: pytest.fail("no reopen expected"))
    try:
        first = reader.latest(2.0)
        time.sleep(0.1)
        newer = reader.latest(2.0)
        assert newer.seq > first.seq and newer.captured_at > first.captured_at
        assert newer.data == jpeg(newer.seq)  # the bytes as the source sent them
    finally:
        reader.close()
    assert source.closed


def test_the_reader_reopens_an_unplugged_camera_with_backoff() -> None:
    first = Source()
    replugged: list[Source] = []
    attempts = {"n": 0}

    def reopen() -> Source:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise WebcamError("webcam /dev/video0 does not exist: is the camera plugged in?")
        replugged.append(Source(start=1000))
        return replugged[-1]

    reader = LatestFrame("cam", first, reopen, backoff=Backoff(0.01, 0.05))
    try:
        reader.latest(2.0)
        first.unplugged.set()
        deadline = time.monotonic() + 5
        while not reader.error and time.monotonic() < deadline:
            time.sleep(0.005)
        assert "does not exist" in reader.error or "stopped sending" in reader.error
        deadline = time.monotonic() + 5
        while not replugged and time.monotonic() < deadline:
            time.sleep(0.01)
        frame = reader.latest(2.0)
        assert frame.data == jpeg(replugged[0].n) or frame.data in {jpeg(n) for n in range(1001, replugged[0].n + 1)}
        assert first.closed and reader.reopens == 1 and attempts["n"] == 3 and reader.error == ""
    finally:
        reader.close()


# -- the model over a frame source ------------------------------------------------------------------


@pytest.fixture
def plugged(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """``open_capture`` gives a frame source with the shape of a device's Capture."""
    from viamlite_plugins.webcam import camera as webcam_camera

    opened: list[Any] = []

    def open_source(s: CaptureSettings) -> Any:
        source = Source(rate=100)
        source.path, source.width, source.height = s.video_path, s.width_px, s.height_px
        source.pixel_format, source.frame_rate, source.label = "MJPG", s.frame_rate, "test camera"
        opened.append(source)
        return source

    monkeypatch.setattr(webcam_camera, "open_capture", open_source)
    yield opened


def test_the_model_serves_frames_as_the_camera_sent_them(plugged: list[Any], served_machine: Any) -> None:
    intrinsics = {"width_px": 64, "height_px": 48, "fx": 60, "fy": 60, "ppx": 32, "ppy": 24}
    served = served_machine({"components": [webcam("cam", video_path="/dev/video0", width_px=64, height_px=48,
                                                   frame_rate=25, intrinsic_parameters=intrinsics)]})
    camera = Camera.from_robot(served.client(), "cam")
    images, captured_at = camera.get_images()
    assert [(i.name, i.mime_type) for i in images] == [("cam", JPEG)]
    assert images[0].data in {jpeg(n) for n in range(1, plugged[0].n + 1)}  # passed through, not re-encoded
    assert abs(captured_at - time.time()) < 5
    props = camera.get_properties()
    assert (props.supports_pcd, props.mime_types, props.frame_rate) == (False, [JPEG], 25.0)
    assert props.intrinsic_parameters.focal_x_px == 60
    with pytest.raises(NotSupportedError, match="no depth"):
        camera.get_point_cloud()
    status = camera.get_status()
    assert status["device"] == "/dev/video0" and status["format"] == "MJPG" and status["frames"] >= 1
    served.machine.close()
    assert plugged[0].closed


def test_the_camera_hil_scenarios_skip_on_a_rig_without_a_camera(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "hil.plugin", "hil/camera", "--rig",
                           str(root / "hil" / "rigs" / "sim.json"), "--hil-out", str(tmp_path), "-q", "-rs",
                           "-p", "no:cacheprovider"], cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "4 skipped" in proc.stdout and 'has no camera: add a "camera" block' in proc.stdout, proc.stdout[-2000:]
