"""The fast path's numbers: protocol version, message type ids, method ids, error codes.

One table the server, the clients and the firmware share (docs/fastpath.md lists it).
Ids are small integers (below 128, so each packs into one msgpack byte). Ids never
change meaning; new methods take new ids.

This module imports nothing heavy (the status codes only): the firmware's C header is
written from it by hand.
"""
from __future__ import annotations

from typing import NamedTuple

from viamlite.rpc.status import Code

#: Protocol version spoken by this implementation (HELLO carries it).
VERSION = 1

# -- message types (the first element of every message array) -----------------------
# client -> server
HELLO = 1  # [1, id, version, {auth and options}]
RESOLVE = 2  # [2, id, name, api or nil]
CALL = 3  # [3, id, handle, method, [args]]
SUBSCRIBE = 4  # [4, id, handle, method, [args], rate_hz]
UNSUBSCRIBE = 5  # [5, id, channel]
OPEN_STREAM = 6  # [6, id, handle, method, timeout_ms]
SETPOINT = 7  # [7, channel, seq, [args]]       (no reply)
CLOSE_STREAM = 8  # [8, id, channel]
PING = 9  # [9, id]
# server -> client
RESULT = 17  # [17, id, value]
ERROR = 18  # [18, id, code, message]
SAMPLE = 19  # [19, channel, seq, t_ns, value]
EVENT = 20  # [20, channel, seq, code, message]  (a failed sample or setpoint, a deadman stop)
# either direction
GOODBYE = 21  # [21, code, reason]               (sent before closing the connection)

MESSAGE_NAMES = {HELLO: "HELLO", RESOLVE: "RESOLVE", CALL: "CALL", SUBSCRIBE: "SUBSCRIBE",
                 UNSUBSCRIBE: "UNSUBSCRIBE", OPEN_STREAM: "OPEN_STREAM", SETPOINT: "SETPOINT",
                 CLOSE_STREAM: "CLOSE_STREAM", PING: "PING", RESULT: "RESULT", ERROR: "ERROR",
                 SAMPLE: "SAMPLE", EVENT: "EVENT", GOODBYE: "GOODBYE"}

#: Message types a client sends, with their array length.
REQUEST_LENGTHS = {HELLO: 4, RESOLVE: 4, CALL: 5, SUBSCRIBE: 6, UNSUBSCRIBE: 3, OPEN_STREAM: 5,
                   SETPOINT: 4, CLOSE_STREAM: 3, PING: 2, GOODBYE: 3}


# -- error codes: viamlite's status codes, numbered as gRPC numbers them -------------------
# ``Err`` is viamlite.rpc.status.Code, the one table of codes and error families
# (firmware/src/schema.h repeats the numbers for C; a test checks it does).
Err = Code


# -- limits ----------------------------------------------------------------------------
MAX_STREAM_FRAME = 1 << 20  # default largest stream frame payload, bytes
MAX_SERIAL_FRAME = 256  # default largest serial frame payload (before COBS and CRC), bytes
MAX_RATE_HZ = 2000.0  # fastest subscription
MIN_TIMEOUT_MS = 5  # shortest setpoint-stream deadman
MAX_TIMEOUT_MS = 60_000


class MethodSpec(NamedTuple):
    """One row of the method table.

    ``api``: the API subtype (``"*"``: any resource that has the method). ``args``: names
    of the positional arguments, each ``name:kind`` (kinds: int, float, bool, str, pin,
    map, vector3, list); a trailing ``?`` marks an optional one. ``result``: ``none``,
    ``int``, ``float``, ``bool``, ``str``, ``map``, ``list`` or ``module.TypeName`` (a
    NamedTuple of that component module, sent as an array in field order; ``spatial.X``: a
    map of the fields of viamlite.spatial's X). ``motion``:
    moves the resource, so a dropped connection stops it; ``long``: may block for seconds
    (runs apart from quick calls, cancelled when the connection drops); ``firmware``:
    only the firmware offers it.
    """

    id: int
    api: str
    name: str
    args: tuple[str, ...] = ()
    result: str = "none"
    motion: bool = False
    long: bool = False
    firmware: bool = False


def _m(id: int, api: str, name: str, args: str = "", result: str = "none", **flags: bool) -> MethodSpec:
    return MethodSpec(id, api, name, tuple(a for a in args.split() if a), result, **flags)


