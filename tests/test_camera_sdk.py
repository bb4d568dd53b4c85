"""The official viam-sdk camera client against viamlite: the demo machine's ``camera1``, a
camera on a remote part under a prefix, and a webcam whose device is missing."""
from __future__ import annotations

import io
import struct
import time
from typing import Any

import pytest

viam = pytest.importorskip("viam", reason="the viam-sdk test dependency is not installed (pip install -e .[test])")

from PIL import Image  # noqa: E402
from viam.components.camera import Camera  # noqa: E402
from viam.components.servo import Servo  # noqa: E402
from viam.media.video import CameraMimeType  # noqa: E402
from viam.robot.client import RobotClient  # noqa: E402

from .peers import run_viam_sdk  # noqa: E402


def parse_pcd(data: bytes) -> tuple[dict[str, list[str]], list[tuple[float, ...]]]:
    """A binary PCD file's header and its points (x, y, z, rgb)."""
    header: dict[str, list[str]] = {}
    offset = 0
    while True:
        end = data.index(b"\n", offset)
        line = data[offset:end].decode("ascii")
        offset = end + 1
        if line.startswith("#"):
            continue
        key, *values = line.split()
        header[key] = values
        if key == "DATA":
            break
    assert header["DATA"] == ["binary"] and header["FIELDS"] == ["x", "y", "z", "rgb"]
    n = int(header["POINTS"][0])
    size = sum(int(s) for s in header["SIZE"])
    body = data[offset:]
    assert len(body) == n * size, (len(body), n, size)
    return header, list(struct.iter_unpack("<fffI", body))


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_get_images_properties_point_cloud_and_commands_through_the_sdk(demo_server: Any) -> None:
    async def body(robot: RobotClient) -> Any:
        camera = Camera.from_robot(robot, "camera1")
        before = time.time()
        images, metadata = await camera.get_images()
        png, _ = await camera.get_images(extra={"mime_type": "image/png"})
        only, _ = await camera.get_images(filter_source_names=["camera1"])
        props = await camera.get_properties()
        cloud, cloud_mime = await camera.get_point_cloud()
        frozen = await camera.do_command({"freeze": True})
        a, meta_a = await camera.get_images()
        b, meta_b = await camera.get_images()
        stepped = await camera.do_command({"step": 2})
        c, _ = await camera.get_images()
        back = await camera.do_command({"frame": frozen["frame"]})
        d, _ = await camera.get_images()
        await camera.do_command({"freeze": False})
        status = await camera.get_status()
        return (before, images, metadata, png, only, props, cloud, cloud_mime, frozen, a, meta_a, b, meta_b,
                stepped, c, back, d, status)

    (before, images, metadata, png, only, props, cloud, cloud_mime, frozen, a, meta_a, b, meta_b, stepped, c, back,
     d, status) = run_viam_sdk(demo_server.address, body)

    assert len(images) == 1 and images[0].name == "camera1" and images[0].mime_type == CameraMimeType.JPEG
    jpeg = decode(images[0].data)
    assert (jpeg.format, jpeg.size) == ("JPEG", (640, 480))
    assert (images[0].width, images[0].height) == (640, 480)  # the SDK reads the size from the JPEG too
    assert metadata.HasField("captured_at")
    assert before - 1.0 <= metadata.captured_at.ToDatetime().timestamp() <= time.time() + 1.0
    assert png[0].mime_type == CameraMimeType.PNG
    assert (decode(png[0].data).format, decode(png[0].data).size) == ("PNG", (640, 480))
    assert [i.name for i in only] == ["camera1"]

    assert props.supports_pcd and list(props.mime_types) == ["image/jpeg", "image/png"]
    assert props.frame_rate == pytest.approx(30.0)
    i = props.intrinsic_parameters
    assert (i.width_px, i.height_px, i.center_x_px, i.center_y_px) == (640, 480, 320.0, 240.0)
    assert i.focal_x_px > 0 and i.focal_y_px > 0

    assert cloud_mime == "pointcloud/pcd"
    header, points = parse_pcd(cloud)
    assert len(points) == int(header["WIDTH"][0]) * int(header["HEIGHT"][0]) == 768
    assert all(1.5 < z < 2.5 for _, _, z, _ in points)  # a sheet 2 m in front of the camera

    # frozen: the same bytes and capture time every call; a step changes them; going back repeats them
    assert frozen["frozen"] is True
    assert a[0].data == b[0].data and meta_a.captured_at == meta_b.captured_at
    assert stepped == {"frame": frozen["frame"] + 2, "frozen": True}
    assert c[0].data != a[0].data
    assert back["frame"] == frozen["frame"] and d[0].data == a[0].data
    assert status["frozen"] is False and status["width_px"] == 640


