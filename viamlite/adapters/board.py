"""Board API over the wire: ``viam.component.board.v1.BoardService``."""
from __future__ import annotations

from collections.abc import Iterator

from viamlite.adapters.service import Call, ResourceService
from viamlite.components.board import Board
from viamlite.gen import board_pb2 as pb
from viamlite.rpc.wire import extra_of, require

service = ResourceService(Board.API, pb.DESCRIPTOR.services_by_name["BoardService"])


@service.unary("SetGPIO")
def set_gpio(board: Board, req: pb.SetGPIORequest) -> pb.SetGPIOResponse:
    require(bool(req.pin), "pin is empty; name a pin of the board")
    board.set_gpio(req.pin, req.high, extra=extra_of(req))
    return pb.SetGPIOResponse()


@service.unary("GetGPIO")
def get_gpio(board: Board, req: pb.GetGPIORequest) -> pb.GetGPIOResponse:
    require(bool(req.pin), "pin is empty; name a pin of the board")
    return pb.GetGPIOResponse(high=board.get_gpio(req.pin, extra=extra_of(req)))


@service.unary("PWM")
def pwm(board: Board, req: pb.PWMRequest) -> pb.PWMResponse:
    return pb.PWMResponse(duty_cycle_pct=board.get_pwm(req.pin, extra=extra_of(req)))


@service.unary("SetPWM")
def set_pwm(board: Board, req: pb.SetPWMRequest) -> pb.SetPWMResponse:
    board.set_pwm(req.pin, req.duty_cycle_pct, extra=extra_of(req))
    return pb.SetPWMResponse()


@service.unary("PWMFrequency")
def pwm_frequency(board: Board, req: pb.PWMFrequencyRequest) -> pb.PWMFrequencyResponse:
    return pb.PWMFrequencyResponse(frequency_hz=board.get_pwm_frequency(req.pin, extra=extra_of(req)))


@service.unary("SetPWMFrequency")
def set_pwm_frequency(board: Board, req: pb.SetPWMFrequencyRequest) -> pb.SetPWMFrequencyResponse:
    board.set_pwm_frequency(req.pin, req.frequency_hz, extra=extra_of(req))
    return pb.SetPWMFrequencyResponse()


@service.unary("ReadAnalogReader")
def read_analog_reader(board: Board, req: pb.ReadAnalogReaderRequest) -> pb.ReadAnalogReaderResponse:
    value = board.read_analog(req.analog_reader_name, extra=extra_of(req))
    return pb.ReadAnalogReaderResponse(value=value.value, min_range=value.min_range,
                                       max_range=value.max_range, step_size=value.step_size)


@service.unary("WriteAnalog")
def write_analog(board: Board, req: pb.WriteAnalogRequest) -> pb.WriteAnalogResponse:
    board.write_analog(req.pin, req.value, extra=extra_of(req))
    return pb.WriteAnalogResponse()


@service.unary("GetDigitalInterruptValue")
def get_digital_interrupt_value(board: Board, req: pb.GetDigitalInterruptValueRequest) -> pb.GetDigitalInterruptValueResponse:
    return pb.GetDigitalInterruptValueResponse(
        value=board.get_digital_interrupt_value(req.digital_interrupt_name, extra=extra_of(req)))


@service.stream("StreamTicks")
def stream_ticks(board: Board, req: pb.StreamTicksRequest, call: Call) -> Iterator[pb.StreamTicksResponse]:
    require(len(req.pin_names) > 0, "pin_names is empty; name at least one digital interrupt")
    ticks = board.stream_ticks(list(req.pin_names), extra=extra_of(req))
    close = getattr(ticks, "close", None)
    if close is not None:
        call.add_done_callback(close)
    try:
        for tick in ticks:
            yield pb.StreamTicksResponse(pin_name=tick.pin_name, time=tick.time_ns, high=tick.high)
    finally:
        if close is not None:
            close()


@service.unary("SetPowerMode")
def set_power_mode(board: Board, req: pb.SetPowerModeRequest) -> pb.SetPowerModeResponse:
    duration = req.duration.ToTimedelta().total_seconds() if req.HasField("duration") else None
    board.set_power_mode(req.power_mode, duration, extra=extra_of(req))
    return pb.SetPowerModeResponse()
