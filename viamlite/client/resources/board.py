"""Board proxy: ``viam.component.board.v1.BoardService``."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from viamlite.client.resources._base import RemoteResource
from viamlite.components.board import AnalogValue, Board, Tick
from viamlite.resource import Extra


class BoardClient(RemoteResource, Board):
    SERVICE = "viam.component.board.v1.BoardService"

    def set_gpio(self, pin: str, high: bool, *, extra: Extra = None) -> None:
        self._call("SetGPIO", pin=pin, high=high, extra=extra)

    def get_gpio(self, pin: str, *, extra: Extra = None) -> bool:
        return self._call("GetGPIO", pin=pin, extra=extra).high

    def get_pwm(self, pin: str, *, extra: Extra = None) -> float:
        return self._call("PWM", pin=pin, extra=extra).duty_cycle_pct

    def set_pwm(self, pin: str, duty_cycle_pct: float, *, extra: Extra = None) -> None:
        self._call("SetPWM", pin=pin, duty_cycle_pct=duty_cycle_pct, extra=extra)

    def get_pwm_frequency(self, pin: str, *, extra: Extra = None) -> int:
        return self._call("PWMFrequency", pin=pin, extra=extra).frequency_hz

    def set_pwm_frequency(self, pin: str, frequency_hz: int, *, extra: Extra = None) -> None:
        self._call("SetPWMFrequency", pin=pin, frequency_hz=frequency_hz, extra=extra)

    def read_analog(self, reader: str, *, extra: Extra = None) -> AnalogValue:
        r = self._call("ReadAnalogReader", analog_reader_name=reader, extra=extra)
        return AnalogValue(r.value, r.min_range, r.max_range, r.step_size)

    def write_analog(self, pin: str, value: int, *, extra: Extra = None) -> None:
        self._call("WriteAnalog", pin=pin, value=value, extra=extra)

    def get_digital_interrupt_value(self, interrupt: str, *, extra: Extra = None) -> int:
        return self._call("GetDigitalInterruptValue", digital_interrupt_name=interrupt, extra=extra).value

    def stream_ticks(self, interrupts: Sequence[str], *, extra: Extra = None) -> Iterator[Tick]:
        from google.protobuf import message_factory

        from viamlite.rpc import wire

        self._check_open()
        md = self._service.methods_by_name["StreamTicks"]
        request = message_factory.GetMessageClass(md.input_type)(name=self.name, pin_names=list(interrupts))
        if extra:
            wire.dict_to_struct(extra, request.extra)
        stream = self._connection.stream(f"/{self.SERVICE}/StreamTicks", request,
                                         message_factory.GetMessageClass(md.output_type),
                                         where=f"board {self.name!r} StreamTicks")
        for item in stream:
            yield Tick(item.pin_name, item.time, item.high)

    def set_power_mode(self, mode: int, duration_s: float | None = None, *, extra: Extra = None) -> None:
        fields = {}
        if duration_s is not None:
            from google.protobuf import message_factory

            from viamlite.gen import POOL

            duration = message_factory.GetMessageClass(POOL.FindMessageTypeByName("google.protobuf.Duration"))()
            duration.FromNanoseconds(int(duration_s * 1e9))
            fields["duration"] = duration
        self._call("SetPowerMode", power_mode=mode, extra=extra, **fields)
