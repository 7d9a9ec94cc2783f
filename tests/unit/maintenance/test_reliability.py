"""MTBF and MTTR (maintenance/reliability.py): the formulas on the worked example of docs/MAINTENANCE.md
("Reliability"), a unit's figures pooled (not averaged), and what is left out (no failure: no MTBF; a
negative repair time; hours before the elevator came into service)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liftwatch.maintenance.reliability import (
    ElevatorPeriod,
    Repair,
    mtbf_hours,
    mttr_hours,
    reliability,
    service_hours,
)

START = datetime(2026, 9, 1, tzinfo=UTC)
END = START + timedelta(days=90)  # 2,160 hours


def at(day: int, hour: float) -> datetime:
    return START + timedelta(days=day, hours=hour)


def test_service_hours_of_a_period_and_of_an_elevator_commissioned_inside_it() -> None:
    assert service_hours(START, END) == 2160
    assert service_hours(START, END, START - timedelta(days=400)) == 2160
    assert service_hours(START, END, START + timedelta(days=60)) == 720
    assert service_hours(START, END, END + timedelta(days=1)) == 0


def test_the_worked_example() -> None:
    # 11SHA000001: 90 days in service, 3 faults of its own and 1 entrapment (its incident): 4 failures
    a = ElevatorPeriod("11SHA000001", service_hours(START, END), faults=3, incidents=1)
    assert a.failures == 4
    assert mtbf_hours(a.service_hours, a.failures) == 540  # 22.5 days
    repairs = [
        Repair(at(3, 9), at(3, 11.5)),  # 2.5 h
        Repair(at(20, 22), at(21, 8)),  # overnight: 10 h
        Repair(at(50, 14), at(50, 15.5)),  # 1.5 h
    ]
    assert mttr_hours(repairs) == pytest.approx(14 / 3)  # 4.67 h
    one = reliability([a], repairs)
    assert (one.elevators, one.service_hours, one.failures, one.repairs) == (1, 2160, 4, 3)
    assert one.mtbf_h == 540 and one.mttr_h == pytest.approx(4.667, abs=1e-3)

    # the unit adds 11SHA000002: quiet for 90 days. Pooled: 4,320 h / 4 failures = 1,080 h
    b = ElevatorPeriod("11SHA000002", service_hours(START, END))
    unit = reliability([a, b], repairs)
    assert unit.mtbf_h == 1080
    # not the mean of the elevators' MTBFs (b alone has none: no failure)
    assert reliability([b], []).mtbf_h is None


def test_no_failure_no_repair_is_none_not_infinity() -> None:
    assert mtbf_hours(2160, 0) is None
    assert mtbf_hours(0, 3) is None
    assert mttr_hours([]) is None
    empty = reliability([], [])
    assert (empty.mtbf_h, empty.mttr_h, empty.failures, empty.service_hours) == (None, None, 0, 0)


def test_a_repair_signed_before_it_was_opened_is_a_clock_error_and_left_out() -> None:
    repairs = [Repair(at(1, 10), at(1, 12)), Repair(at(2, 10), at(2, 9))]
    assert mttr_hours(repairs) == 2
    assert reliability([], repairs).repairs == 1