def test_bad_requests_answer_a_status_naming_the_fix(demo_server: Any) -> None:
    from grpclib.exceptions import GRPCError

    async def body(robot: RobotClient) -> Any:
        camera = Camera.from_robot(robot, "camera1")
        errors = []
        for call in (lambda: camera.get_images(filter_source_names=["nope"]),
                     lambda: camera.get_images(extra={"mime_type": "image/bmp"}),
                     lambda: camera.do_command({"warp": 9})):
            try:
                await call()
            except GRPCError as exc:
                errors.append((exc.status.name, exc.message))
        images, _ = await camera.get_images()  # still serving
        return errors, len(images)

    errors, served = run_viam_sdk(demo_server.address, body)
    assert [code for code, _ in errors] == ["INVALID_ARGUMENT"] * 3, errors
    assert "no source 'nope'" in errors[0][1] and "'camera1'" in errors[0][1]
    assert "image/png" in errors[1][1]
    assert "freeze" in errors[2][1]
    assert served == 1


def test_a_camera_on_a_remote_part_under_a_prefix(served_machine: Any, wait_for: Any) -> None:
    part = served_machine({"components": [{"name": "camera", "api": "rdk:component:camera", "model": "fake",
                                           "attributes": {"width_px": 320, "height_px": 240, "frame_rate": 15}}]})
    main = served_machine({"remotes": [{"name": "line-cam-3", "address": part.grpc_address, "prefix": "line-cam-3-",
                                        "insecure": True, "reconnect_interval": "200ms"}]})
    camera_api = part["camera"].API
    wait_for(lambda: main.machine.remotes.lookup(camera_api, "line-cam-3-camera"), "the remote's camera to be listed")

    async def body(robot: RobotClient) -> Any:
        camera = Camera.from_robot(robot, "line-cam-3-camera")
        await camera.do_command({"frame": 7})
        images, metadata = await camera.get_images()
        props = await camera.get_properties()
        cloud, mime = await camera.get_point_cloud()
        return images, metadata, props, cloud, mime

    images, metadata, props, cloud, mime = run_viam_sdk(main.grpc_address, body)
    assert images[0].name == "camera"  # the source is named by the part that has the camera
    assert decode(images[0].data).size == (320, 240) and images[0].mime_type == CameraMimeType.JPEG
    assert metadata.HasField("captured_at")
    assert props.intrinsic_parameters.width_px == 320 and props.frame_rate == pytest.approx(15.0)
    assert mime == "pointcloud/pcd" and len(parse_pcd(cloud)[1]) == 768
    # the very frame the command chose, on the part itself
    assert part["camera"].get_status()["frame"] == 7
    assert part["camera"].get_images().images[0].data == images[0].data


def test_a_webcam_whose_device_is_missing_is_unhealthy_and_the_rest_serves(serve: Any, tmp_path: Any) -> None:
    device = tmp_path / "video7"
    proc = serve({"components": [
        {"name": "cam", "api": "rdk:component:camera", "model": "webcam",
         "attributes": {"video_path": str(device), "width_px": 640, "height_px": 480, "frame_rate": 30}},
        {"name": "camera1", "api": "rdk:component:camera", "model": "fake"},
        {"name": "servo1", "api": "rdk:component:servo", "model": "fake"}]})

    async def body(robot: RobotClient) -> Any:
        from grpclib.exceptions import GRPCError

        status = await robot.get_machine_status()
        states = {r.name.name: (r.state, r.error) for r in status.resources}
        await Servo.from_robot(robot, "servo1").move(40)
        images, _ = await Camera.from_robot(robot, "camera1").get_images()
        try:
            await Camera.from_robot(robot, "cam").get_images()
            failed = None
        except GRPCError as exc:
            failed = (exc.status.name, exc.message)
        return status, states, len(images), failed

    status, states, served, failed = run_viam_sdk(proc.address, body)
    state, error = states["cam"]
    assert state == status.resources[0].STATE_UNHEALTHY
    assert str(device) in error and "does not exist" in error
    assert "ls /dev/video*" in error or "v4l2-ctl --list-devices" in error  # what to do about it
    assert states["camera1"][0] == states["servo1"][0] == status.resources[0].STATE_READY
    assert served == 1
    assert failed is not None and failed[0] == "UNAVAILABLE", failed
    assert str(device) in failed[1]


