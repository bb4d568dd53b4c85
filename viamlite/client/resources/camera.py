"""Camera proxy: ``viam.component.camera.v1.CameraService``."""
from __future__ import annotations

from collections.abc import Sequence

from viamlite.client.resources._base import RemoteResource
from viamlite.components.camera import (
    PCD,
    Camera,
    CameraProperties,
    DistortionParameters,
    Images,
    IntrinsicParameters,
    NamedImage,
    PointCloud,
)
from viamlite.resource import Extra


class CameraClient(RemoteResource, Camera):
    SERVICE = "viam.component.camera.v1.CameraService"

    def get_images(self, filter_source_names: Sequence[str] | None = None, *, extra: Extra = None) -> Images:
        response = self._call("GetImages", extra=extra, filter_source_names=list(filter_source_names or ()))
        images = [NamedImage(i.source_name, i.image, i.mime_type) for i in response.images]
        captured_at = None
        if response.HasField("response_metadata") and response.response_metadata.HasField("captured_at"):
            stamp = response.response_metadata.captured_at
            captured_at = stamp.seconds + stamp.nanos / 1e9
        return Images(images, captured_at)

    def get_point_cloud(self, *, extra: Extra = None) -> PointCloud:
        response = self._call("GetPointCloud", extra=extra, mime_type=PCD)
        return PointCloud(response.point_cloud, response.mime_type)

    def get_properties(self) -> CameraProperties:
        r = self._call("GetProperties")
        intrinsics = distortion = None
        if r.HasField("intrinsic_parameters"):
            intrinsics = IntrinsicParameters(*(getattr(r.intrinsic_parameters, f) for f in IntrinsicParameters._fields))
        if r.HasField("distortion_parameters"):
            distortion = DistortionParameters(r.distortion_parameters.model, list(r.distortion_parameters.parameters))
        return CameraProperties(r.supports_pcd, intrinsics, distortion, list(r.mime_types),
                                r.frame_rate if r.HasField("frame_rate") else None)
