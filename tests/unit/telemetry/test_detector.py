"""The fault detector, rule by rule: crafted message sequences and the exact FaultChanges they must give."""

from __future__ import annotations

from typing import Any

import pytest

from liftwatch.telemetry.detector import Detector
from liftwatch.telemetry.faults import DetectorSettings, FaultChange, FaultType, Severity
from liftwatch.telemetry.protocol import (
    DoorCommand,
    Event,
    EventCode,
    Heartbeat,
    Message,
    ServiceMode,
    Status,
)
from liftwatch.telemetry.service import detector_settings_from_env

T0 = 1_795_424_400_000  # 2026-11-23 09:00 UTC
CODE = "31101234567890"
F = FaultType
S = Severity

# The documented defaults, spelled out so LIFTWATCH_DETECTOR_* in the environment cannot change a test.
DEFAULTS: dict[str, Any] = {
    "confirm_ms": 5_000,
    "clear_confirm_ms": 5_000,
    "entrapment_outside_zone_ms": 30_000,
    "entrapment_in_zone_ms": 120_000,
    "door_close_timeout_ms": 15_000,
    "door_open_timeout_ms": 15_000,
    "unintended_movement_confirm_ms": 1_000,
    "unintended_movement_speed": 0.1,
    "overspeed_confirm_ms": 1_000,
    "overspeed_warning_ratio": 1.2,
    "overspeed_severe_ratio": 1.4,
    "safety_circuit_after_run_ms": 3_000,
    "alarm_auto_clear_ms": 300_000,
    "heartbeat_interval_ms": 30_000,
    "offline_intervals": 4,
    "clock_skew_ms": 300_000,
    "reorder_window": 64,
    "restart_seq_max": 10,
    "tick_grace_ms": 0,
    "gap_wait_ms": 3_000,
    "seq_jump_max": 1_000_000,
    "seq_rate_max": 100,
}


QUIET = 1_000  # offline_intervals for tests that let hours pass in silence


def make(rated: dict[str, float] | None = None, **over: Any) -> Detector:
    return Detector(DetectorSettings(**{**DEFAULTS, **over}), rated_speed=rated)


def fc(
    ft: FaultType,
    raised: bool,
    at: int,
    started: int,
    sev: Severity,
    evidence: tuple[str, ...],
    detail: dict[str, object] | None = None,
    code: str = CODE,
) -> FaultChange:
    return FaultChange(code, ft, raised, at, started, sev, evidence, detail or {})


def status_msg(seq: int, ts: int, **kw: Any) -> Status:
    """A status, by default: normal mode, stopped in the door zone, door closed."""
    fields: dict[str, Any] = {
        "mode": ServiceMode.NORMAL,
        "running": False,
        "door_zone": True,
        "door_closed": True,
    }
    fields.update(kw)
    return Status(msg_id=f"s{seq}", seq=seq, ts=ts, **fields)


class Terminal:
    """One simulated terminal: numbers its messages (msg_id "<kind><seq>") and feeds them."""

    def __init__(self, det: Detector, code: str = CODE, latency_ms: int = 0, clock_off_ms: int = 0) -> None:
        self.det = det
        self.code = code
        self.seq = 0
        self.latency = latency_ms
        self.clock_off = clock_off_ms  # terminal clock minus true time
        self.sent: list[tuple[Message, int]] = []

    def _feed(self, msg: Message, at: int) -> list[FaultChange]:
        now = at + self.latency
        self.sent.append((msg, now))
        return self.det.feed(self.code, msg, now)

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def status(self, at: int, **kw: Any) -> list[FaultChange]:
        return self._feed(status_msg(self._next(), at + self.clock_off, **kw), at)

    def event(self, at: int, code: EventCode, active: bool = True, detail: str = "") -> list[FaultChange]:
        seq = self._next()
        msg = Event(
            msg_id=f"e{seq}", seq=seq, ts=at + self.clock_off, code=code, active=active, detail=detail
        )
        return self._feed(msg, at)

    def heartbeat(self, at: int) -> list[FaultChange]:
        seq = self._next()
        return self._feed(Heartbeat(msg_id=f"h{seq}", seq=seq, ts=at + self.clock_off), at)


def _no(changes: list[FaultChange]) -> None:
    assert changes == []


# --------------------------------------------------------------------------- held conditions


def test_stopped_outside_door_zone_raises_after_confirm_and_clears_when_back_in_zone() -> None:
    det = make()
    term = Terminal(det)
    _no(term.status(T0, door_zone=False))  # s1: stopped between floors
    _no(term.status(T0 + 3_000, door_zone=False))  # s2: periodic, unchanged
    _no(det.tick(T0 + 4_999))
    raised = fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1", "s2"))
    assert det.tick(T0 + 5_000) == [raised]
    assert det.open_faults(CODE) == [raised]
    _no(det.tick(T0 + 9_000))  # never twice
    _no(term.status(T0 + 20_000))  # s3: back in the zone; the clear needs 5 s of it
    _no(det.tick(T0 + 24_999))
    assert det.tick(T0 + 25_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, False, T0 + 20_000, T0, S.MAJOR, ("s3",))
    ]
    assert det.open_faults(CODE) == []
    assert det.stats.raised == {F.STOPPED_OUTSIDE_DOOR_ZONE: 1}
    assert det.stats.cleared == {F.STOPPED_OUTSIDE_DOOR_ZONE: 1}


def test_a_late_tick_dates_the_raise_when_the_threshold_was_crossed() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0, door_zone=False)
    assert det.tick(T0 + 60_000) == [fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))]


def test_the_next_message_confirms_a_held_condition_without_tick() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0, door_zone=False)  # s1
    # The next status (back in zone, 8 s later) proves the condition held past 5 s: raised, then clearing.
    assert term.status(T0 + 8_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))
    ]
    assert term.heartbeat(T0 + 13_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, False, T0 + 8_000, T0, S.MAJOR, ("s2",))
    ]


def test_chatter_inside_the_confirmation_window_raises_nothing() -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    for k in range(20):  # out of zone 4.9 s, in zone 0.1 s, twenty times over
        _no(term.status(T0 + k * 5_000, door_zone=False))
        _no(term.status(T0 + k * 5_000 + 4_900))
    _no(det.tick(T0 + 200_000))
    assert det.open_faults(CODE) == []
    assert det.stats.raised == {}


def test_a_condition_returning_inside_the_clear_window_continues_the_same_fault() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0, door_zone=False)  # s1
    assert det.tick(T0 + 5_000) == [fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))]
    _no(term.status(T0 + 10_000))  # s2: in zone for 3 s only
    _no(term.status(T0 + 13_000, door_zone=False))  # s3
    _no(det.tick(T0 + 30_000))
    _no(term.status(T0 + 40_000))  # s4: in zone for good
    assert det.tick(T0 + 45_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, False, T0 + 40_000, T0, S.MAJOR, ("s4",))
    ]
    assert det.stats.raised == {F.STOPPED_OUTSIDE_DOOR_ZONE: 1}


