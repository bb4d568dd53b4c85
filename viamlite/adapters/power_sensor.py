"""Power sensor API over the wire: ``viam.component.powersensor.v1.PowerSensorService``."""
from __future__ import annotations

from viamlite.adapters.service import ResourceService
from viamlite.components.power_sensor import PowerSensor
from viamlite.gen import powersensor_pb2 as pb
from viamlite.rpc.wire import extra_of

service = ResourceService(PowerSensor.API, pb.DESCRIPTOR.services_by_name["PowerSensorService"])


@service.unary("GetVoltage")
def get_voltage(sensor: PowerSensor, req: pb.GetVoltageRequest) -> pb.GetVoltageResponse:
    v = sensor.get_voltage(extra=extra_of(req))
    return pb.GetVoltageResponse(volts=v.volts, is_ac=v.is_ac)


@service.unary("GetCurrent")
def get_current(sensor: PowerSensor, req: pb.GetCurrentRequest) -> pb.GetCurrentResponse:
    c = sensor.get_current(extra=extra_of(req))
    return pb.GetCurrentResponse(amperes=c.amperes, is_ac=c.is_ac)


@service.unary("GetPower")
def get_power(sensor: PowerSensor, req: pb.GetPowerRequest) -> pb.GetPowerResponse:
    return pb.GetPowerResponse(watts=sensor.get_power(extra=extra_of(req)))
