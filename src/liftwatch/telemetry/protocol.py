"""The terminal protocol (docs/PROTOCOL.md): message shapes and a fast, strict decoder.

Terminals publish JSON on MQTT topics ``liftwatch/v1/{registration_code}/{status|event|heartbeat}``;
gateways POST arrays of the same messages, each with ``registration_code`` and ``type``, to
``/api/v1/telemetry``. Unknown fields are tolerated (newer terminals), wrong types and impossible values
are rejected with a reason. Data items follow GB/T 24476 (DOMAIN.md §2).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated

import msgspec

TOPIC_PREFIX = "liftwatch/v1/"
MAX_PAYLOAD_BYTES = 64 * 1024  # a status message is ~300 bytes; anything this big is hostile
# Terminal clock plausibility: 2000-01-01 .. 2100-01-01 in ms.
_TS = Annotated[int, msgspec.Meta(ge=946_684_800_000, lt=4_102_444_800_000)]
_ID = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_SEQ = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
_COUNT = Annotated[int, msgspec.Meta(ge=0, lt=2**53)]


class MessageType(StrEnum):
    STATUS = "status"
    EVENT = "event"
    HEARTBEAT = "heartbeat"


class ServiceMode(IntEnum):
    """GB/T 24476 service mode (服务模式)."""

    OUT_OF_SERVICE = 0  # 停止服务
    NORMAL = 1  # 正常
    INSPECTION = 2  # 检修
    FIRE_RETURN = 3  # 消防返回
    FIREFIGHTER = 4  # 消防员运行
    EMERGENCY_POWER = 5  # 应急电源
    EARTHQUAKE = 6  # 地震
    UNKNOWN = 7


class Direction(IntEnum):
    NONE = 0
    UP = 1
    DOWN = 2


class DoorCommand(IntEnum):
    """The controller's door command, when the terminal can read it (for door open/close failures)."""

    NONE = 0
    OPEN = 1
    CLOSE = 2


class EventCode(StrEnum):
    """Events a controller reports itself (regulator fault table codes, DOMAIN.md §3)."""

    SAFETY_CIRCUIT = "01"  # 运行中安全回路断路
    DOOR_CLOSE_FAILURE = "02"
    DOOR_OPEN_FAILURE = "03"
    STOPPED_OUTSIDE_DOOR_ZONE = "04"
    UNINTENDED_MOVEMENT = "05"
    MOTOR_RUNTIME_LIMITER = "06"
    FLOOR_POSITION_LOST = "07"
    RESTART_PREVENTED = "08"
    OVERRUN_TOP = "09"
    OVERRUN_BOTTOM = "10"
    ENTRAPMENT = "11"
    ESC_SAFETY_CIRCUIT = "61"
    ESC_OVERSPEED = "62"
    ESC_UNINTENDED_REVERSAL = "63"
    ESC_MISSING_STEP = "64"
    ESC_RESTART_PREVENTED = "65"
    ALARM_BUTTON = "alarm"  # 用户报警 (the car's alarm button)
    MODE_CHANGE = "mode"  # service mode changed (the status carries the new mode)


# gc=False: a message holds numbers, strings, enums and None only, so it can be in no reference cycle; the
# cycle collector then neither tracks nor counts one. A detect worker keeps every elevator's newest status
# (its live board), which each full collection walked, and each decoded message counted towards the next.
class _Base(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True, gc=False):
    msg_id: _ID
    seq: _SEQ
    ts: _TS  # when the terminal observed the state (its clock)
    # Store and forward (docs/PROTOCOL.md section 3): when the terminal sent the message (its clock), so the
    # platform can tell the terminal's clock error (receive time - sent_ts) from the message's age
    # (sent_ts - ts); and a mark on messages forwarded from the terminal's backlog after an outage.
    sent_ts: _TS | None = None
    backlog: bool = False


