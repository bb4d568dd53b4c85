"""Sensor API over the wire: ``viam.component.sensor.v1.SensorService`` (GetReadings,
DoCommand, GetStatus and GetGeometries are the shared methods)."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.sensor import Sensor
from viamlite.gen import sensor_pb2 as pb

service = ResourceService(Sensor.API, pb.DESCRIPTOR.services_by_name["SensorService"])
