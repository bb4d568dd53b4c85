"""Camera API over the wire: ``viam.component.camera.v1.CameraService`` (DoCommand,
GetStatus and GetGeometries are the shared methods)."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.camera import PCD, Camera
from viamlite.errors import InvalidArgumentError
from viamlite.gen import camera_pb2 as pb
from viamlite.rpc.wire import extra_of

service = ResourceService(Camera.API, pb.DESCRIPTOR.services_by_name["CameraService"])


@service.unary("GetImages")
def get_images(camera: Camera, req: pb.GetImagesRequest) -> pb.GetImagesResponse:
    images, captured_at = camera.get_images(filter_source_names=list(req.filter_source_names) or None,
                                            extra=extra_of(req))
    response = pb.GetImagesResponse(images=[pb.Image(source_name=i.name, image=bytes(i.data), mime_type=i.mime_type)
                                            for i in images])
    response.response_metadata.SetInParent()
    if captured_at is not None:
        seconds = int(captured_at // 1)
        response.response_metadata.captured_at.seconds = seconds
        response.response_metadata.captured_at.nanos = min(int(round((captured_at - seconds) * 1e9)), 999_999_999)
    return response


@service.unary("GetPointCloud")
def get_point_cloud(camera: Camera, req: pb.GetPointCloudRequest) -> pb.GetPointCloudResponse:
    if req.mime_type and req.mime_type != PCD:
        raise InvalidArgumentError(f"point clouds come as {PCD}, not {req.mime_type!r}; ask for {PCD} or leave "
                                   "mime_type empty")
    cloud = camera.get_point_cloud(extra=extra_of(req))
    return pb.GetPointCloudResponse(mime_type=cloud.mime_type, point_cloud=bytes(cloud.data))


@service.unary("GetProperties")
def get_properties(camera: Camera, req: pb.GetPropertiesRequest) -> pb.GetPropertiesResponse:
    props = camera.get_properties()
    response = pb.GetPropertiesResponse(supports_pcd=props.supports_pcd, mime_types=list(props.mime_types))
    if props.intrinsic_parameters is not None:
        response.intrinsic_parameters.CopyFrom(pb.IntrinsicParameters(**props.intrinsic_parameters._asdict()))
    if props.distortion_parameters is not None:
        response.distortion_parameters.CopyFrom(pb.DistortionParameters(
            model=props.distortion_parameters.model, parameters=list(props.distortion_parameters.parameters)))
    if props.frame_rate is not None:
        response.frame_rate = props.frame_rate
    return response
