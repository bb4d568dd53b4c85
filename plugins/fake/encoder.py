"""The fake encoder: counts a fake motor's turns, or holds a count set by a command."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from viamlite_plugins.fake import FakeResource, finite

from viamlite.attributes import Attributes
from viamlite.components.encoder import (
    Encoder,
    EncoderPosition,
    EncoderProperties,
    PositionType,
)
from viamlite.errors import InvalidArgumentError
from viamlite.names import API
from viamlite.resource import Extra, Resource

MOTOR_API = API.component("motor")


class FakeEncoder(FakeResource, Encoder):
    """An encoder reporting ticks and degrees.

    Attributes: ``motor`` (optional name of a motor; it becomes an implicit dependency and
    the encoder follows its shaft: ticks = revolutions * ``ticks_per_rotation``) and
    ``ticks_per_rotation`` (whole number > 0, default 100). A reconfigure keeps the
    current reading and counts on from there.

    ``reset_position()`` makes the current position read 0 (an offset, so following goes
    on); ``do_command({"set_ticks": n})`` makes it read ``n`` ticks, with or without a
    motor. ``ANGLE_DEGREES`` positions are ``revolutions * 360 % 360``; an
    ``UNSPECIFIED`` request answers in ticks. A fake motor is followed through its
    ``shaft_revolutions()`` (so the motor's own ``reset_zero_position`` does not move the
    encoder); any other motor through ``get_position()``.
    """

    @classmethod
    def settings(cls, attrs: Attributes) -> dict[str, Any]:
        return {"ticks_per_rotation": attrs.number("ticks_per_rotation", 100, above=0, integer=True),
                "motor": attrs.string("motor")}

    @classmethod
    def implicit_dependencies(cls, settings: dict[str, Any]) -> list[str]:
        return [settings["motor"]] if settings["motor"] else []

    def _configure(self, s: dict[str, Any], dependencies: Mapping[Any, Any], attrs: Attributes) -> None:
        ticks_per_rotation, motor_name = s["ticks_per_rotation"], s["motor"]
        motor = None
        if motor_name:
            motor = _find_motor(dependencies, motor_name)
            if motor is None:
                raise attrs.fail("motor", f"motor {motor_name!r} is not among the encoder's dependencies",
                                 f"add a motor named {motor_name!r} to the machine, or remove the motor attribute")
        with self._lock:
            reading = self._ticks() if hasattr(self, "_offset") else None
            self.ticks_per_rotation, self.motor_name, self._motor = ticks_per_rotation, motor_name, motor
            # built: ticks = the motor's revolutions * ticks_per_rotation; reconfigured: keep reading what it read
            self._offset = 0.0 if reading is None else self._source() - reading

    def _source(self) -> float:
        """Ticks of the thing followed, before the offset; locked."""
        motor = self._motor
        if motor is None:
            return 0.0
        follow = getattr(motor, "shaft_revolutions", None)
        revolutions = follow() if follow is not None else motor.get_position()
        return revolutions * self.ticks_per_rotation

    def _ticks(self) -> float:
        return self._source() - self._offset

    def get_position(self, position_type: int = PositionType.UNSPECIFIED, *, extra: Extra = None) -> EncoderPosition:
        self._check_open()
        with self._lock:
            ticks = self._ticks()
        if position_type == PositionType.ANGLE_DEGREES:
            return EncoderPosition(ticks / self.ticks_per_rotation * 360.0 % 360.0, PositionType.ANGLE_DEGREES)
        if position_type in (PositionType.UNSPECIFIED, PositionType.TICKS_COUNT):
            return EncoderPosition(float(ticks), PositionType.TICKS_COUNT)
        raise InvalidArgumentError(
            f"encoder {self.name!r}: unknown position type {position_type!r}; use 0 (unspecified), 1 (ticks) or 2 (degrees)")

    def reset_position(self, *, extra: Extra = None) -> None:
        self._check_open()
        self._record("reset_position", extra)
        with self._lock:
            self._offset = self._source()

    def get_properties(self, *, extra: Extra = None) -> EncoderProperties:
        self._check_open()
        return EncoderProperties(ticks_count_supported=True, angle_degrees_supported=True)

    def do_command(self, command: Mapping[str, Any]) -> dict[str, Any]:
        """``{"set_ticks": n}`` makes the encoder read ``n`` ticks; answers ``{"ticks": n}``."""
        self._check_open()
        if set(command) != {"set_ticks"}:
            raise self._unknown_command(command, 'set_ticks ({"set_ticks": 250})')
        ticks = finite(command["set_ticks"], "set_ticks")
        self._record("do_command", command=dict(command))
        with self._lock:
            self._offset = self._source() - ticks
        return {"ticks": ticks}

    def get_status(self) -> dict[str, Any]:
        with self._lock:
            try:
                ticks: float | None = self._ticks()
            except Exception:  # the followed motor is gone; status still answers
                ticks = None
            return {"ticks": ticks, "ticks_per_rotation": self.ticks_per_rotation, "motor": self.motor_name}


def _find_motor(dependencies: Mapping[Any, Resource], name: str) -> Resource | None:
    for rn, resource in dependencies.items():
        if getattr(rn, "api", None) == MOTOR_API and name in (rn.name, rn.full_name):
            return resource
    return None
