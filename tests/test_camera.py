"""The camera API in viamlite: the contract on the fake (in-process, through the gRPC client and
over the fast path), the fake's pattern, clock and commands, Pillow imported only for a frame,
the fast path's binary images and frame-rate subscription, the REPL and ``part run``."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import msgpack
import pytest
from PIL import Image

from viamlite.components.camera import (
    JPEG,
    PCD,
    PNG,
    Camera,
    CameraProperties,
    DistortionParameters,
    Images,
    IntrinsicParameters,
)
from viamlite.errors import ConfigError, InvalidArgumentError, ResourceClosedError
from viamlite.fastpath import schema as S
from viamlite.testing.contracts import CameraCapabilities, CameraContract

from .test_camera_sdk import parse_pcd

FAKE_CAMERA = {"name": "cam", "api": "rdk:component:camera", "model": "rdk:builtin:fake",
               "attributes": {"width_px": 160, "height_px": 120, "frame_rate": 20}}


def size_of(data: bytes) -> tuple[str, tuple[int, int]]:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.format, image.size


# -- the contract, on three ends --------------------------------------------------------------


@pytest.fixture(params=["in-process", "grpc", "fastpath"])
def camera_backend(request: pytest.FixtureRequest, served_machine: Callable[..., Any]) -> Iterator[Any]:
    served = served_machine({"components": [FAKE_CAMERA]})
    if request.param == "in-process":
        yield served["cam"]
    elif request.param == "grpc":
        yield Camera.from_robot(served.client(), "cam")
    else:
        yield Camera.from_robot(served.fastpath(), "cam")


class TestCamera(CameraContract):
    capabilities = CameraCapabilities(size=(160, 120), point_cloud=True, command={"freeze": True})

    @pytest.fixture
    def resource(self, camera_backend: Any) -> Any:
        return camera_backend


# -- the fake ---------------------------------------------------------------------------------


def make(**attributes: Any) -> Any:
    from viamlite_plugins.fake.camera import FakeCamera

    return FakeCamera("cam", {"width_px": 64, "height_px": 48, **attributes})


def test_frames_follow_the_clock_and_repeat_within_a_frame_period() -> None:
    with make(frame_rate=1000) as cam:
        first = cam.get_images()
        time.sleep(0.05)
        later = cam.get_images()
        assert later.captured_at > first.captured_at
        assert later.images[0].data != first.images[0].data
    with make(frame_rate=0.5) as slow:  # a frame lasts 2 s: the same frame twice
        a, b = slow.get_images(), slow.get_images()
        assert a == b and slow.get_status()["frame"] == 0


def test_freeze_step_and_frame_are_deterministic() -> None:
    with make() as cam, make() as twin:
        assert cam.do_command({"frame": 5}) == {"frame": 5, "frozen": True}
        twin.do_command({"frame": 5})
        assert cam.get_images().images[0].data == twin.get_images().images[0].data  # same frame, same bytes
        assert cam.do_command({"step": 3}) == {"frame": 8, "frozen": True}
        assert cam.do_command({"step": -2}) == {"frame": 6, "frozen": True}
        assert cam.get_images().images[0].data != twin.get_images().images[0].data
        assert cam.do_command({"step": None}) == {"frame": 7, "frozen": True}
        assert cam.do_command({"freeze": False}) == {"frame": 7, "frozen": False}  # runs on from where it was
        assert cam.get_status()["frame"] >= 7
        cam.assert_events(("do_command", {"command": {"frame": 5}}), ("do_command", {"command": {"step": 3}}),
                          ("do_command", {"command": {"step": -2}}), ("do_command", {"command": {"step": None}}),
                          ("do_command", {"command": {"freeze": False}}))


@pytest.mark.parametrize(("command", "words"), [
    ({"zoom": 2}, "freeze"), ({"freeze": "yes"}, "true or false"), ({"step": 1.5}, "whole number"),
    ({"frame": -1}, "before the first frame"), ({"freeze": True, "step": 1}, "freeze"),
])
def test_bad_commands_name_the_fix(command: dict[str, Any], words: str) -> None:
    with make() as cam:
        with pytest.raises(InvalidArgumentError, match=words):
            cam.do_command(command)


def test_jpeg_png_and_the_configured_size() -> None:
    with make(mime_type=PNG) as cam:
        image = cam.get_images().images[0]
        assert image.mime_type == PNG and size_of(image.data) == ("PNG", (64, 48))
        image = cam.get_images(extra={"mime_type": JPEG}).images[0]
        assert image.mime_type == JPEG and size_of(image.data) == ("JPEG", (64, 48))
        with pytest.raises(InvalidArgumentError, match="image/png"):
            cam.get_images(extra={"mime_type": "image/gif"})


def test_the_pattern_moves_and_shows_colour_bars() -> None:
    with make(width_px=320, height_px=240, mime_type=PNG) as cam:
        cam.do_command({"frame": 0})
        zero = Image.open(io.BytesIO(cam.get_images().images[0].data)).convert("RGB")
        cam.do_command({"frame": 10})
        ten = Image.open(io.BytesIO(cam.get_images().images[0].data)).convert("RGB")
    # frame 0: the first bar (white) at the left, below the label; the last (black) at the right
    assert zero.getpixel((20, 100)) == (255, 255, 255) and zero.getpixel((310, 100)) == (0, 0, 0)
    assert ten.getpixel((20, 100)) != zero.getpixel((20, 100)) or ten.getpixel((50, 100)) != zero.getpixel((50, 100))
    assert zero.getpixel((2, 230))[0] < zero.getpixel((300, 230))[0]  # the grey ramp below


def test_noise_makes_jpegs_the_size_of_a_real_scene() -> None:
    with make(width_px=640, height_px=480) as plain, make(width_px=640, height_px=480, noise=8) as grainy:
        flat, grain = plain.get_images().images[0].data, grainy.get_images().images[0].data
    assert size_of(grain) == ("JPEG", (640, 480))
    assert len(grain) > 2 * len(flat) and len(grain) > 20_000, (len(flat), len(grain))


def test_properties_use_configured_intrinsics_and_distortion() -> None:
    intrinsics = {"width_px": 64, "height_px": 48, "fx": 50.5, "fy": 51, "ppx": 31.5, "ppy": 23.5}
    distortion = {"rk1": 0.1, "rk2": -0.01, "rk3": 0, "tp1": 0.001, "tp2": 0}
    with make(intrinsic_parameters=intrinsics, distortion_parameters=distortion) as cam:
        assert cam.get_properties() == CameraProperties(
            True, IntrinsicParameters(64, 48, 50.5, 51.0, 31.5, 23.5),
            DistortionParameters("brown_conrady", [0.1, -0.01, 0.0, 0.001, 0.0]), [JPEG, PNG], 30.0)


@pytest.mark.parametrize(("attributes", "path", "fix"), [
    ({"width_px": 4}, "attributes.width_px", ">= 8"),
    ({"frame_rate": 0}, "attributes.frame_rate", "> 0"),
    ({"mime_type": "image/bmp"}, "attributes.mime_type", "image/png"),
    ({"intrinsic_parameters": {"width_px": 64}}, "attributes.intrinsic_parameters.height_px", "fx"),
    ({"distortion_parameters": {"k9": 1}}, "attributes.distortion_parameters.k9", "rk1"),
])
def test_bad_attributes_are_config_errors_naming_the_field(attributes: dict[str, Any], path: str, fix: str) -> None:
    from viamlite.machine import Machine

    with pytest.raises(ConfigError) as info:
        Machine.from_config({"components": [{**FAKE_CAMERA, "attributes": attributes}]})
    assert path in str(info.value) and fix in str(info.value), str(info.value)


def test_point_cloud_is_binary_pcd_that_moves_with_the_frame() -> None:
    with make() as cam:
        cam.do_command({"frame": 0})
        cloud = cam.get_point_cloud()
        cam.do_command({"frame": 7})
        moved = cam.get_point_cloud()
    assert cloud.mime_type == PCD
    header, points = parse_pcd(cloud.data)
    assert header["TYPE"] == ["F", "F", "F", "U"] and len(points) == 32 * 24
    assert points[0][3] == 0xFFFFFF  # the first column is the white bar
    assert parse_pcd(moved.data)[1] != points


def test_reconfigure_keeps_the_frame_and_applies_the_size() -> None:
    from viamlite.config import parse_config

    with make() as cam:
        cam.do_command({"frame": 42})
        config = parse_config({"components": [{**FAKE_CAMERA, "attributes": {"width_px": 80, "height_px": 60}}]})
        cam.reconfigure(config.resources[0], {})
        assert cam.get_status()["frame"] == 42 and cam.get_status()["frozen"]
        assert size_of(cam.get_images().images[0].data)[1] == (80, 60)
    with pytest.raises(ResourceClosedError):
        cam.get_images()


def test_pillow_is_imported_only_when_a_frame_is_made() -> None:
    code = ("import sys, json\n"
            "from viamlite.machine import Machine\n"
            "from viamlite.cli.serve import demo_config\n"
            "m = Machine(demo_config())\n"
            "cam = m['camera1']\n"
            "before = 'PIL' in sys.modules\n"
            "props = cam.get_properties()\n"
            "still = 'PIL' in sys.modules\n"
            "cam.get_images()\n"
            "print(json.dumps([before, still, 'PIL' in sys.modules]))\n"
            "m.close()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, False, True]


# -- the fast path ------------------------------------------------------------------------------


def test_fast_path_images_are_msgpack_binary(served_machine: Callable[..., Any]) -> None:
    from .rawclient import Raw

    served = served_machine({"components": [FAKE_CAMERA]})
    served["cam"].do_command({"frame": 3})
    expected = served["cam"].get_images()
    raw = Raw(served.fastpath_address)
    try:
        raw.hello()
        handle, _, methods = raw.request([S.RESOLVE, 2, "cam", None])[2]
        assert {120, 121, 122, 1, 3, 6} <= set(methods) and not {2, 4, 5} & set(methods)
        raw.send([S.CALL, 3, handle, 120, []])
        frame = raw.recv_payload()
    finally:
        raw.close()
    # the image is a msgpack bin (0xc4/0xc5/0xc6 + length + the JPEG itself), not text
    jpeg = expected.images[0].data
    assert jpeg in frame and any(marker + len(jpeg).to_bytes(n, "big") + jpeg in frame
                                 for marker, n in ((b"\xc5", 2), (b"\xc6", 4), (b"\xc4", 1)))
    message = msgpack.unpackb(frame, raw=False)
    assert message[:2] == [S.RESULT, 3]
    assert message[2] == [[["cam", jpeg, JPEG]], pytest.approx(expected.captured_at)]


def test_fast_path_client_and_a_frame_rate_subscription(served_machine: Callable[..., Any]) -> None:
    served = served_machine({"components": [FAKE_CAMERA]})
    fp = served.fastpath()
    camera = Camera.from_robot(fp, "cam")
    images = camera.get_images()
    assert isinstance(images, Images) and size_of(images.images[0].data) == ("JPEG", (160, 120))
    assert camera.get_properties().intrinsic_parameters == IntrinsicParameters(160, 120, 160.0, 160.0, 80.0, 60.0)
    assert camera.get_images(["cam"]).images[0].name == "cam"
    assert parse_pcd(camera.get_point_cloud().data)[0]["POINTS"] == ["768"]
    with pytest.raises(InvalidArgumentError, match="no source"):
        camera.get_images(filter_source_names=["other"])

    seen: list[Any] = []
    started = time.monotonic()
    for sample in fp.subscribe("cam", "get_images", rate_hz=20):
        seen.append(sample)
        if len(seen) == 10 or time.monotonic() - started > 10:
            break
    assert len(seen) == 10
    frames = [Images.from_wire(s.value) for s in seen]
    assert all(size_of(f.images[0].data) == ("JPEG", (160, 120)) for f in frames)
    stamps = [f.captured_at for f in frames]
    assert stamps == sorted(stamps) and len(set(stamps)) >= 5  # new frames at the frame rate
    assert [s.seq for s in seen] == list(range(seen[0].seq, seen[0].seq + 10))


# -- the REPL and part run --------------------------------------------------------------------


def test_the_repl_binds_camera1_as_a_camera() -> None:
    from viamlite.cli.repl import banner, build_namespace
    from viamlite.cli.serve import demo_config
    from viamlite.machine import Machine

    with Machine(demo_config()) as machine:
        ns = build_namespace(machine)
        assert isinstance(ns.names["camera1"], Camera)
        assert any(line.split() == ["camera1", "rdk:component:camera"] for line in banner(ns, "here").splitlines())
        images = ns.names["camera1"].get_images()
        assert images.images[0].mime_type == JPEG
        shown = repr(images)  # what the REPL prints: the frame by its size, not its bytes
        assert f"data=<{len(images.images[0].data)} bytes>" in shown and len(shown) < 200, shown


def test_part_run_get_images_and_properties(demo_server: Any) -> None:
    import base64

    def part_run(method: str, data: dict[str, Any]) -> Any:
        out = subprocess.run([sys.executable, "-m", "viamlite.cli", "machines", "part", "run", "--address",
                              demo_server.address, "--data", json.dumps(data), method],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    reply = part_run("viam.component.camera.v1.CameraService.GetImages", {"name": "camera1"})
    image = reply["images"][0]
    assert image["sourceName"] == "camera1" and image["mimeType"] == JPEG
    assert size_of(base64.b64decode(image["image"])) == ("JPEG", (640, 480))
    assert "capturedAt" in reply["responseMetadata"]
    props = part_run("viam.component.camera.v1.CameraService.GetProperties", {"name": "camera1"})
    assert props["intrinsicParameters"]["widthPx"] == 640 and props["frameRate"] == 30


# -- the wire -------------------------------------------------------------------------------------


def test_the_camera_proto_matches_the_viam_sdk_field_by_field() -> None:
    pytest.importorskip("viam", reason="the viam-sdk test dependency is not installed (pip install -e .[test])")
    from google.protobuf import descriptor_pb2
    from viam.gen.common.v1 import common_pb2 as sdk_common
    from viam.gen.component.camera.v1 import camera_pb2 as sdk_camera

    from viamlite.gen import camera_pb2, common_pb2

    def shape(module: Any) -> tuple[dict[str, dict[str, tuple]], dict[str, tuple]]:
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        messages = {m.name: {f.name: (f.number, f.label, f.type, f.type_name, f.proto3_optional) for f in m.field}
                    for m in proto.message_type}
        methods = {m.name: (m.input_type, m.output_type, m.client_streaming, m.server_streaming)
                   for s in proto.service for m in s.method}
        return messages, methods

    ours, our_methods = shape(camera_pb2)
    theirs, their_methods = shape(sdk_camera)
    assert our_methods == their_methods
    # Image.annotations (5) is of the app data API's type, which the machine runtime leaves out
    del theirs["Image"]["annotations"]
    assert ours == theirs
    assert shape(common_pb2)[0]["ResponseMetadata"] == shape(sdk_common)[0]["ResponseMetadata"]


def test_fast_path_filter_source_names_must_be_an_array(served_machine: Callable[..., Any]) -> None:
    from viamlite.fastpath.errors import FastPathError

    fp = served_machine({"components": [FAKE_CAMERA]}).fastpath()
    with pytest.raises(FastPathError, match="filter_source_names must be an array") as info:
        fp.call("cam", "get_images", "cam")
    assert info.value.code == S.Err.INVALID_ARGUMENT
    assert fp.call("cam", "get_images", None)[0][0][0] == "cam"  # nil: left out


def test_an_image_over_the_frame_limit_is_an_error_not_a_broken_connection() -> None:
    from viamlite.fastpath.client import FastPathClient
    from viamlite.fastpath.errors import FastPathError
    from viamlite.fastpath.server import FastPathServer
    from viamlite.machine import Machine

    config = {"components": [{**FAKE_CAMERA, "attributes": {"width_px": 320, "height_px": 240, "noise": 16}}]}
    with Machine.from_config(config) as machine:
        server = FastPathServer(machine, max_frame=4096)
        try:
            host, port = server.listen_tcp("127.0.0.1:0")
            with FastPathClient.connect(f"{host}:{port}") as fp:
                with pytest.raises(FastPathError, match="over the frame limit of 4096") as info:
                    fp.call("cam", "get_images")
                assert info.value.code == S.Err.RESOURCE_EXHAUSTED
                for item in fp.subscribe("cam", "get_properties", rate_hz=50):  # small: delivered
                    assert item.value[0] is True
                    break
                channel = fp.subscribe("cam", "get_images", rate_hz=50)
                with pytest.raises(TimeoutError):  # no sample comes: each is an event instead
                    channel.next(timeout=0.5)
                events = list(channel.events)
                channel.close()
                assert events and events[0].code == S.Err.RESOURCE_EXHAUSTED, events
                assert "over the frame limit of 4096" in events[0].message
                assert fp.call("cam", "get_properties")[4] == 30.0  # the connection goes on
        finally:
            server.stop()