METHODS: tuple[MethodSpec, ...] = (
    # any API (1-9)
    _m(1, "*", "do_command", "command:map", "map", long=True),
    _m(2, "*", "get_readings", "", "map"),
    _m(3, "*", "get_status", "", "map"),
    _m(4, "*", "stop", "", "none"),
    _m(5, "*", "is_moving", "", "bool"),
    _m(6, "*", "get_geometries", "", "list"),
    # servo (10-19)
    _m(10, "servo", "move", "angle_deg:int", motion=True),
    _m(11, "servo", "get_position", "", "int"),
    _m(12, "servo", "attach", "pin:int min_us:int? max_us:int?", firmware=True),
    _m(13, "servo", "detach", "", firmware=True),
    _m(14, "servo", "get_state", "", "list", firmware=True),  # [angle, pulse_us, setpoint_seq, setpoints]
    # motor (20-29)
    _m(20, "motor", "set_power", "power_pct:float", motion=True),
    _m(21, "motor", "go_for", "rpm:float revolutions:float", motion=True, long=True),
    _m(22, "motor", "go_to", "rpm:float position_revolutions:float", motion=True, long=True),
    _m(23, "motor", "set_rpm", "rpm:float", motion=True),
    _m(24, "motor", "reset_zero_position", "offset:float"),
    _m(25, "motor", "get_position", "", "float"),
    _m(26, "motor", "get_properties", "", "motor.MotorProperties"),
    _m(27, "motor", "is_powered", "", "motor.PowerState"),
    # board (40-54)
    _m(40, "board", "set_gpio", "pin:pin high:bool"),
    _m(41, "board", "get_gpio", "pin:pin", "bool"),
    _m(42, "board", "get_pwm", "pin:pin", "float"),
    _m(43, "board", "set_pwm", "pin:pin duty_cycle_pct:float"),
    _m(44, "board", "get_pwm_frequency", "pin:pin", "int"),
    _m(45, "board", "set_pwm_frequency", "pin:pin frequency_hz:int"),
    _m(46, "board", "read_analog", "reader:pin", "board.AnalogValue"),
    _m(47, "board", "write_analog", "pin:pin value:int"),
    _m(48, "board", "get_digital_interrupt_value", "interrupt:pin", "int"),
    _m(49, "board", "set_power_mode", "mode:int duration_s:float?"),
    _m(50, "board", "measure_pulse", "pin:pin timeout_ms:int?", "int", firmware=True),  # high pulse, us
    # encoder (60-64)
    _m(60, "encoder", "get_position", "position_type:int?", "encoder.EncoderPosition"),
    _m(61, "encoder", "reset_position"),
    _m(62, "encoder", "get_properties", "", "encoder.EncoderProperties"),
    _m(63, "encoder", "attach", "pin_a:int pin_b:int", firmware=True),
    # movement sensor (70-79)
    _m(70, "movement_sensor", "get_linear_velocity", "", "spatial.Vector3"),
    _m(71, "movement_sensor", "get_angular_velocity", "", "spatial.Vector3"),
    _m(72, "movement_sensor", "get_compass_heading", "", "float"),
    _m(73, "movement_sensor", "get_orientation", "", "spatial.OrientationVector"),
    _m(74, "movement_sensor", "get_position", "", "list"),
    _m(75, "movement_sensor", "get_properties", "", "movement_sensor.MovementSensorProperties"),
    _m(76, "movement_sensor", "get_accuracy", "", "list"),
    _m(77, "movement_sensor", "get_linear_acceleration", "", "spatial.Vector3"),
    # power sensor (80-84)
    _m(80, "power_sensor", "get_voltage", "", "power_sensor.Voltage"),
    _m(81, "power_sensor", "get_current", "", "power_sensor.Current"),
    _m(82, "power_sensor", "get_power", "", "float"),
    # base (90-99)
    _m(90, "base", "move_straight", "distance_mm:int mm_per_sec:float", motion=True, long=True),
    _m(91, "base", "spin", "angle_deg:float degs_per_sec:float", motion=True, long=True),
    _m(92, "base", "set_power", "linear:vector3 angular:vector3", motion=True),
    _m(93, "base", "set_velocity", "linear:vector3 angular:vector3", motion=True),
    _m(94, "base", "get_properties", "", "base.BaseProperties"),
    # gripper (100-104)
    _m(100, "gripper", "open", motion=True, long=True),
    _m(101, "gripper", "grab", "", "bool", motion=True, long=True),
    _m(102, "gripper", "is_holding_something", "", "gripper.HoldingStatus"),
    # button (110-111), switch (115-119)
    _m(110, "button", "push"),
    _m(115, "switch", "set_position", "position:int"),
    _m(116, "switch", "get_position", "", "int"),
    _m(117, "switch", "get_number_of_positions", "", "switch.SwitchPositions"),
    # camera (120-124): images as msgpack binary
    _m(120, "camera", "get_images", "filter_source_names:list?", "camera.Images"),
    _m(121, "camera", "get_point_cloud", "", "camera.PointCloud"),
    _m(122, "camera", "get_properties", "", "camera.CameraProperties"),
)

#: Method id -> spec.
BY_ID: dict[int, MethodSpec] = {m.id: m for m in METHODS}

#: Ids the ATmega328P firmware implements (its HELLO reply lists them again).
FIRMWARE_METHODS = (3, 4, 5, 10, 11, 12, 13, 14, 40, 41, 46, 50, 60, 61, 63)


def methods_for(subtype: str) -> dict[str, MethodSpec]:
    """Method name -> spec for an API subtype (the shared ``*`` rows included); do not modify."""
    table = _BY_SUBTYPE.get(subtype)
    if table is None:
        table = {m.name: m for m in METHODS if m.api == "*"}
        table.update({m.name: m for m in METHODS if m.api == subtype})
        _BY_SUBTYPE[subtype] = table
    return table


_BY_SUBTYPE: dict[str, dict[str, MethodSpec]] = {}


def by_name(subtype: str, name: str) -> MethodSpec:
    """The spec of ``subtype``'s method ``name``; KeyError naming the choices when unknown."""
    table = methods_for(subtype)
    try:
        return table[name]
    except KeyError:
        raise KeyError(f"{subtype} has no fast-path method {name!r}; methods: {', '.join(sorted(table))}") from None


def _check_table() -> None:
    ids = [m.id for m in METHODS]
    assert len(ids) == len(set(ids)), "duplicate method id"
    assert all(0 < i < 128 for i in ids), "method ids must be 1..127"
    pairs = [(m.api, m.name) for m in METHODS]
    assert len(pairs) == len(set(pairs)), "duplicate method name"


_check_table()
