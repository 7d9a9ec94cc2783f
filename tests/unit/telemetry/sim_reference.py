"""A reference reading of the fault rules on the simulator's clean stream (no network noise), used to check
that the simulator's ground truth says exactly what the rules say, no more, no less."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from liftwatch.telemetry.faults import EVENT_FAULT, DetectorSettings, FaultType
from liftwatch.telemetry.protocol import DoorCommand, Event, EventCode, Message, Status


@dataclass
class Interval:
    code: str
    fault_type: FaultType
    start_ms: int
    end_ms: int | None
    in_zone: bool = False


def _predicates(s: Status, rated: float) -> dict[FaultType, bool]:
    stopped = not s.running
    return {
        FaultType.STOPPED_OUTSIDE_DOOR_ZONE: stopped and not s.door_zone,
        FaultType.UNINTENDED_MOVEMENT: s.running and not s.door_closed,
        FaultType.ENTRAPMENT: stopped and s.door_closed and s.passenger is True,
        FaultType.DOOR_CLOSE_FAILURE: s.door_command == DoorCommand.CLOSE and not s.door_closed,
        FaultType.DOOR_OPEN_FAILURE: s.door_command == DoorCommand.OPEN
        and s.door_closed
        and stopped
        and s.door_zone,
        FaultType.OVERRUN_TOP: s.up_limit,
        FaultType.OVERRUN_BOTTOM: s.down_limit,
        FaultType.OVERSPEED: s.running and (s.speed or 0.0) > 1.2 * rated,
        FaultType.POWER_CUT: not s.power,
        FaultType.SAFETY_CIRCUIT: not s.safety_circuit,
    }


def hold_ms(fault_type: FaultType, settings: DetectorSettings, in_zone: bool) -> int:
    if fault_type is FaultType.ENTRAPMENT:
        return settings.entrapment_in_zone_ms if in_zone else settings.entrapment_outside_zone_ms
    if fault_type is FaultType.UNINTENDED_MOVEMENT:
        return settings.unintended_movement_confirm_ms
    if fault_type is FaultType.DOOR_CLOSE_FAILURE:
        return settings.door_close_timeout_ms
    if fault_type is FaultType.DOOR_OPEN_FAILURE:
        return settings.door_open_timeout_ms
    if fault_type is FaultType.TERMINAL_OFFLINE:
        return settings.offline_after_ms
    if (
        fault_type is FaultType.ALARM_BUTTON
        or fault_type.value.startswith("esc_")
        or fault_type
        in (
            FaultType.MOTOR_RUNTIME_LIMITER,
            FaultType.FLOOR_POSITION_LOST,
            FaultType.RESTART_PREVENTED,
            FaultType.CLOCK_SKEW,
        )
    ):
        return 0
    return settings.confirm_ms


def conditions(
    stream: Iterable[tuple[int, str, Message]],
    rated: dict[str, float],
    settings: DetectorSettings,
    end_ms: int,
) -> list[Interval]:
    """Every interval in which a rule's condition held, from a clean stream in true-time order."""
    out: list[Interval] = []
    open_: dict[tuple[str, FaultType], Interval] = {}
    last_seen: dict[str, int] = {}
    stop_floor: dict[str, int] = {}
    last_seq: dict[str, int] = {}
    deadline: dict[str, int] = {}
    for t, code, msg in stream:
        prev = last_seen.get(code)
        if prev is not None and t - prev > settings.offline_after_ms:
            out.append(Interval(code, FaultType.TERMINAL_OFFLINE, prev, t))
        last_seen[code] = t
        contiguous = last_seq.get(code) == msg.seq - 1
        last_seq[code] = msg.seq
        skewed = abs(msg.ts - t) > settings.clock_skew_ms
        _toggle(out, open_, code, FaultType.CLOCK_SKEW, skewed, t)
        if isinstance(msg, Event):
            if msg.code is EventCode.MODE_CHANGE:
                continue
            ft = EVENT_FAULT[msg.code]
            if msg.code is EventCode.ALARM_BUTTON:
                # one alarm until cleared or auto-cleared; every press moves the auto-clear on
                iv = open_.get((code, ft))
                if iv is not None and t >= deadline[code]:
                    iv.end_ms = deadline[code]
                    del open_[(code, ft)]
                if msg.active:
                    _toggle(out, open_, code, ft, True, t)
                    deadline[code] = t + settings.alarm_auto_clear_ms
                else:
                    _toggle(out, open_, code, ft, False, t)
            else:
                _toggle(out, open_, code, ft, msg.active, t)
        elif isinstance(msg, Status):
            # 07 from status: stopped at one floor, then at another, and no run in between
            if msg.running:
                stop_floor.pop(code, None)
            elif msg.floor is not None:
                before = stop_floor.get(code)
                if before is not None and before != msg.floor and contiguous:
                    out.append(Interval(code, FaultType.FLOOR_POSITION_LOST, t, t))
                stop_floor[code] = msg.floor
            for ft, holds in _predicates(msg, rated[code]).items():
                iv = _toggle(out, open_, code, ft, holds, t)
                if iv is not None and ft is FaultType.ENTRAPMENT:
                    iv.in_zone = msg.door_zone
    for (code, ft), iv in open_.items():
        if ft is FaultType.ALARM_BUTTON:
            iv.end_ms = deadline[code]
    for code, prev in last_seen.items():
        if end_ms - prev > settings.offline_after_ms:
            out.append(Interval(code, FaultType.TERMINAL_OFFLINE, prev, None))
    return _merge(out, settings)


def _merge(intervals: list[Interval], settings: DetectorSettings) -> list[Interval]:
    """A held condition that was long enough to raise and comes back within the clear confirmation is
    the same fault going on (the detector's clear_confirm_ms)."""
    held = {ft for ft in FaultType if ft not in _EVENTS}
    last: dict[tuple[str, FaultType], Interval] = {}
    out: list[Interval] = []
    for iv in sorted(intervals, key=lambda i: i.start_ms):
        key = (iv.code, iv.fault_type)
        prev = last.get(key)
        if (
            iv.fault_type in held
            and prev is not None
            and prev.end_ms is not None
            and iv.start_ms - prev.end_ms < settings.clear_confirm_ms
            and prev.end_ms - prev.start_ms >= hold_ms(prev.fault_type, settings, prev.in_zone)
        ):
            prev.end_ms = iv.end_ms
            continue
        last[key] = iv
        out.append(iv)
    return out


_EVENTS = {
    FaultType.ALARM_BUTTON,
    FaultType.MOTOR_RUNTIME_LIMITER,
    FaultType.RESTART_PREVENTED,
    FaultType.TERMINAL_OFFLINE,
    FaultType.CLOCK_SKEW,
    FaultType.FLOOR_POSITION_LOST,
    *(ft for ft in FaultType if ft.value.startswith("esc_")),
}


def _toggle(
    out: list[Interval],
    open_: dict[tuple[str, FaultType], Interval],
    code: str,
    ft: FaultType,
    holds: bool,
    t: int,
) -> Interval | None:
    key = (code, ft)
    iv = open_.get(key)
    if holds and iv is None:
        iv = open_[key] = Interval(code, ft, t, None)
        out.append(iv)
        return iv
    if not holds and iv is not None:
        iv.end_ms = t
        del open_[key]
    return None