def test_stopped_outside_the_zone_only_counts_in_normal_mode() -> None:
    det = make(offline_intervals=QUIET)
    for i, mode in enumerate((ServiceMode.INSPECTION, ServiceMode.OUT_OF_SERVICE, ServiceMode.FIRE_RETURN)):
        Terminal(det, code=f"E{i}").status(T0, door_zone=False, mode=mode)
    _no(det.tick(T0 + 60_000))


def test_unintended_movement_running_with_the_door_open() -> None:
    det = make()
    term = Terminal(det)
    _no(term.status(T0, running=True, door_closed=False, door_zone=False))  # s1
    _no(det.tick(T0 + 999))
    assert det.tick(T0 + 1_000) == [fc(F.UNINTENDED_MOVEMENT, True, T0 + 1_000, T0, S.CRITICAL, ("s1",))]
    _no(term.status(T0 + 3_000))  # s2: stopped, closed
    assert det.tick(T0 + 8_000) == [fc(F.UNINTENDED_MOVEMENT, False, T0 + 3_000, T0, S.CRITICAL, ("s2",))]


def test_unintended_movement_speed_while_stopped_with_the_door_open() -> None:
    det = make()
    term = Terminal(det)
    _no(term.status(T0, door_closed=False, speed=0.1))  # not faster than 0.1 m/s: levelling creep
    _no(term.status(T0 + 500, door_closed=False, speed=0.15))  # s2: the car drifts, door open
    assert det.tick(T0 + 1_500) == [
        fc(F.UNINTENDED_MOVEMENT, True, T0 + 1_500, T0 + 500, S.CRITICAL, ("s2",))
    ]


def test_a_brief_door_open_run_is_filtered() -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    term.status(T0, running=True, door_closed=False)  # advance opening while levelling, 0.8 s
    term.status(T0 + 800, door_closed=False)
    _no(det.tick(T0 + 10_000))


@pytest.mark.parametrize(("field", "fault"), [("up_limit", F.OVERRUN_TOP), ("down_limit", F.OVERRUN_BOTTOM)])
def test_overrun_limit_switches(field: str, fault: FaultType) -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    _no(term.status(T0, door_zone=True, **{field: True}))  # s1
    _no(term.status(T0 + 2_000, **{field: True}))  # s2
    assert det.tick(T0 + 5_000) == [fc(fault, True, T0 + 5_000, T0, S.CRITICAL, ("s1", "s2"))]
    term.status(T0 + 600_000)  # s3: switch reset after the rescue
    assert det.tick(T0 + 605_000) == [fc(fault, False, T0 + 600_000, T0, S.CRITICAL, ("s3",))]


def test_power_cut() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0, power=False)
    assert det.tick(T0 + 5_000) == [fc(F.POWER_CUT, True, T0 + 5_000, T0, S.MAJOR, ("s1",))]
    term.status(T0 + 60_000, power=True)
    assert det.tick(T0 + 65_000) == [fc(F.POWER_CUT, False, T0 + 60_000, T0, S.MAJOR, ("s2",))]


def test_safety_circuit_open_while_running_and_just_after() -> None:
    det = make()
    a = Terminal(det, code="A")
    a.status(T0, running=True, door_zone=False, safety_circuit=False)  # opens during the run
    a.status(T0 + 1_000, safety_circuit=False)  # emergency stop (in a zone), still open
    b = Terminal(det, code="B")
    b.status(T0, running=True, door_zone=False)
    b.status(T0 + 1_000, safety_circuit=False)  # open 1 s after the run ended: counts
    c = Terminal(det, code="C")
    c.status(T0 - 60_000, running=True)
    c.status(T0 - 50_000)
    c.status(T0, safety_circuit=False)  # opened while parked (e.g. a landing door forced): not this rule
    assert det.tick(T0 + 6_000) == [
        fc(F.SAFETY_CIRCUIT, True, T0 + 5_000, T0, S.CRITICAL, ("s1", "s2"), code="A"),
        fc(F.SAFETY_CIRCUIT, True, T0 + 6_000, T0 + 1_000, S.CRITICAL, ("s2",), code="B"),
    ]
    a.status(T0 + 30_000)  # s3: closed again
    assert det.tick(T0 + 35_000) == [
        fc(F.SAFETY_CIRCUIT, False, T0 + 30_000, T0, S.CRITICAL, ("s3",), code="A")
    ]


@pytest.mark.parametrize(("late_by", "started"), [(100, T0 + 4_500), (3_500, T0 + 5_000)])
def test_safety_circuit_found_when_the_report_of_the_opening_was_overtaken(
    late_by: int, started: int
) -> None:
    """The car runs 5 s between reports; the "open while running" status s2 arrives after the "stopped,
    open" one. Within gap_wait_ms it is applied in its place (the fault starts when it says); later it is
    stale, and the stop right after a running report still counts."""
    det = make()
    a = Terminal(det, code="A")
    a.status(T0, running=True, door_zone=False)  # s1
    late = status_msg(2, T0 + 4_500, running=True, door_zone=False, safety_circuit=False)
    a.seq = 2
    a.status(T0 + 5_000, door_zone=False, safety_circuit=False)  # s3, stopped 5 s after s1
    det.feed("A", late, T0 + 5_000 + late_by)
    raised = det.tick(T0 + 15_000)
    assert [(c.fault_type, c.raised, c.started_ms) for c in raised if c.fault_type is F.SAFETY_CIRCUIT] == [
        (F.SAFETY_CIRCUIT, True, started)
    ]


def test_door_close_failure() -> None:
    det = make()
    term = Terminal(det)
    _no(term.status(T0, door_closed=False, door_command=DoorCommand.CLOSE))  # s1
    _no(term.status(T0 + 10_000, door_closed=False, door_command=DoorCommand.CLOSE))  # s2
    _no(det.tick(T0 + 14_999))
    assert det.tick(T0 + 15_000) == [fc(F.DOOR_CLOSE_FAILURE, True, T0 + 15_000, T0, S.MINOR, ("s1", "s2"))]
    term.status(T0 + 20_000, door_closed=True, door_command=DoorCommand.NONE)  # s3
    assert det.tick(T0 + 25_000) == [fc(F.DOOR_CLOSE_FAILURE, False, T0 + 20_000, T0, S.MINOR, ("s3",))]


def test_door_close_in_time_raises_nothing() -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    term.status(T0, door_closed=False, door_command=DoorCommand.CLOSE)
    term.status(T0 + 4_000, door_closed=True, door_command=DoorCommand.CLOSE)
    _no(det.tick(T0 + 60_000))