class Status(_Base, frozen=True, tag="status", tag_field="type", omit_defaults=True):
    """Real-time status (DOMAIN.md §2). The four items every rule needs are required, so a terminal that
    leaves one out is rejected rather than read as "all well"; the rest are optional."""

    mode: ServiceMode
    running: bool  # car status: running / stopped
    door_zone: bool  # in the levelling zone (平层区)
    door_closed: bool
    passenger: bool | None = None  # None: the terminal has no passenger sensor
    direction: Direction = Direction.NONE
    door_command: DoorCommand | None = None
    floor: Annotated[int, msgspec.Meta(ge=-20, le=250)] | None = None
    up_limit: bool = False  # final limit switch at the top acted (冲顶)
    down_limit: bool = False  # at the bottom (蹲底)
    power: bool = True  # main power normal; False = cut (停电)
    safety_circuit: bool = True  # closed = normal
    speed: Annotated[float, msgspec.Meta(ge=0.0, le=30.0)] | None = None  # m/s, absolute
    rated_speed: Annotated[float, msgspec.Meta(gt=0.0, le=20.0)] | None = None
    run_hours: Annotated[float, msgspec.Meta(ge=0.0, lt=1e7)] | None = None
    trips: _COUNT | None = None
    door_cycles: _COUNT | None = None
    rope_bends: _COUNT | None = None


class Event(_Base, frozen=True, tag="event", tag_field="type", omit_defaults=True):
    """An event the controller reports itself: a fault raised (active) or cleared, or the alarm button."""

    code: EventCode
    active: bool = True
    detail: Annotated[str, msgspec.Meta(max_length=500)] = ""


class Heartbeat(_Base, frozen=True, tag="heartbeat", tag_field="type"):
    pass


Message = Status | Event | Heartbeat


class Envelope(msgspec.Struct, frozen=True):
    """A validated message and the elevator it came from."""

    registration_code: str
    message: Message


class Rejected(Exception):
    """A message that is not accepted; ``reason`` is a short, countable category, ``detail`` the why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


_decoders: dict[MessageType, msgspec.json.Decoder[Message]] = {
    MessageType.STATUS: msgspec.json.Decoder(Status),
    MessageType.EVENT: msgspec.json.Decoder(Event),
    MessageType.HEARTBEAT: msgspec.json.Decoder(Heartbeat),
}
_any_decoder = msgspec.json.Decoder(Message)


_KINDS: dict[str, MessageType] = {kind.value: kind for kind in MessageType}
_HEAD, _VERSION = TOPIC_PREFIX.split("/")[:2]


def parse_topic(topic: str) -> tuple[str, MessageType]:
    """``liftwatch/v1/{registration_code}/{type}`` -> (registration code, type), else Rejected.

    Every message passes here: one split and one dict look-up (an enum call costs as much as the rest of
    the parse); the slow path only words the rejection."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == _HEAD and parts[1] == _VERSION and parts[2]:
        kind = _KINDS.get(parts[3])
        if kind is not None:
            return parts[2], kind
    raise _topic_rejection(topic)


def _topic_rejection(topic: str) -> Rejected:
    if not topic.startswith(TOPIC_PREFIX):
        return Rejected("bad_topic", f"topic '{topic[:200]}' is not under {TOPIC_PREFIX}")
    code, sep, kind = topic[len(TOPIC_PREFIX) :].partition("/")
    if not sep or not code or "/" in kind:
        return Rejected("bad_topic", f"topic '{topic[:200]}' is not liftwatch/v1/<registration_code>/<type>")
    return Rejected("bad_topic", f"unknown message type '{kind[:50]}'")


def decode(payload: bytes, kind: MessageType) -> Message:
    """Decode one MQTT payload of a known type. The ``type`` field, if present, must agree."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Rejected("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        return _decoders[kind].decode(payload)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise _rejection(exc) from None


def _rejection(exc: Exception) -> Rejected:
    """The dead-letter reason for a payload msgspec could not take (ValidationError is a DecodeError)."""
    if isinstance(exc, msgspec.ValidationError):
        return Rejected("invalid", str(exc))
    if isinstance(exc, UnicodeDecodeError):
        return Rejected("bad_json", f"not UTF-8: {exc}")
    return Rejected("bad_json", str(exc))


class _Tagged(msgspec.Struct, frozen=True):
    registration_code: Annotated[str, msgspec.Meta(min_length=3, max_length=40)]


def decode_any(item: bytes) -> Envelope:
    """Decode one gateway message (JSON object with ``type`` and ``registration_code``)."""
    if len(item) > MAX_PAYLOAD_BYTES:
        raise Rejected("too_large", f"{len(item)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        code = msgspec.json.decode(item, type=_Tagged).registration_code
        return Envelope(code, _any_decoder.decode(item))
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise _rejection(exc) from None


_encoder = msgspec.json.Encoder()


def encode(message: Message) -> bytes:
    """JSON of a message, with its ``type`` tag (terminals and the simulator use this)."""
    return _encoder.encode(message)