# -- a viam-sdk server's camera as the peer ----------------------------------------------------

SDK_CAMERA_SERVER = '''
import asyncio, io, sys
from PIL import Image
from viam.components.camera import Camera
from viam.media.video import CameraMimeType, NamedImage
from viam.proto.common import ResponseMetadata
from viam.proto.component.camera import IntrinsicParameters
from viam.rpc.server import Server

class SdkCamera(Camera):
    async def get_images(self, *, filter_source_names=None, extra=None, timeout=None, **kwargs):
        out = io.BytesIO()
        Image.new("RGB", (32, 24), (0, 128, 255)).save(out, "PNG")
        metadata = ResponseMetadata()
        metadata.captured_at.FromSeconds(1_700_000_000)
        return [NamedImage("color", out.getvalue(), CameraMimeType.PNG)], metadata

    async def get_point_cloud(self, *, extra=None, timeout=None, **kwargs):
        return b"# .PCD v0.7\\nFIELDS x y z\\nPOINTS 0\\nDATA binary\\n", CameraMimeType.PCD

    async def get_properties(self, *, timeout=None, **kwargs):
        return Camera.Properties(supports_pcd=True, mime_types=["image/png"], frame_rate=12.5,
                                 intrinsic_parameters=IntrinsicParameters(width_px=32, height_px=24, focal_x_px=30,
                                                                          focal_y_px=30, center_x_px=16,
                                                                          center_y_px=12))

    async def get_geometries(self, *, extra=None, timeout=None, **kwargs):
        return []

async def main():
    await Server(resources=[SdkCamera("line-cam")]).serve(host="127.0.0.1", port=int(sys.argv[1]), log_level=40)

asyncio.run(main())
'''


@pytest.fixture
def sdk_camera_server() -> Any:
    import subprocess
    import sys

    from .peers import free_port, wait_listening

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SDK_CAMERA_SERVER, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        yield f"127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_viamlite_client_and_a_remote_part_read_a_viam_sdk_servers_camera(sdk_camera_server: str,
                                                                         served_machine: Any, wait_for: Any) -> None:
    import viamlite
    from viamlite.components.camera import Camera as LiteCamera

    with viamlite.connect(sdk_camera_server) as client:
        camera = LiteCamera.from_robot(client, "line-cam")
        images, captured_at = camera.get_images()
        props = camera.get_properties()
        cloud = camera.get_point_cloud()
    assert [(i.name, i.mime_type) for i in images] == [("color", "image/png")]
    assert decode(images[0].data).size == (32, 24) and captured_at == 1_700_000_000
    assert props.frame_rate == 12.5 and props.intrinsic_parameters.center_x_px == 16 and props.supports_pcd
    assert cloud.mime_type == "pointcloud/pcd" and cloud.data.startswith(b"# .PCD")

    # seed 001's example: the camera of a remote part under a prefix, through the official SDK
    main = served_machine({"remotes": [{"name": "line-cam-3", "address": sdk_camera_server, "prefix": "line-cam-3-",
                                        "insecure": True, "reconnect_interval": "200ms"}]})
    wait_for(lambda: main.machine.remotes.lookup(LiteCamera.API, "line-cam-3-line-cam"), "the remote camera")

    async def body(robot: RobotClient) -> Any:
        camera = Camera.from_robot(robot, "line-cam-3-line-cam")
        return await camera.get_images(), await camera.get_properties()

    (sdk_images, metadata), sdk_props = run_viam_sdk(main.grpc_address, body)
    assert sdk_images[0].name == "color" and sdk_images[0].data == images[0].data
    assert metadata.captured_at.seconds == 1_700_000_000 and sdk_props.frame_rate == 12.5
