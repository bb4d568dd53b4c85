"""The motor contract: power, stopping, blocking moves and (with an encoder) position."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from viamlite.components.motor import Motor, MotorProperties, PowerState
from viamlite.errors import InvalidArgumentError, NotSupportedError
from viamlite.testing.contracts.common import NOT_FINITE, NOT_NUMBERS, Capabilities, Contract, raises


@dataclass(frozen=True)
class MotorCapabilities(Capabilities):
    """``position_reporting``: the motor knows its position (``get_properties`` must say the
    same); without it ``get_position``, ``go_to`` and ``reset_zero_position`` must raise
    NotSupportedError. ``rpm``/``revolutions``: a short ``go_for`` the tests run (at least
    ``revolutions / rpm`` minutes); ``position_tolerance``: revolutions a position may be off."""

    position_reporting: bool = True
    rpm: float = 60.0
    revolutions: float = 0.05
    position_tolerance: float = 0.01


class MotorContract(Contract):
    """What :class:`viamlite.components.motor.Motor` promises."""

    interface = Motor
    capabilities = MotorCapabilities()

    def closed_calls(self, resource: Any, capabilities: Any) -> dict[str, Callable[[], Any]]:
        calls: dict[str, Callable[[], Any]] = {
            "set_power": lambda: resource.set_power(0.5), "stop": resource.stop, "is_powered": resource.is_powered,
            "is_moving": resource.is_moving, "get_properties": resource.get_properties,
            "go_for": lambda: resource.go_for(capabilities.rpm, capabilities.revolutions)}
        if capabilities.position_reporting:
            calls["get_position"] = resource.get_position
        return calls

    def _off(self, motor: Any) -> None:
        state = motor.is_powered()
        assert isinstance(state, PowerState), state
        assert state.is_on is False and state.power_pct == 0, f"a stopped motor is powered: {state}"
        assert motor.is_moving() is False

    def test_set_power_runs_and_stop_stops(self, resource: Any) -> None:
        self._off(resource)
        for power in (0.5, -0.25, 1.0):
            resource.set_power(power)
            state = resource.is_powered()
            assert state.is_on is True and math.isclose(state.power_pct, power, abs_tol=0.01), \
                f"set_power({power}) then is_powered answers {state}"
            assert resource.is_moving() is True
        resource.stop()
        self._off(resource)
        resource.stop()  # stopping a stopped motor is harmless
        resource.set_power(0.5)
        resource.set_power(0)
        self._off(resource)

    def test_bad_power_is_invalid_and_changes_nothing(self, resource: Any) -> None:
        for bad in (1.5, -1.01, *NOT_FINITE, *NOT_NUMBERS):
            raises(InvalidArgumentError, lambda bad=bad: resource.set_power(bad), f"set_power({bad!r})")
        self._off(resource)

    def test_go_for_blocks_until_done_then_stops(self, resource: Any, capabilities: MotorCapabilities) -> None:
        if capabilities.position_reporting:
            resource.reset_zero_position(0)
        resource.go_for(capabilities.rpm, capabilities.revolutions)
        self._off(resource)
        if capabilities.position_reporting:
            position = resource.get_position()
            assert abs(position - capabilities.revolutions) <= capabilities.position_tolerance, \
                f"go_for({capabilities.rpm}, {capabilities.revolutions}) ended at {position}"

    def test_bad_go_for_arguments_are_invalid(self, resource: Any, capabilities: MotorCapabilities) -> None:
        for rpm in (0, *NOT_FINITE, *NOT_NUMBERS):
            raises(InvalidArgumentError, lambda rpm=rpm: resource.go_for(rpm, 1), f"go_for({rpm!r}, 1)")
        for revolutions in (*NOT_FINITE, *NOT_NUMBERS):
            raises(InvalidArgumentError, lambda r=revolutions: resource.go_for(capabilities.rpm, r),
                   f"go_for({capabilities.rpm}, {revolutions!r})")
        self._off(resource)

    def test_position_reporting(self, resource: Any, capabilities: MotorCapabilities) -> None:
        properties = resource.get_properties()
        assert isinstance(properties, MotorProperties), properties
        assert properties.position_reporting is capabilities.position_reporting, \
            f"get_properties says position_reporting={properties.position_reporting}, capabilities say " \
            f"{capabilities.position_reporting}"
        if not capabilities.position_reporting:
            for name, call in {"get_position": resource.get_position,
                               "reset_zero_position": lambda: resource.reset_zero_position(0),
                               "go_to": lambda: resource.go_to(capabilities.rpm, 1)}.items():
                raises(NotSupportedError, call, f"{name} on a motor without position reporting")
            return
        resource.reset_zero_position(2.5)
        assert abs(resource.get_position() - 2.5) <= capabilities.position_tolerance
        resource.go_to(capabilities.rpm, 2.5 + capabilities.revolutions)
        assert abs(resource.get_position() - 2.5 - capabilities.revolutions) <= capabilities.position_tolerance
        self._off(resource)