def test_door_open_failure_at_a_landing() -> None:
    det = make()
    term = Terminal(det)
    _no(term.status(T0, door_command=DoorCommand.OPEN))  # s1: stopped in the zone, door stays shut
    assert det.tick(T0 + 15_000) == [fc(F.DOOR_OPEN_FAILURE, True, T0 + 15_000, T0, S.MAJOR, ("s1",))]
    term.status(T0 + 16_000, door_closed=False, door_command=DoorCommand.OPEN)  # s2: opens at last
    assert det.tick(T0 + 21_000) == [fc(F.DOOR_OPEN_FAILURE, False, T0 + 16_000, T0, S.MAJOR, ("s2",))]


def test_door_open_command_outside_the_zone_is_not_an_open_failure() -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    term.status(T0, door_zone=False, mode=ServiceMode.FIREFIGHTER, door_command=DoorCommand.OPEN)
    _no(det.tick(T0 + 60_000))


# --------------------------------------------------------------------------- overspeed


def test_overspeed_major_then_critical_same_fault() -> None:
    det = make(rated={CODE: 2.0})
    term = Terminal(det)
    _no(term.status(T0, running=True, door_zone=False, speed=2.5))  # s1: 1.25x rated
    major = fc(F.OVERSPEED, True, T0 + 1_000, T0, S.MAJOR, ("s1",), {"rated_speed": 2.0})
    assert det.tick(T0 + 1_000) == [major]
    _no(term.status(T0 + 2_000, running=True, door_zone=False, speed=2.9))  # s2: 1.45x
    critical = fc(F.OVERSPEED, True, T0 + 3_000, T0, S.CRITICAL, ("s2",), {"rated_speed": 2.0})
    assert det.tick(T0 + 3_000) == [critical]
    assert critical.fault_id == major.fault_id
    assert det.open_faults(CODE) == [critical]
    _no(term.status(T0 + 4_000, running=True, door_zone=False, speed=2.5))  # s3: back to 1.25x, still open
    _no(term.status(T0 + 6_000, running=True, door_zone=False, speed=2.0))  # s4: rated
    _no(det.tick(T0 + 10_999))
    assert det.tick(T0 + 11_000) == [
        fc(F.OVERSPEED, False, T0 + 6_000, T0, S.CRITICAL, ("s4",))  # severity never drops
    ]
    assert det.stats.raised == {F.OVERSPEED: 1}


def test_overspeed_straight_to_severe_raises_once_as_critical() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0, running=True, door_zone=False, speed=1.5, rated_speed=1.0)  # s1: rated from the message
    assert det.tick(T0 + 1_500) == [
        fc(F.OVERSPEED, True, T0 + 1_000, T0, S.CRITICAL, ("s1",), {"rated_speed": 1.0})
    ]
    _no(det.tick(T0 + 5_000))


def test_overspeed_needs_a_rated_speed_and_the_confirmation() -> None:
    det = make(offline_intervals=QUIET)
    Terminal(det, code="NORATED").status(T0, running=True, speed=9.0)
    t = Terminal(det, code="BLIP", latency_ms=0)
    t.status(T0, running=True, speed=1.3, rated_speed=1.0)
    t.status(T0 + 900, running=True, speed=1.0, rated_speed=1.0)  # 0.9 s above: a sensor blip
    _no(det.tick(T0 + 60_000))


# --------------------------------------------------------------------------- entrapment


def test_entrapment_outside_the_door_zone_after_30_s() -> None:
    det = make()
    term = Terminal(det)
    _no(term.status(T0, door_zone=False, passenger=True))  # s1: stuck between floors, someone inside
    assert det.tick(T0 + 5_000) == [fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))]
    _no(det.tick(T0 + 29_999))
    trapped = fc(F.ENTRAPMENT, True, T0 + 30_000, T0, S.CRITICAL, ("s1",), {"in_door_zone": False})
    assert det.tick(T0 + 30_000) == [trapped]
    # Released: the doors are opened (car levelled by hand first, so it is back in the zone).
    _no(term.status(T0 + 900_000, door_zone=True, door_closed=False, passenger=True))  # s2
    assert det.tick(T0 + 905_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, False, T0 + 900_000, T0, S.MAJOR, ("s2",)),
        fc(F.ENTRAPMENT, False, T0 + 900_000, T0, S.CRITICAL, ("s2",)),
    ]


def test_entrapment_in_the_door_zone_after_120_s() -> None:
    det = make()
    term = Terminal(det)
    _no(term.status(T0, passenger=True))  # s1: at a landing, doors shut, someone inside
    _no(term.heartbeat(T0 + 30_000))  # h2
    _no(det.tick(T0 + 119_999))
    assert det.tick(T0 + 120_000) == [
        fc(F.ENTRAPMENT, True, T0 + 120_000, T0, S.CRITICAL, ("s1", "h2"), {"in_door_zone": True})
    ]
    _no(term.status(T0 + 200_000, passenger=False))  # s3: the passenger is gone
    assert det.tick(T0 + 205_000) == [fc(F.ENTRAPMENT, False, T0 + 200_000, T0, S.CRITICAL, ("s3",))]


def test_normal_rides_do_not_raise_entrapment() -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    t = T0
    for _ in range(50):
        term.status(t, door_closed=False, passenger=True)  # boarding
        term.status(t + 3_000, passenger=True)  # doors closed
        term.status(t + 4_000, running=True, door_zone=False, passenger=True)
        term.status(t + 20_000, passenger=True)  # arrived, doors still shut for a moment
        term.status(t + 22_000, door_closed=False, passenger=True)
        term.status(t + 25_000, door_closed=False, passenger=False)
        t += 40_000
    _no(det.tick(t + 600_000))
    assert det.stats.raised == {}


def test_inspection_mode_suppresses_entrapment_and_stopped_outside_zone() -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    _no(term.status(T0, door_zone=False, passenger=True, mode=ServiceMode.INSPECTION))
    _no(det.tick(T0 + 600_000))


def test_switching_to_inspection_ends_an_entrapment() -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    term.status(T0, passenger=True)
    assert det.tick(T0 + 120_000) == [
        fc(F.ENTRAPMENT, True, T0 + 120_000, T0, S.CRITICAL, ("s1",), {"in_door_zone": True})
    ]
    term.status(T0 + 300_000, passenger=True, mode=ServiceMode.INSPECTION)  # s2: the technician is on it
    assert det.tick(T0 + 305_000) == [fc(F.ENTRAPMENT, False, T0 + 300_000, T0, S.CRITICAL, ("s2",))]


def test_no_passenger_sensor_no_entrapment_rule() -> None:
    det = make(offline_intervals=QUIET)
    Terminal(det).status(T0, door_zone=True, passenger=None)
    _no(det.tick(T0 + 600_000))


# --------------------------------------------------------------------------- floor position


