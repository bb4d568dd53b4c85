"""The servo contract: moves to an angle, reports it, stops, refuses bad angles."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from viamlite.components.servo import Servo
from viamlite.errors import InvalidArgumentError
from viamlite.testing.contracts.common import NOT_FINITE, NOT_NUMBERS, Capabilities, Contract, raises
from viamlite.testing.plugin import wait_until


@dataclass(frozen=True)
class ServoCapabilities(Capabilities):
    """``angles``: angles (whole degrees) the servo reaches, in the order the tests move to
    them; ``tolerance_deg``: how far ``get_position`` may answer from the angle moved to;
    ``out_of_range``: angles outside the servo's range; ``settle_s``: how long a move may
    take before ``is_moving`` must be False (0 for a servo that answers at once)."""

    angles: tuple[int, ...] = (0, 45, 90, 180, 10)
    tolerance_deg: int = 0
    out_of_range: tuple[float, ...] = (-1, 181)
    settle_s: float = 0.0


class ServoContract(Contract):
    """What :class:`viamlite.components.servo.Servo` promises."""

    interface = Servo
    capabilities = ServoCapabilities()

    def closed_calls(self, resource: Any, capabilities: Any) -> dict[str, Callable[[], Any]]:
        return {"move": lambda: resource.move(capabilities.angles[0]), "get_position": resource.get_position,
                "stop": resource.stop, "is_moving": resource.is_moving}

    def _settled(self, servo: Any, caps: ServoCapabilities) -> None:
        if caps.settle_s > 0:
            wait_until(lambda: not servo.is_moving(), "the servo settling", timeout=caps.settle_s)
        assert servo.is_moving() is False

    def test_move_then_get_position(self, resource: Any, capabilities: ServoCapabilities) -> None:
        for angle in capabilities.angles:
            resource.move(angle)
            self._settled(resource, capabilities)
            position = resource.get_position()
            assert isinstance(position, int) and not isinstance(position, bool), \
                f"get_position answered {position!r}, not whole degrees"
            assert abs(position - angle) <= capabilities.tolerance_deg, \
                f"moved to {angle}, get_position answers {position}"

    def test_calls_take_extra(self, resource: Any, capabilities: ServoCapabilities) -> None:
        angle = capabilities.angles[1 % len(capabilities.angles)]
        resource.move(angle, extra={"contract": True})
        self._settled(resource, capabilities)
        position = resource.get_position(extra={"contract": True})
        assert abs(position - angle) <= capabilities.tolerance_deg, f"moved to {angle}, get_position answers {position}"
        resource.stop(extra={"contract": True})

    def test_stop_leaves_it_still_where_it_was(self, resource: Any, capabilities: ServoCapabilities) -> None:
        angle = capabilities.angles[-1]
        resource.move(angle)
        self._settled(resource, capabilities)
        resource.stop()
        assert resource.is_moving() is False
        position = resource.get_position()
        assert abs(position - angle) <= capabilities.tolerance_deg, f"stopped at {angle}, get_position answers {position}"
        resource.stop()  # stopping a stopped servo is harmless

    def test_bad_angles_are_invalid_arguments_and_change_nothing(self, resource: Any,
                                                                 capabilities: ServoCapabilities) -> None:
        angle = capabilities.angles[0]
        resource.move(angle)
        self._settled(resource, capabilities)
        for bad in (*capabilities.out_of_range, *NOT_FINITE, *NOT_NUMBERS):
            raises(InvalidArgumentError, lambda bad=bad: resource.move(bad), f"move({bad!r})")
        position = resource.get_position()
        assert abs(position - angle) <= capabilities.tolerance_deg, \
            f"after refused moves from {angle}, get_position answers {position}"
