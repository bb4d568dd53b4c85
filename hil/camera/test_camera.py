"""HIL scenarios for a rig with a camera: ``rdk:builtin:webcam`` on a real V4L2 device.

    python -m pytest -p hil.plugin hil/camera --rig hil/rigs/camera.json

The rig file's ``camera`` block holds the webcam's attributes (as in a viam-server config).
Each scenario records its figures (size, frame rate measured, call latency) in the HIL
record. CI has no camera; there the same code paths run against the fake camera
(tests/test_camera*.py).
"""
from __future__ import annotations

import io
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest

from hil.rig import RigFile

WEBCAM = "rdk:builtin:webcam"


def _config(rigfile: RigFile, *names: str) -> dict[str, Any]:
    camera = rigfile["camera"]
    if not camera:
        pytest.skip(f"rig {rigfile.name} has no camera: add a \"camera\" block (see hil/rigs/camera.json)")
    return {"components": [{"name": n, "api": "rdk:component:camera", "model": WEBCAM, "attributes": dict(camera)}
                           for n in names]}


@pytest.fixture
def served(rigfile: RigFile) -> Iterator[Any]:
    """The rig's webcam on a machine served over gRPC and the fast path on loopback."""
    from viamlite.testing.plugin import ServedMachine

    machine = ServedMachine(_config(rigfile, "cam"))
    try:
        yield machine
    finally:
        machine.close()


def _decode(data: bytes) -> Any:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_webcam_is_healthy_and_sends_jpeg_at_its_size(served: Any, rigfile: RigFile, hil_figures: dict) -> None:
    status = {r.name.name: r for r in served.machine.get_machine_status().resources}["cam"]
    assert status.state == "ready", status.error
    from viamlite.components.camera import Camera

    camera = Camera.from_robot(served.machine, "cam")
    images, captured_at = camera.get_images()
    image = _decode(images[0].data)
    assert images[0].mime_type == "image/jpeg" and image.format == "JPEG"
    assert images[0].data[:2] == b"\xff\xd8"  # the camera's own JPEG, served as it came
    assert abs(time.time() - captured_at) < 2.0
    want = (rigfile["camera"].get("width_px"), rigfile["camera"].get("height_px"))
    if all(want):
        assert image.size == want, f"the camera chose {image.size}, the rig asked for {want}"
    hil_figures.update(size=list(image.size), bytes=len(images[0].data), status=camera.get_status())


def test_frame_rate_through_a_fast_path_subscription(served: Any, rigfile: RigFile, hil_figures: dict) -> None:
    rate = float(rigfile["camera"].get("frame_rate", 30))
    fp = served.fastpath()
    stamps, samples, t0 = set(), 0, time.monotonic()
    for sample in fp.subscribe("cam", "get_images", rate_hz=rate):
        samples += 1
        stamps.add(sample.value[1])
        if time.monotonic() - t0 >= 3.0:
            break
    measured = len(stamps) / (time.monotonic() - t0)
    hil_figures.update(asked_fps=rate, delivered_samples=samples, distinct_frames_per_s=round(measured, 1))
    assert measured >= 0.7 * rate, f"{measured:.1f} new frames/s, the camera was asked for {rate:g}"


def test_viam_sdk_client_gets_the_frames(served: Any, hil_figures: dict) -> None:
    viam = pytest.importorskip("viam", reason="the viam-sdk is not installed (pip install -e .[test])")
    del viam
    import asyncio

    from viam.components.camera import Camera
    from viam.robot.client import RobotClient
    from viam.rpc.dial import DialOptions

    async def main() -> Any:
        opts = RobotClient.Options(dial_options=DialOptions(insecure=True, disable_webrtc=True))
        robot = await RobotClient.at_address(served.grpc_address, opts)
        try:
            camera = Camera.from_robot(robot, "cam")
            times = []
            for _ in range(30):
                t = time.perf_counter()
                images, _ = await camera.get_images()
                times.append(time.perf_counter() - t)
            return images, times, await camera.get_properties()
        finally:
            await robot.close()

    images, times, props = asyncio.run(main())
    assert _decode(images[0].data).format == "JPEG" and not props.supports_pcd
    hil_figures.update(get_images_median_ms=round(statistics.median(times) * 1000, 2))


def test_a_busy_camera_is_unhealthy_with_the_fix(rigfile: RigFile) -> None:
    from viamlite.machine import Machine

    with Machine.from_config(_config(rigfile, "first", "second")) as machine:
        states = {r.name.name: r for r in machine.get_machine_status().resources}
        assert states["first"].state == "ready", states["first"].error
        assert states["second"].state == "unhealthy"
        assert "busy" in states["second"].error and "fuser" in states["second"].error, states["second"].error