def test_floor_changed_between_two_stops_is_position_lost() -> None:
    det = make()
    term = Terminal(det)
    _no(term.status(T0, floor=3))  # s1
    _no(term.status(T0 + 30_000, floor=3))  # s2
    lost = fc(F.FLOOR_POSITION_LOST, True, T0 + 40_000, T0 + 40_000, S.MINOR, ("s2", "s3"))
    assert term.status(T0 + 40_000, floor=5) == [lost]  # s3: no run in between
    _no(term.status(T0 + 50_000, floor=7))  # still stopped: the same fault, not a new one
    assert term.status(T0 + 60_000, running=True, door_zone=False, floor=7) == [
        fc(F.FLOOR_POSITION_LOST, False, T0 + 60_000, T0 + 40_000, S.MINOR, ("s5",))
    ]


def test_floor_change_across_a_missing_message_is_not_position_lost() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0, floor=3)
    term.seq += 1  # a status lost in transit (QoS 0): the car may have run
    _no(term.status(T0 + 30_000, floor=5))
    term.status(T0 + 40_000, running=True, floor=5)
    _no(term.status(T0 + 50_000, floor=8))  # a run in between
    assert det.stats.raised == {}


# --------------------------------------------------------------------------- controller events


def test_controller_event_raises_and_clears_at_once() -> None:
    det = make()
    term = Terminal(det)
    assert term.event(T0, EventCode.SAFETY_CIRCUIT, detail="SC open at car door") == [
        fc(
            F.SAFETY_CIRCUIT,
            True,
            T0,
            T0,
            S.CRITICAL,
            ("e1",),
            {"event_code": "01", "detail": "SC open at car door"},
        )
    ]
    _no(term.event(T0 + 1_000, EventCode.SAFETY_CIRCUIT))  # already open
    assert term.event(T0 + 9_000, EventCode.SAFETY_CIRCUIT, active=False) == [
        fc(F.SAFETY_CIRCUIT, False, T0 + 9_000, T0, S.CRITICAL, ("e3",))
    ]
    _no(term.event(T0 + 9_500, EventCode.SAFETY_CIRCUIT, active=False))  # nothing open


@pytest.mark.parametrize(
    ("code", "fault", "sev"),
    [
        (EventCode.MOTOR_RUNTIME_LIMITER, F.MOTOR_RUNTIME_LIMITER, S.MAJOR),
        (EventCode.RESTART_PREVENTED, F.RESTART_PREVENTED, S.MAJOR),
        (EventCode.ENTRAPMENT, F.ENTRAPMENT, S.CRITICAL),
        (EventCode.ESC_MISSING_STEP, F.ESC_MISSING_STEP, S.CRITICAL),
        (EventCode.ESC_RESTART_PREVENTED, F.ESC_RESTART_PREVENTED, S.MAJOR),
    ],
)
def test_controller_event_codes(code: EventCode, fault: FaultType, sev: Severity) -> None:
    det = make()
    term = Terminal(det)
    assert term.event(T0, code) == [fc(fault, True, T0, T0, sev, ("e1",), {"event_code": code.value})]
    assert term.event(T0 + 100, code, active=False) == [fc(fault, False, T0 + 100, T0, sev, ("e2",))]


def test_mode_change_event_raises_nothing() -> None:
    det = make()
    _no(Terminal(det).event(T0, EventCode.MODE_CHANGE))
    assert det.stats.messages == 1


def test_alarm_button_clears_on_release_or_by_itself() -> None:
    det = make(offline_intervals=QUIET)
    a = Terminal(det, code="A")
    assert a.event(T0, EventCode.ALARM_BUTTON) == [
        fc(F.ALARM_BUTTON, True, T0, T0, S.CRITICAL, ("e1",), {"event_code": "alarm"}, code="A")
    ]
    assert a.event(T0 + 20_000, EventCode.ALARM_BUTTON, active=False) == [
        fc(F.ALARM_BUTTON, False, T0 + 20_000, T0, S.CRITICAL, ("e2",), code="A")
    ]
    b = Terminal(det, code="B")
    b.event(T0, EventCode.ALARM_BUTTON)
    _no(b.event(T0 + 100_000, EventCode.ALARM_BUTTON))  # pressed again: the auto-clear starts over
    _no(det.tick(T0 + 399_999))
    assert det.tick(T0 + 400_000) == [
        fc(F.ALARM_BUTTON, False, T0 + 400_000, T0, S.CRITICAL, (), {"auto_cleared": True}, code="B")
    ]


def test_controller_fault_is_not_raised_again_by_the_rule_and_only_the_controller_clears_it() -> None:
    det = make()
    term = Terminal(det)
    term.event(T0, EventCode.STOPPED_OUTSIDE_DOOR_ZONE)  # e1
    term.status(T0 + 100, door_zone=False)  # s2: the status agrees
    _no(det.tick(T0 + 10_000))
    _no(term.status(T0 + 20_000))  # s3: in the zone again; the controller has not cleared yet
    _no(det.tick(T0 + 30_000))
    assert term.event(T0 + 40_000, EventCode.STOPPED_OUTSIDE_DOOR_ZONE, active=False) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, False, T0 + 40_000, T0, S.MAJOR, ("e4",))
    ]


def test_controller_clear_also_ends_a_fault_the_rule_raised() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0, door_zone=False)  # s1
    assert det.tick(T0 + 5_000) == [fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))]
    assert term.event(T0 + 6_000, EventCode.STOPPED_OUTSIDE_DOOR_ZONE, active=False) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, False, T0 + 6_000, T0, S.MAJOR, ("e2",))
    ]
    _no(term.status(T0 + 7_000))  # s3: the condition ends; nothing left to clear
    _no(det.tick(T0 + 20_000))
    assert det.stats.cleared == {F.STOPPED_OUTSIDE_DOOR_ZONE: 1}


def test_an_event_redelivered_beyond_the_seq_window_is_still_a_duplicate() -> None:
    det = make(reorder_window=2)
    term = Terminal(det)
    term.event(T0, EventCode.ALARM_BUTTON)  # e1
    term.event(T0 + 1_000, EventCode.ALARM_BUTTON, active=False)  # e2
    for k in range(5):
        term.heartbeat(T0 + 2_000 + k)
    _no(det.feed(CODE, term.sent[0][0], T0 + 10_000))  # e1 again, far behind the window
    assert det.open_faults(CODE) == []
    assert det.stats.stale == 1
    assert det.stats.raised == {F.ALARM_BUTTON: 1}


# --------------------------------------------------------------------------- offline


def test_terminal_offline_and_back() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0)  # s1
    term.heartbeat(T0 + 30_000)  # h2
    _no(det.tick(T0 + 149_999))
    offline = fc(
        F.TERMINAL_OFFLINE, True, T0 + 150_000, T0 + 30_000, S.MINOR, ("h2",), {"silent_ms": 120_000}
    )
    assert det.tick(T0 + 160_000) == [offline]  # found within the 10 s scan, dated at the deadline
    _no(det.tick(T0 + 500_000))
    assert det.open_faults(CODE) == [offline]
    assert term.heartbeat(T0 + 600_000) == [
        fc(F.TERMINAL_OFFLINE, False, T0 + 600_000, T0 + 30_000, S.MINOR, ("h3",))
    ]
    _no(det.tick(T0 + 601_000))


