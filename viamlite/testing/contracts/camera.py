"""The camera contract: images that decode at the camera's size, properties, point clouds."""
from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from viamlite.components.camera import PCD, Camera, CameraProperties, Images, NamedImage, PointCloud
from viamlite.errors import InvalidArgumentError, NotSupportedError
from viamlite.testing.contracts.common import Capabilities, Contract, raises

#: How far ``captured_at`` may be from the clock, in seconds (a frozen frame may be older).
CAPTURED_AT_SLACK_S = 3600.0


@dataclass(frozen=True)
class CameraCapabilities(Capabilities):
    """``size``: (width, height) every image has (None: whatever the camera chose, read from
    the intrinsics when it has them); ``point_cloud``: ``get_point_cloud`` answers a PCD
    (False: it raises NotSupportedError, and ``supports_pcd`` is False)."""

    size: tuple[int, int] | None = None
    point_cloud: bool = False


class CameraContract(Contract):
    """What :class:`viamlite.components.camera.Camera` promises."""

    interface = Camera
    capabilities = CameraCapabilities()

    def closed_calls(self, resource: Any, capabilities: Any) -> dict[str, Callable[[], Any]]:
        return {"get_images": resource.get_images, "get_properties": resource.get_properties,
                "get_point_cloud": resource.get_point_cloud}

    def test_get_images_answers_images_of_the_types_it_lists(self, resource: Any,
                                                             capabilities: CameraCapabilities) -> None:
        props = resource.get_properties()
        result = resource.get_images()
        assert isinstance(result, Images), f"get_images answered {result!r}, not Images"
        images, captured_at = result
        assert images, "get_images answered no image"
        for image in images:
            assert isinstance(image, NamedImage) and image.name, image
            assert isinstance(image.data, bytes) and image.data, f"image {image.name!r} has no bytes"
            assert image.mime_type in props.mime_types, f"{image.mime_type} is not in {props.mime_types}"
        if captured_at is not None:
            assert abs(captured_at - time.time()) < CAPTURED_AT_SLACK_S, f"captured_at {captured_at} is not now"

    def test_images_decode_at_the_camera_size(self, resource: Any, capabilities: CameraCapabilities) -> None:
        from PIL import Image

        size = capabilities.size
        intrinsics = resource.get_properties().intrinsic_parameters
        if size is None and intrinsics is not None:
            size = (intrinsics.width_px, intrinsics.height_px)
        for image in resource.get_images().images:
            if image.mime_type not in ("image/jpeg", "image/png"):
                continue
            decoded = Image.open(io.BytesIO(image.data))
            decoded.load()
            assert decoded.get_format_mimetype() == image.mime_type, (decoded.format, image.mime_type)
            if size is not None:
                assert decoded.size == size, f"image {image.name!r} is {decoded.size}, the camera says {size}"

    def test_filter_source_names_selects_by_source(self, resource: Any) -> None:
        images = resource.get_images().images
        name = images[0].name
        assert [i.name for i in resource.get_images(filter_source_names=[name]).images] == [name]
        raises((InvalidArgumentError, NotSupportedError),
               lambda: resource.get_images(filter_source_names=["viamlite_contract_no_such_source"]),
               "get_images(filter_source_names=[an unknown source])")

    def test_get_properties(self, resource: Any, capabilities: CameraCapabilities) -> None:
        props = resource.get_properties()
        assert isinstance(props, CameraProperties), props
        assert props.mime_types and all(isinstance(m, str) and "/" in m for m in props.mime_types), props.mime_types
        assert props.supports_pcd is capabilities.point_cloud
        if props.intrinsic_parameters is not None:
            i = props.intrinsic_parameters
            assert i.width_px > 0 and i.height_px > 0 and i.focal_x_px > 0 and i.focal_y_px > 0, i
            assert 0 <= i.center_x_px <= i.width_px and 0 <= i.center_y_px <= i.height_px, i
        if props.frame_rate is not None:
            assert props.frame_rate > 0

    def test_get_point_cloud(self, resource: Any, capabilities: CameraCapabilities) -> None:
        if not capabilities.point_cloud:
            raises(NotSupportedError, resource.get_point_cloud, "get_point_cloud() of a camera without depth")
            return
        cloud = resource.get_point_cloud()
        assert isinstance(cloud, PointCloud) and cloud.mime_type == PCD, cloud
        header, _, _ = cloud.data.partition(b"DATA ")
        assert b"FIELDS x y z" in header and b"POINTS " in header, header[:200]
