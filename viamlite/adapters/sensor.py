"""Sensor API over the wire: ``viam.component.sensor.v1.SensorService`` (GetReadings,
DoCommand, GetStatus and GetGeometries are the shared methods)."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.sensor import Sensor

service = ResourceService(Sensor.API, "viam.component.sensor.v1.SensorService")