def test_a_held_condition_is_confirmed_even_when_the_terminal_goes_silent() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0, passenger=True, door_zone=False)
    changes = det.tick(T0 + 200_000)
    assert [(c.fault_type, c.at_ms) for c in changes] == [
        (F.STOPPED_OUTSIDE_DOOR_ZONE, T0 + 5_000),
        (F.ENTRAPMENT, T0 + 30_000),
        (F.TERMINAL_OFFLINE, T0 + 120_000),
    ]


# --------------------------------------------------------------------------- duplicates, order, restarts


def test_duplicates_are_ignored_and_counted() -> None:
    det = make()
    term = Terminal(det)
    term.event(T0, EventCode.ALARM_BUTTON)  # e1
    term.event(T0 + 1_000, EventCode.ALARM_BUTTON, active=False)  # e2
    for msg, now in list(term.sent):  # QoS 1 redelivery of both
        _no(det.feed(CODE, msg, now + 5_000))
    assert det.open_faults(CODE) == []
    assert det.stats.duplicates == 2
    assert det.stats.messages == 4
    assert det.stats.raised == {F.ALARM_BUTTON: 1}


@pytest.mark.parametrize(("late_by", "stale"), [(1_000, 0), (3_500, 1)])
def test_a_late_status_does_not_change_held_conditions(late_by: int, stale: int) -> None:
    """s2 arrives after s3: within gap_wait_ms it is applied in its place (and ended by s3 a second
    later), after that it is stale. Either way it raises nothing."""
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    term.status(T0)  # s1
    late = status_msg(2, T0 + 1_000, door_zone=False, passenger=True)
    term.seq = 2
    term.status(T0 + 2_000)  # s3 arrives first
    _no(det.feed(CODE, late, T0 + 2_000 + late_by))
    _no(det.tick(T0 + 600_000 - 1))
    assert det.stats.stale == stale
    assert det.stats.duplicates == 0
    assert det.stats.raised == {}


def test_a_late_event_still_counts() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0)  # s1
    late = Event(msg_id="e2", seq=2, ts=T0 + 1_000, code=EventCode.ALARM_BUTTON)
    term.seq = 2
    term.status(T0 + 2_000)  # s3
    assert det.feed(CODE, late, T0 + 3_000) == [
        fc(F.ALARM_BUTTON, True, T0 + 1_000, T0 + 1_000, S.CRITICAL, ("e2",), {"event_code": "alarm"})
    ]


def test_a_raise_arriving_after_its_clear_gives_both() -> None:
    det = make()
    raise_ = Event(msg_id="e1", seq=1, ts=T0, code=EventCode.DOOR_OPEN_FAILURE)
    clear = Event(msg_id="e2", seq=2, ts=T0 + 4_000, code=EventCode.DOOR_OPEN_FAILURE, active=False)
    _no(det.feed(CODE, clear, T0 + 4_000))
    assert det.feed(CODE, raise_, T0 + 4_100) == [
        fc(F.DOOR_OPEN_FAILURE, True, T0, T0, S.MAJOR, ("e1",), {"event_code": "03"}),
        fc(F.DOOR_OPEN_FAILURE, False, T0 + 4_000, T0, S.MAJOR, ("e2",)),
    ]
    assert det.open_faults(CODE) == []


def test_terminal_restart_rebases_seq() -> None:
    det = make()
    term = Terminal(det)
    term.seq = 5_000
    term.status(T0)  # s5001
    term.seq = -1  # reboot: counts from 0 again
    _no(term.status(T0 + 60_000, door_zone=False))  # s0, newer ts: accepted
    assert det.stats.restarts == 1
    assert det.tick(T0 + 65_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 65_000, T0 + 60_000, S.MAJOR, ("s0",))
    ]
    # ... and a duplicate of the old seq 0 would be a duplicate of the new one
    _no(det.feed(CODE, term.sent[-1][0], T0 + 70_000))
    assert det.stats.duplicates == 1


# --------------------------------------------------------------------------- clock skew


def test_clock_skew_flagged_and_timed_by_the_platform() -> None:
    det = make()
    term = Terminal(det, clock_off_ms=-3_600_000)  # the terminal's clock is an hour behind
    assert term.status(T0, door_zone=False) == [
        fc(F.CLOCK_SKEW, True, T0, T0, S.INFO, ("s1",), {"offset_ms": -3_600_000})
    ]
    _no(term.status(T0 + 1_000, door_zone=False))  # flagged once
    # timings are right on platform time: raised 5 s after the first message was received
    assert det.tick(T0 + 5_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1", "s2"))
    ]
    term.clock_off = 0  # NTP fixed it
    assert term.status(T0 + 10_000, door_zone=False) == [
        fc(F.CLOCK_SKEW, False, T0 + 10_000, T0, S.INFO, ("s3",))
    ]
    assert [c.fault_type for c in det.open_faults(CODE)] == [F.STOPPED_OUTSIDE_DOOR_ZONE]


def test_a_small_clock_offset_is_trusted_and_timers_follow_the_terminal_clock() -> None:
    det = make(tick_grace_ms=500)
    term = Terminal(det, latency_ms=200, clock_off_ms=60_000)  # a minute ahead, 200 ms on the wire
    term.status(T0, door_zone=False)  # ts = T0 + 60 s
    start = T0 + 60_000
    # Due at terminal time start + 5 s = platform T0 + 5.2 s (offset), plus the 0.5 s grace.
    _no(det.tick(T0 + 5_699))
    assert det.tick(T0 + 5_700) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, start + 5_000, start, S.MAJOR, ("s1",))
    ]


def test_tick_grace_lets_an_in_flight_message_cancel_a_condition() -> None:
    det = make(tick_grace_ms=500, offline_intervals=QUIET)
    term = Terminal(det)
    term.status(T0, door_zone=False)
    _no(det.tick(T0 + 5_100))  # the clearing message, sent at T0 + 4.9 s, is still on its way
    msg = status_msg(2, T0 + 4_900)
    _no(det.feed(CODE, msg, T0 + 5_300))
    _no(det.tick(T0 + 60_000))


# --------------------------------------------------------------------------- dump / load


