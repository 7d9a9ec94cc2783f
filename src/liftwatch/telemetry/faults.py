"""Fault types, their severities, the detector's thresholds and its output (DOMAIN.md §3).

No national time thresholds exist; every number here is a documented, configurable default
(``LIFTWATCH_DETECTOR_*`` environment variables, read by the wiring into ``DetectorSettings``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

import msgspec

from liftwatch.telemetry.protocol import EventCode


class FaultType(StrEnum):
    SAFETY_CIRCUIT = "safety_circuit"  # 01 运行中安全回路断路
    DOOR_CLOSE_FAILURE = "door_close_failure"  # 02 关门故障
    DOOR_OPEN_FAILURE = "door_open_failure"  # 03 开门故障
    STOPPED_OUTSIDE_DOOR_ZONE = "stopped_outside_door_zone"  # 04 门区外停梯
    UNINTENDED_MOVEMENT = "unintended_movement"  # 05 轿厢意外移动
    MOTOR_RUNTIME_LIMITER = "motor_runtime_limiter"  # 06
    FLOOR_POSITION_LOST = "floor_position_lost"  # 07
    RESTART_PREVENTED = "restart_prevented"  # 08
    OVERRUN_TOP = "overrun_top"  # 09 冲顶
    OVERRUN_BOTTOM = "overrun_bottom"  # 10 蹲底
    ENTRAPMENT = "entrapment"  # 11 困人 (detail: in_door_zone true = 平层关人)
    OVERSPEED = "overspeed"  # 超速 (severity major at 1.2x rated, critical at 1.4x)
    POWER_CUT = "power_cut"  # 停电
    ALARM_BUTTON = "alarm_button"  # 用户报警
    TERMINAL_OFFLINE = "terminal_offline"  # 长时间离线
    CLOCK_SKEW = "clock_skew"  # the terminal's clock is far off: its timestamps are not trusted
    ESC_SAFETY_CIRCUIT = "esc_safety_circuit"  # 61
    ESC_OVERSPEED = "esc_overspeed"  # 62
    ESC_UNINTENDED_REVERSAL = "esc_unintended_reversal"  # 63
    ESC_MISSING_STEP = "esc_missing_step"  # 64
    ESC_RESTART_PREVENTED = "esc_restart_prevented"  # 65


class Severity(StrEnum):
    CRITICAL = "critical"  # a person may be trapped or hurt: goes to rescue / immediate attention
    MAJOR = "major"  # the elevator must not run until checked
    MINOR = "minor"
    INFO = "info"


SEVERITY: dict[FaultType, Severity] = {
    FaultType.SAFETY_CIRCUIT: Severity.CRITICAL,
    FaultType.DOOR_CLOSE_FAILURE: Severity.MINOR,
    FaultType.DOOR_OPEN_FAILURE: Severity.MAJOR,
    FaultType.STOPPED_OUTSIDE_DOOR_ZONE: Severity.MAJOR,
    FaultType.UNINTENDED_MOVEMENT: Severity.CRITICAL,
    FaultType.MOTOR_RUNTIME_LIMITER: Severity.MAJOR,
    FaultType.FLOOR_POSITION_LOST: Severity.MINOR,
    FaultType.RESTART_PREVENTED: Severity.MAJOR,
    FaultType.OVERRUN_TOP: Severity.CRITICAL,
    FaultType.OVERRUN_BOTTOM: Severity.CRITICAL,
    FaultType.ENTRAPMENT: Severity.CRITICAL,
    FaultType.OVERSPEED: Severity.MAJOR,  # raised to CRITICAL at the severe ratio
    FaultType.POWER_CUT: Severity.MAJOR,
    FaultType.ALARM_BUTTON: Severity.CRITICAL,
    FaultType.TERMINAL_OFFLINE: Severity.MINOR,
    FaultType.CLOCK_SKEW: Severity.INFO,
    FaultType.ESC_SAFETY_CIRCUIT: Severity.CRITICAL,
    FaultType.ESC_OVERSPEED: Severity.CRITICAL,
    FaultType.ESC_UNINTENDED_REVERSAL: Severity.CRITICAL,
    FaultType.ESC_MISSING_STEP: Severity.CRITICAL,
    FaultType.ESC_RESTART_PREVENTED: Severity.MAJOR,
}

# Controller-reported event codes and the fault each raises or clears.
EVENT_FAULT: dict[EventCode, FaultType] = {
    EventCode.SAFETY_CIRCUIT: FaultType.SAFETY_CIRCUIT,
    EventCode.DOOR_CLOSE_FAILURE: FaultType.DOOR_CLOSE_FAILURE,
    EventCode.DOOR_OPEN_FAILURE: FaultType.DOOR_OPEN_FAILURE,
    EventCode.STOPPED_OUTSIDE_DOOR_ZONE: FaultType.STOPPED_OUTSIDE_DOOR_ZONE,
    EventCode.UNINTENDED_MOVEMENT: FaultType.UNINTENDED_MOVEMENT,
    EventCode.MOTOR_RUNTIME_LIMITER: FaultType.MOTOR_RUNTIME_LIMITER,
    EventCode.FLOOR_POSITION_LOST: FaultType.FLOOR_POSITION_LOST,
    EventCode.RESTART_PREVENTED: FaultType.RESTART_PREVENTED,
    EventCode.OVERRUN_TOP: FaultType.OVERRUN_TOP,
    EventCode.OVERRUN_BOTTOM: FaultType.OVERRUN_BOTTOM,
    EventCode.ENTRAPMENT: FaultType.ENTRAPMENT,
    EventCode.ESC_SAFETY_CIRCUIT: FaultType.ESC_SAFETY_CIRCUIT,
    EventCode.ESC_OVERSPEED: FaultType.ESC_OVERSPEED,
    EventCode.ESC_UNINTENDED_REVERSAL: FaultType.ESC_UNINTENDED_REVERSAL,
    EventCode.ESC_MISSING_STEP: FaultType.ESC_MISSING_STEP,
    EventCode.ESC_RESTART_PREVENTED: FaultType.ESC_RESTART_PREVENTED,
    EventCode.ALARM_BUTTON: FaultType.ALARM_BUTTON,
}


#: Upper bounds of the settings: the compiled detector holds them in 64-bit C integers (a bound ten years
#: long for a duration, 2**40 for a count), so a value too large is refused by name when settings are read.
MS_MAX = 10 * 365 * 86_400_000
COUNT_MAX = 1 << 40


class DetectorSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Thresholds of the fault rules, in milliseconds unless named otherwise.

    Plain data, so the detector stays pure: the wiring reads ``LIFTWATCH_DETECTOR_<NAME>`` once
    (``telemetry.service.detector_settings_from_env``, which also checks the bounds below) and passes the
    result down; constructed directly it holds exactly what it is given."""

    confirm_ms: Annotated[
        int, msgspec.Meta(ge=0, le=MS_MAX, description="a condition must hold this long (anti-chatter)")
    ] = 5_000
    entrapment_outside_zone_ms: Annotated[
        int, msgspec.Meta(ge=0, le=MS_MAX, description="困人 outside the door zone")
    ] = 30_000
    entrapment_in_zone_ms: Annotated[
        int, msgspec.Meta(ge=0, le=MS_MAX, description="平层关人: stopped at a landing")
    ] = 120_000
    door_close_timeout_ms: Annotated[
        int, msgspec.Meta(ge=0, le=MS_MAX, description="close command, door still open")
    ] = 15_000
    door_open_timeout_ms: Annotated[
        int, msgspec.Meta(ge=0, le=MS_MAX, description="open command at a landing, still shut")
    ] = 15_000
    unintended_movement_confirm_ms: Annotated[
        int,
        msgspec.Meta(
            ge=0, le=MS_MAX, description="moving with the doors open this long: unintended movement"
        ),
    ] = 1_000
    overspeed_warning_ratio: Annotated[
        float, msgspec.Meta(gt=1.0, description="speed over rated speed: an overspeed warning above this")
    ] = 1.2
    overspeed_severe_ratio: Annotated[
        float, msgspec.Meta(gt=1.0, description="speed over rated speed: a severe overspeed above this")
    ] = 1.4
    alarm_auto_clear_ms: Annotated[
        int, msgspec.Meta(ge=0, le=MS_MAX, description="an alarm nobody clears ends after")
    ] = 300_000
    heartbeat_interval_ms: Annotated[
        int, msgspec.Meta(gt=0, le=MS_MAX, description="the terminal's status interval when idle (heartbeat)")
    ] = 30_000
    offline_intervals: Annotated[
        int, msgspec.Meta(ge=1, le=COUNT_MAX, description="offline after this many silent intervals")
    ] = 4
    clock_skew_ms: Annotated[
        int, msgspec.Meta(gt=0, le=MS_MAX, description="terminal clock further off is not trusted")
    ] = 300_000
    reorder_window: Annotated[
        int, msgspec.Meta(ge=1, le=COUNT_MAX, description="recent msg_ids remembered per elevator")
    ] = 64
    # Added with the detector (docs/PROTOCOL.md, "Fault rules").
    clear_confirm_ms: Annotated[
        int,
        msgspec.Meta(
            ge=0, le=MS_MAX, description="a held condition must stay false this long before it clears"
        ),
    ] = 5_000
    overspeed_confirm_ms: Annotated[
        int, msgspec.Meta(ge=0, le=MS_MAX, description="speed above a ratio this long")
    ] = 1_000
    unintended_movement_speed: Annotated[
        float,
        msgspec.Meta(ge=0.0, description="m/s: faster than this counts as moving (unintended movement)"),
    ] = 0.1
    safety_circuit_after_run_ms: Annotated[
        int,
        msgspec.Meta(ge=0, le=MS_MAX, description="a safety circuit opening this soon after running counts"),
    ] = 3_000
    restart_seq_max: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=COUNT_MAX,
            description="a seq below this, after larger ones, with a newer ts: terminal restart",
        ),
    ] = 10
    tick_grace_ms: Annotated[
        int,
        msgspec.Meta(
            ge=0, le=MS_MAX, description="tick() confirms timers this late, so in-flight messages land first"
        ),
    ] = 500
    # Added with issue 8, "never lose an alarm" (docs/PROTOCOL.md section 3).
    gap_wait_ms: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=MS_MAX,
            description="after a gap in seq, wait this long (platform time) for the missing one; 0: never",
        ),
    ] = 3_000
    seq_jump_max: Annotated[
        int,
        msgspec.Meta(
            ge=1, le=COUNT_MAX, description="a seq further than this from the newest one is not trusted"
        ),
    ] = 1_000_000
    seq_rate_max: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=COUNT_MAX,
            description="messages per second a terminal can publish: a faster seq jump is not trusted",
        ),
    ] = 100

    @property
    def offline_after_ms(self) -> int:
        return self.heartbeat_interval_ms * self.offline_intervals


@dataclass(frozen=True, slots=True)
class FaultChange:
    """A fault raised or cleared on one elevator: the detector's only output.

    ``fault_id`` is stable (elevator, type, start) so a redelivered message never doubles a fault.
    ``at_ms`` is when it happened (trusted terminal time, else platform receive time).
    """

    registration_code: str
    fault_type: FaultType
    raised: bool  # True: raised, False: cleared
    at_ms: int
    started_ms: int
    severity: Severity
    evidence: tuple[str, ...] = ()  # msg_ids that raised (or cleared) it
    detail: dict[str, object] = field(default_factory=dict)

    @property
    def fault_id(self) -> str:
        return f"{self.registration_code}:{self.fault_type.value}:{self.started_ms}"
