"""Sensor proxy: ``viam.component.sensor.v1.SensorService`` (GetReadings is shared)."""
from __future__ import annotations

from viamlite.client.resources._base import RemoteResource
from viamlite.components.sensor import Sensor


class SensorClient(RemoteResource, Sensor):
    SERVICE = "viam.component.sensor.v1.SensorService"
    get_readings = RemoteResource.get_readings