def test_dump_load_then_redelivery_raises_nothing_twice() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0, passenger=True, door_zone=False)  # s1
    term.event(T0 + 1_000, EventCode.ALARM_BUTTON)  # e2
    first = det.tick(T0 + 31_000)
    assert [c.fault_type for c in first] == [F.STOPPED_OUTSIDE_DOOR_ZONE, F.ENTRAPMENT]
    open_before = det.open_faults(CODE)
    blob = det.dump()
    assert set(blob) == {CODE}

    again = make()
    again.load(blob)
    assert again.open_faults(CODE) == open_before
    for msg, now in term.sent:  # the broker redelivers everything after the restart
        _no(again.feed(CODE, msg, now + 40_000))
    _no(again.tick(T0 + 60_000))
    assert again.stats.raised == {}
    # and it carries on: the doors open, everything clears once
    term.det = again
    term.status(T0 + 100_000, door_closed=False, passenger=True)  # s3
    assert again.tick(T0 + 105_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, False, T0 + 100_000, T0, S.MAJOR, ("s3",)),
        fc(F.ENTRAPMENT, False, T0 + 100_000, T0, S.CRITICAL, ("s3",)),
    ]


def test_a_pending_timer_survives_dump_and_load() -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    term.status(T0, passenger=True)  # in the zone: 120 s
    again = make(offline_intervals=QUIET)
    again.load(det.dump([CODE, "UNKNOWN"]))
    assert again.tick(T0 + 120_000) == [
        fc(F.ENTRAPMENT, True, T0 + 120_000, T0, S.CRITICAL, ("s1",), {"in_door_zone": True})
    ]


def test_offline_watch_resumes_after_load() -> None:
    det = make()
    Terminal(det).heartbeat(T0)
    again = make()
    again.load(det.dump())
    assert again.tick(T0 + 120_000) == [
        fc(F.TERMINAL_OFFLINE, True, T0 + 120_000, T0, S.MINOR, ("h1",), {"silent_ms": 120_000})
    ]


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTWATCH_DETECTOR_CONFIRM_MS", "2000")
    det = Detector(detector_settings_from_env())
    Terminal(det).status(T0, door_zone=False)
    _no(det.tick(T0 + 2_000))  # the default grace: 0.5 s
    assert [c.at_ms for c in det.tick(T0 + 2_500)] == [T0 + 2_000]


# ------------------------------------------------------------------- store and forward (issue 8, defect 8)

BACK = T0 + 600_000  # the network comes back 10 minutes after the backlog began (> clock_skew_ms)


def forward(
    det: Detector,
    observed: list[tuple[int, dict[str, Any]]],
    *,
    first_seq: int = 2,
    sent_ts: bool = True,
    backlog: bool = True,
    clock_off: int = 0,
    at: int = BACK,
) -> list[FaultChange]:
    """A terminal observed ``observed`` (time after T0, status fields) while its network was down and
    forwards them at ``at``, 10 ms apart, marked ``backlog`` and/or stamped ``sent_ts`` (its clock)."""
    out: list[FaultChange] = []
    for k, (dt, fields) in enumerate(observed):
        seq = first_seq + k
        now = at + 10 * k
        extra: dict[str, Any] = {"backlog": backlog}
        if sent_ts:
            extra["sent_ts"] = now + clock_off
        out += det.feed(CODE, status_msg(seq, T0 + dt + clock_off, **fields, **extra), now)
    return out


MARKS = [
    pytest.param({"sent_ts": True, "backlog": True}, id="backlog+sent_ts"),
    pytest.param({"sent_ts": True, "backlog": False}, id="sent_ts"),
    pytest.param({"sent_ts": False, "backlog": True}, id="backlog"),
]


@pytest.mark.parametrize("marks", MARKS)
def test_a_backlog_forwarded_ten_minutes_late_still_raises_its_entrapment(marks: dict[str, bool]) -> None:
    det = make()
    Terminal(det).status(T0 - 60_000)  # s1, live: the clock is sound
    trapped = dict(door_zone=False, passenger=True)  # s2: stuck between floors, someone inside
    released = dict(door_zone=True, door_closed=False, passenger=True)  # s3, 40 s later: doors open
    changes = forward(det, [(0, trapped), (40_000, released)], **marks)
    changes += det.tick(BACK + 10_000)
    assert changes == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s2",)),
        fc(F.ENTRAPMENT, True, T0 + 30_000, T0, S.CRITICAL, ("s2",), {"in_door_zone": False}),
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, False, T0 + 40_000, T0, S.MAJOR, ("s3",)),
        fc(F.ENTRAPMENT, False, T0 + 40_000, T0, S.CRITICAL, ("s3",)),
    ]
    assert det.stats.raised == {F.STOPPED_OUTSIDE_DOOR_ZONE: 1, F.ENTRAPMENT: 1}  # and no clock_skew


@pytest.mark.parametrize(
    ("field", "value", "fault", "sev"),
    [
        ("power", False, F.POWER_CUT, S.MAJOR),
        ("up_limit", True, F.OVERRUN_TOP, S.CRITICAL),
        ("down_limit", True, F.OVERRUN_BOTTOM, S.CRITICAL),
    ],
)
def test_a_backlog_keeps_power_cuts_and_overruns(
    field: str, value: bool, fault: FaultType, sev: Severity
) -> None:
    det = make()
    Terminal(det).status(T0 - 60_000)  # s1
    changes = forward(det, [(0, {field: value}), (60_000, {})])
    changes += det.tick(BACK + 10_000)
    assert changes == [
        fc(fault, True, T0 + 5_000, T0, sev, ("s2",)),
        fc(fault, False, T0 + 60_000, T0, sev, ("s3",)),
    ]


def test_a_condition_still_held_at_the_end_of_the_backlog_is_confirmed_by_terminal_time() -> None:
    det = make(tick_grace_ms=500)
    Terminal(det).status(T0 - 60_000)  # s1
    _no(forward(det, [(0, dict(door_zone=False, passenger=True))]))  # s2, and nothing after it
    _no(det.tick(BACK + 400))  # the next backlog message may still be on its way
    assert det.tick(BACK + 600) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s2",)),
        fc(F.ENTRAPMENT, True, T0 + 30_000, T0, S.CRITICAL, ("s2",), {"in_door_zone": False}),
    ]


def test_a_wrong_clock_is_still_a_clock_skew_with_sent_ts() -> None:
    det = make()
    # The terminal's clock is an hour behind: sent_ts says so, whatever the message's age.
    off = -3_600_000
    changes = forward(
        det, [(0, dict(door_zone=False)), (1_000, dict(door_zone=False))], first_seq=1, clock_off=off
    )
    assert changes == [fc(F.CLOCK_SKEW, True, BACK, BACK, S.INFO, ("s1",), {"offset_ms": off})]
    # timed by arrival, as before: raised 5 s after the first message was received
    assert det.tick(BACK + 5_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, BACK + 5_000, BACK, S.MAJOR, ("s1", "s2"))
    ]


