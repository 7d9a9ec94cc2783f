"""The pure rules of parts (parts.domain): the kinds an elevator has, cycles from counters, wear, serial
ranges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from liftwatch.parts import domain
from liftwatch.parts.domain import Cycles, Life, PartKind, Reading, Wear

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_lifts_and_escalators_have_their_own_parts() -> None:
    lift = domain.kinds_for("traction")
    escalator = domain.kinds_for("escalator")
    assert PartKind.SAFETY_GEAR in lift and PartKind.STEPS not in lift
    assert PartKind.STEP_CHAIN in escalator and PartKind.ROPES not in escalator
    assert PartKind.BRAKE in lift and PartKind.BRAKE in escalator
    assert domain.counter_of(PartKind.DOOR_SYSTEM) is domain.Counter.DOOR_CYCLES
    assert domain.counter_of(PartKind.ROPES) is domain.Counter.TRIPS


def test_cycles_from_the_counter_at_installation() -> None:
    now = Reading(T0 + timedelta(days=100), 1_000_200)
    assert domain.cycles_used(T0, 200, None, now) == Cycles(1_000_000, False, T0.date())
    # never heard: nothing to count
    assert domain.cycles_used(T0, 200, None, None) is None


def test_cycles_interpolated_when_the_installation_counter_is_unknown() -> None:
    # 1,000 trips a day between the first reading (10 days after installation) and now (110 days after)
    first = Reading(T0 + timedelta(days=10), 50_000)
    now = Reading(T0 + timedelta(days=110), 150_000)
    got = domain.cycles_used(T0, None, first, now)
    assert got == Cycles(110_000, True, T0.date())  # the 10 days before the first reading extrapolated
    # a part put in after the first reading: interpolated between the two
    assert domain.cycles_used(T0 + timedelta(days=60), None, first, now) == Cycles(
        50_000, True, date(2026, 3, 2)
    )
    # a counter lower than at installation (the terminal was replaced): the estimate, not a negative count
    assert domain.cycles_used(T0, 900_000, first, now) == Cycles(110_000, True, T0.date())
    # one reading only: no rate
    assert domain.cycles_used(T0, None, now, now) is None


@pytest.mark.parametrize(
    ("today", "cycles", "state"),
    [
        (date(2030, 1, 1), None, Wear.OK),  # 4 of 20 years
        (date(2038, 1, 1), None, Wear.NEAR),  # 18 of 20 years = 0.9
        (date(2040, 1, 1), None, Wear.PAST),  # the last day
        (date(2030, 1, 1), 2_700_000, Wear.NEAR),  # 0.9 of the cycles decides, years are young
        (date(2030, 1, 1), 3_000_000, Wear.PAST),
    ],
)
def test_wear_is_the_further_of_years_and_cycles(today: date, cycles: int | None, state: Wear) -> None:
    counted = Cycles(cycles, False, date(2020, 1, 1)) if cycles is not None else None
    got = domain.assess(Life(20, 3_000_000), date(2020, 1, 1), today, counted, 0.9)
    assert got.state is state
    assert got.end_of_life_on == date(2040, 1, 1)


def test_a_cycles_only_life_without_a_counter_cannot_be_judged() -> None:
    got = domain.assess(Life(None, 1_000_000), date(2020, 1, 1), date(2026, 1, 1), None, 0.9)
    assert got.state is Wear.UNKNOWN and got.years_share is None and got.cycles_share is None
    assert domain.end_of_life(date(2020, 2, 29), 5) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("serial", "inside"),
    [
        ("KM2020-0099", True),
        ("KM2020-99", True),  # the same number, unpadded
        ("km2020-0150", True),  # case and
        ("ＫＭ2020-0120", True),  # full-width forms do not matter
        ("KM2020-0098", False),
        ("KM2020-1000", False),  # a number, not text: "1000" > "0150"
        ("KX2020-0120", False),  # another prefix
    ],
)
def test_serial_ranges(serial: str, inside: bool) -> None:
    assert domain.in_serial_range(serial, "KM2020-0099", "KM2020-0150") is inside


def test_a_backwards_range_is_refused() -> None:
    assert domain.range_error("KM-0150", "KM-0099") is not None
    assert domain.range_error("", "KM-0099") is not None
    assert domain.range_error("A100", "A100") is None
    assert domain.key(" ＧＴＷ-２  a ") == "GTW-2A"
