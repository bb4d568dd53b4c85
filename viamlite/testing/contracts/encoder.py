"""The encoder contract: positions by type, resetting, counting when turned."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from viamlite.components.encoder import Encoder, EncoderPosition, EncoderProperties, PositionType
from viamlite.errors import InvalidArgumentError, NotSupportedError
from viamlite.testing.contracts.common import Capabilities, Contract, raises
from viamlite.testing.plugin import wait_until


@dataclass(frozen=True)
class EncoderCapabilities(Capabilities):
    """``ticks``/``degrees``: the position types the encoder reports (``get_properties``
    must say the same; asking for another must raise NotSupportedError or
    InvalidArgumentError). ``turn``: ``turn(encoder, ticks)`` makes the encoder count
    ``ticks`` forwards (a simulator's quadrature, a fake's command); None when the test
    cannot turn it, and then the contract checks only a still encoder. ``settle_s``: how
    long the count may take to show a turn."""

    ticks: bool = True
    degrees: bool = False
    turn: Callable[[Any, int], None] | None = None
    settle_s: float = 5.0


class EncoderContract(Contract):
    """What :class:`viamlite.components.encoder.Encoder` promises."""

    interface = Encoder
    capabilities = EncoderCapabilities()

    def closed_calls(self, resource: Any, capabilities: Any) -> dict[str, Callable[[], Any]]:
        return {"get_position": resource.get_position, "reset_position": resource.reset_position,
                "get_properties": resource.get_properties}

    def test_properties_say_what_it_reports(self, resource: Any, capabilities: EncoderCapabilities) -> None:
        properties = resource.get_properties()
        assert isinstance(properties, EncoderProperties), properties
        assert (properties.ticks_count_supported, properties.angle_degrees_supported) == \
            (capabilities.ticks, capabilities.degrees), properties

    def test_positions_by_type(self, resource: Any, capabilities: EncoderCapabilities) -> None:
        default = resource.get_position()
        assert isinstance(default, EncoderPosition), default
        assert default.position_type in (PositionType.TICKS_COUNT, PositionType.ANGLE_DEGREES), default
        for wanted, supported in ((PositionType.TICKS_COUNT, capabilities.ticks),
                                  (PositionType.ANGLE_DEGREES, capabilities.degrees)):
            if supported:
                position = resource.get_position(wanted)
                assert position.position_type == wanted and isinstance(position.value, (int, float)), position
            else:
                raises((NotSupportedError, InvalidArgumentError), lambda w=wanted: resource.get_position(w),
                       f"get_position({wanted}) of an encoder that does not report it")

    def test_reset_position_reads_zero(self, resource: Any, capabilities: EncoderCapabilities) -> None:
        if capabilities.turn is not None:
            capabilities.turn(resource, 8)
            wait_until(lambda: resource.get_position().value != 0, "the encoder counting", timeout=capabilities.settle_s)
        resource.reset_position()
        assert resource.get_position().value == 0
        resource.reset_position(extra={"contract": True})

    def test_turning_forwards_counts_up(self, resource: Any, capabilities: EncoderCapabilities) -> None:
        resource.reset_position()
        if capabilities.turn is None:  # nothing turns it: a still encoder stays at 0
            assert resource.get_position().value == 0
            return
        capabilities.turn(resource, 8)
        position = wait_until(lambda: (p := resource.get_position()).value >= 8 and p, "the encoder counting 8 ticks",
                              timeout=capabilities.settle_s)
        assert position.value == 8, f"turned 8 ticks forwards, the encoder reads {position.value}"