def test_a_backlog_without_sent_ts_from_a_skewed_clock_is_timed_by_arrival() -> None:
    det = make()
    term = Terminal(det, clock_off_ms=-3_600_000)
    assert [c.fault_type for c in term.status(T0 - 60_000)] == [F.CLOCK_SKEW]  # s1
    # The backlog's age cannot be told from the clock error: arrival time, and the skew stays open.
    _no(forward(det, [(0, dict(door_zone=False)), (40_000, {})], sent_ts=False))
    assert [c.fault_type for c in det.open_faults(CODE)] == [F.CLOCK_SKEW]
    _no(det.tick(BACK + 60_000))
    assert det.stats.raised == {F.CLOCK_SKEW: 1}


def test_sent_ts_with_a_sound_clock_clears_a_clock_skew() -> None:
    det = make()
    term = Terminal(det, clock_off_ms=-3_600_000)
    term.status(T0 - 60_000)  # s1: skewed
    assert forward(det, [(0, {})]) == [fc(F.CLOCK_SKEW, False, BACK, T0 - 60_000, S.INFO, ("s2",))]


def test_the_new_fields_are_optional_on_the_wire() -> None:
    from liftwatch.telemetry.protocol import MessageType, decode, encode

    hb = Heartbeat(msg_id="h1", seq=1, ts=T0)
    assert encode(hb) == b'{"type":"heartbeat","msg_id":"h1","seq":1,"ts":%d}' % T0
    msg = decode(
        b'{"msg_id":"h1","seq":1,"ts":%d,"sent_ts":%d,"backlog":true}' % (T0, BACK), MessageType.HEARTBEAT
    )
    assert (msg.sent_ts, msg.backlog) == (BACK, True)


# --------------------------------------------------------------------------- gaps in seq (issue 8, defect 9)


def test_a_message_overtaken_across_a_gap_still_ends_its_condition() -> None:
    """s2 (back in the zone) is overtaken by s3; the detector knows s2 is missing and waits for it
    instead of confirming the condition up to s3's time."""
    det = make(offline_intervals=QUIET)
    s1 = status_msg(1, T0, door_zone=False)  # stopped between floors (a door-zone flicker)
    s2 = status_msg(2, T0 + 4_800)  # back in the zone after 4.8 s
    s3 = status_msg(3, T0 + 5_100)  # periodic
    _no(det.feed(CODE, s1, T0 + 50))
    _no(det.feed(CODE, s3, T0 + 5_150))  # s2 is missing: nothing is confirmed past s1
    _no(det.feed(CODE, s2, T0 + 5_500))  # s2 lands within gap_wait_ms: applied before s3
    _no(det.tick(T0 + 600_000))
    assert det.stats.raised == {}
    assert det.stats.stale == 0


def test_a_message_that_never_arrives_holds_the_terminal_no_longer_than_gap_wait() -> None:
    det = make(offline_intervals=QUIET)
    _no(det.feed(CODE, status_msg(1, T0, door_zone=False), T0))
    _no(det.feed(CODE, status_msg(3, T0 + 5_100, door_zone=False), T0 + 5_100))  # s2 lost
    _no(det.tick(T0 + 8_099))
    assert det.tick(T0 + 8_100) == [fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))]
    # s2 after all, too late: a stale status, as before
    _no(det.feed(CODE, status_msg(2, T0 + 4_800), T0 + 9_000))
    assert det.stats.stale == 1


def test_a_message_after_the_gap_wait_confirms_what_was_held() -> None:
    det = make(offline_intervals=QUIET)
    det.feed(CODE, status_msg(1, T0, door_zone=False), T0)
    _no(det.feed(CODE, status_msg(3, T0 + 5_100, door_zone=False), T0 + 5_100))  # s2 lost
    # no tick; the next message comes after the wait: the held one is applied first
    assert det.feed(CODE, status_msg(4, T0 + 9_000), T0 + 9_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))
    ]


def test_gap_wait_zero_applies_at_once_as_before() -> None:
    det = make(offline_intervals=QUIET, gap_wait_ms=0)
    det.feed(CODE, status_msg(1, T0, door_zone=False), T0)
    assert det.feed(CODE, status_msg(3, T0 + 5_100), T0 + 5_100) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))
    ]


def test_a_held_message_shows_the_terminal_is_alive() -> None:
    det = make()
    det.feed(CODE, status_msg(1, T0), T0)
    assert [c.fault_type for c in det.tick(T0 + 130_000)] == [F.TERMINAL_OFFLINE]
    assert det.feed(CODE, status_msg(3, T0 + 200_000), T0 + 200_000) == [
        fc(F.TERMINAL_OFFLINE, False, T0 + 200_000, T0, S.MINOR, ("s3",))
    ]
    _no(det.tick(T0 + 310_000))  # s3, though held for a while, counted as a sign of life


def test_held_messages_survive_dump_and_load() -> None:
    det = make(offline_intervals=QUIET)
    det.feed(CODE, status_msg(1, T0, door_zone=False), T0 + 50)
    det.feed(CODE, status_msg(3, T0 + 5_100), T0 + 5_150)  # held: s2 is missing
    again = make(offline_intervals=QUIET)
    again.load(det.dump())
    _no(again.feed(CODE, status_msg(2, T0 + 4_800), T0 + 5_500))
    _no(again.tick(T0 + 600_000))
    assert again.stats.raised == {}
    # a message that never came: the loaded detector still lets the held one go at the deadline
    third = make(offline_intervals=QUIET)
    third.load(det.dump())
    assert third.tick(T0 + 8_150) == [fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))]


def test_a_checkpoint_blob_restores_every_elevator_and_an_older_blob_still_loads() -> None:
    """``dump_all`` (one msgpack map of states, what a checkpoint stores) restores as ``dump`` does: a held
    message and a pending timer resume; a blob of ``dump()``'s per-elevator bytes (checkpoints saved
    before) loads through the same door."""
    import msgspec

    def made() -> Detector:
        det = make(offline_intervals=QUIET)
        det.feed(CODE, status_msg(1, T0, door_zone=False), T0 + 50)
        det.feed(CODE, status_msg(3, T0 + 5_100), T0 + 5_150)  # held: s2 is missing
        Terminal(det, "11SHA000002").status(T0, passenger=True)  # entrapment in the zone pending (120 s)
        return det

    det = made()
    older = msgspec.msgpack.encode(det.dump())
    for blob in (det.dump_all(), older):
        again = make(offline_intervals=QUIET)
        again.load_all(blob)
        assert again.dump() == det.dump()
        assert again.tick(T0 + 8_150) == [
            fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 5_000, T0, S.MAJOR, ("s1",))
        ]
        later = again.tick(T0 + 120_000)  # s3 (in the zone) ended the stop; the other one's timer ran out
        assert sorted((c.registration_code, c.fault_type, c.raised) for c in later) == [
            ("11SHA000002", F.ENTRAPMENT, True),
            (CODE, F.STOPPED_OUTSIDE_DOOR_ZONE, False),
        ]
    assert len(det.dump_all()) < len(older)


def test_a_dump_from_before_the_new_fields_still_loads() -> None:
    import msgspec

    det = make(offline_intervals=QUIET)
    Terminal(det).status(T0, passenger=True)  # entrapment in the zone pending (120 s)
    fields = msgspec.msgpack.decode(det.dump()[CODE])
    old = {CODE: msgspec.msgpack.encode(fields[:24])}  # the 24 fields the state had before issue 8
    again = make(offline_intervals=QUIET)
    again.load(old)
    assert again.tick(T0 + 120_000) == [
        fc(F.ENTRAPMENT, True, T0 + 120_000, T0, S.CRITICAL, ("s1",), {"in_door_zone": True})
    ]


def test_gap_wait_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTWATCH_DETECTOR_GAP_WAIT_MS", "1000")
    assert detector_settings_from_env().gap_wait_ms == 1_000


def test_the_detector_itself_never_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pure: the wiring reads LIFTWATCH_DETECTOR_* once and passes the thresholds down."""
    monkeypatch.setenv("LIFTWATCH_DETECTOR_CONFIRM_MS", "2000")
    assert DetectorSettings().confirm_ms == 5_000
    assert Detector().settings.confirm_ms == 5_000


def test_bad_thresholds_in_the_environment_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFTWATCH_DETECTOR_CONFIRM_MS", "-1")
    monkeypatch.setenv("liftwatch_detector_overspeed_warning_ratio", "fast")
    monkeypatch.setenv("LIFTWATCH_DETECTOR_NO_SUCH_THING", "1")  # not ours: ignored, as before
    with pytest.raises(ValueError) as err:
        detector_settings_from_env()
    assert str(err.value) == (
        "LIFTWATCH_DETECTOR_CONFIRM_MS='-1': Expected `int` >= 0; "
        "LIFTWATCH_DETECTOR_OVERSPEED_WARNING_RATIO='fast': Expected `float`, got `str`"
    )


def test_a_threshold_too_large_for_the_compiled_detector_is_refused_by_name() -> None:
    """The compiled detector keeps thresholds in 64-bit integers: a value past the bound is a named error
    when the settings are read, not an OverflowError when the worker builds its detector."""
    with pytest.raises(ValueError) as err:
        detector_settings_from_env(
            {"LIFTWATCH_DETECTOR_CONFIRM_MS": str(2**70), "LIFTWATCH_DETECTOR_SEQ_JUMP_MAX": "1e30"}
        )
    assert str(err.value).startswith(
        "LIFTWATCH_DETECTOR_CONFIRM_MS='1180591620717411303424': Expected `int` <= "
    )
    assert "LIFTWATCH_DETECTOR_SEQ_JUMP_MAX='1e30'" in str(err.value)
    ten_years = detector_settings_from_env(
        {"LIFTWATCH_DETECTOR_ALARM_AUTO_CLEAR_MS": str(10 * 365 * 86_400_000)}
    )
    assert Detector(ten_years).settings.alarm_auto_clear_ms == 315_360_000_000


def test_every_threshold_can_be_set_from_the_environment() -> None:
    """Each field under its documented name (docs/PROTOCOL.md: LIFTWATCH_DETECTOR_<NAME>), typed."""
    env = {f"LIFTWATCH_DETECTOR_{name.upper()}": "7" for name in DetectorSettings.__struct_fields__}
    got = detector_settings_from_env(env)
    assert all(getattr(got, name) == 7 for name in DetectorSettings.__struct_fields__)
    assert isinstance(got.confirm_ms, int) and isinstance(got.overspeed_warning_ratio, float)


# --------------------------------------------------------------------------- implausible seq (issue 8)


@pytest.mark.parametrize("forged", [2**62, 2**63 - 1, 500_000])
def test_an_absurd_seq_jump_does_not_make_the_real_messages_stale(forged: int) -> None:
    det = make()
    term = Terminal(det)
    term.seq = 1_000  # (far from 0, so the restart rule cannot rescue it)
    term.status(T0)  # s1001
    term.status(T0 + 1_000)  # s1002
    # Anyone who can publish: one status far ahead of the terminal's counter (500 000 in 1 s is as absurd).
    _no(det.feed(CODE, status_msg(forged, T0 + 1_500), T0 + 1_500))
    _no(term.status(T0 + 2_000, door_zone=False, passenger=True))  # s1003: the real entrapment
    changes = det.tick(T0 + 40_000)
    assert [(c.fault_type, c.started_ms) for c in changes] == [
        (F.STOPPED_OUTSIDE_DOOR_ZONE, T0 + 2_000),
        (F.ENTRAPMENT, T0 + 2_000),
    ]
    assert det.stats.implausible == 1


def test_a_terminal_that_really_renumbers_is_followed_after_three_messages() -> None:
    det = make()
    term = Terminal(det)
    term.status(T0)  # s1
    term.seq = 5_000_000  # a replaced terminal, counting from elsewhere
    for k in range(3):
        term.status(T0 + 1_000 * (k + 1), door_zone=False)
    assert det.stats.implausible == 2  # the first two are dropped, the third rebases
    assert det.stats.restarts == 1
    assert det.tick(T0 + 8_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 8_000, T0 + 3_000, S.MAJOR, ("s5000003",))
    ]


def test_a_reboot_whose_first_messages_are_reordered_applies_them_in_order() -> None:
    det = make(offline_intervals=QUIET)
    term = Terminal(det)
    term.seq = 5_000
    term.status(T0)  # s5001
    s0 = status_msg(0, T0 + 60_000, door_zone=False)  # reboot: stopped between floors
    s1 = status_msg(1, T0 + 61_000)  # levelled a second later
    _no(det.feed(CODE, s1, T0 + 61_050))  # overtook s0
    _no(det.feed(CODE, s0, T0 + 61_100))  # not a duplicate of s1's restart: applied, then s1
    _no(det.tick(T0 + 600_000 - 1))
    assert det.stats.restarts == 1
    assert det.stats.duplicates == 0
    assert det.stats.raised == {}


def test_a_held_message_redelivered_is_a_duplicate_and_each_applies_once() -> None:
    det = make(offline_intervals=QUIET)
    det.feed(CODE, status_msg(1, T0), T0)
    s3 = status_msg(3, T0 + 2_000, door_zone=False)
    _no(det.feed(CODE, s3, T0 + 2_000))  # held: s2 is missing
    _no(det.feed(CODE, s3, T0 + 2_100))  # the gateway retried its batch
    _no(det.feed(CODE, status_msg(2, T0 + 1_000), T0 + 2_200))
    assert det.stats.duplicates == 1
    assert det.tick(T0 + 8_000) == [
        fc(F.STOPPED_OUTSIDE_DOOR_ZONE, True, T0 + 7_000, T0 + 2_000, S.MAJOR, ("s3",))
    ]
