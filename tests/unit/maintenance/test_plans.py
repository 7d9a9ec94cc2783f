"""Maintenance plans (pure): the traditional year of 24 visits carries the right items at the right visits;
on-demand maintenance qualifies and refuses by each condition, stretches to the maximum for a quiet healthy
elevator, shrinks as usage and faults worsen but never below 15 days, keeps the quarter / half-year / year
items on calendar time, and says why as data."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

import pytest

from liftwatch.maintenance.catalogue import load_catalogue
from liftwatch.maintenance.domain import Appendix, Interval
from liftwatch.maintenance.labels import INTERVAL, PLAN_REASON, reason_text
from liftwatch.maintenance.plans import (
    DEFAULT_ON_DEMAND,
    OnDemandSettings,
    QualificationInput,
    Reason,
    Usage,
    inspection_qualifies,
    insurance_qualifies,
    intervals_carried,
    iot_qualifies,
    on_demand_due,
    qualify_on_demand,
    traditional_next_due,
    traditional_plan,
    unit_rating_qualifies,
    visit_interval,
)

START = date(2026, 1, 1)
# items a visit of each interval carries (DOMAIN.md §4, cumulative)
CARRIED = {
    Appendix.A: (31, 44, 59, 76),
    Appendix.B: (30, 43, 52, 66),
    Appendix.C: (20, 28, 38, 52),
    Appendix.D: (33, 38, 50, 63),
}
ORDER = (Interval.HALF_MONTH, Interval.QUARTER, Interval.HALF_YEAR, Interval.YEAR)
ALL_DONE = {i: START for i in (Interval.QUARTER, Interval.HALF_YEAR, Interval.YEAR)}


def codes(reasons: tuple[Reason, ...]) -> list[str]:
    return [r.code for r in reasons]


# ---------------------------------------------------------------- traditional


def test_visit_numbers_map_to_intervals() -> None:
    got = {n: visit_interval(n) for n in range(1, 25)}
    assert [n for n, i in got.items() if i == Interval.QUARTER] == [6, 18]
    assert [n for n, i in got.items() if i == Interval.HALF_YEAR] == [12]
    assert [n for n, i in got.items() if i == Interval.YEAR] == [24]
    assert Counter(got.values())[Interval.HALF_MONTH] == 20
    assert visit_interval(25) == Interval.HALF_MONTH and visit_interval(48) == Interval.YEAR
    with pytest.raises(ValueError):
        visit_interval(0)


@pytest.mark.parametrize("appendix", list(Appendix))
def test_traditional_year_carries_the_counts_of_domain_md(appendix: Appendix) -> None:
    plan = traditional_plan(START, appendix, load_catalogue())
    assert len(plan) == 24
    carried = CARRIED[appendix]
    for visit in plan:
        assert len(visit.item_codes) == carried[ORDER.index(visit.interval)], visit.number
        assert len(set(visit.item_codes)) == len(visit.item_codes)
    assert len(plan[0].item_codes) == carried[0]
    assert len(plan[5].item_codes) == carried[1]  # 6th visit: quarter
    assert len(plan[11].item_codes) == carried[2]  # 12th: half-year
    assert len(plan[23].item_codes) == carried[3]  # 24th: the year visit, all four intervals
    # over the year: each item of an interval is done as often as the interval says
    done = Counter(code for visit in plan for code in visit.item_codes)
    catalogue = load_catalogue()
    expected_times = {Interval.HALF_MONTH: 24, Interval.QUARTER: 4, Interval.HALF_YEAR: 2, Interval.YEAR: 1}
    for code, times in done.items():
        item = catalogue.item(code)
        assert item is not None and times == expected_times[item.interval], code


def test_traditional_visits_are_at_most_15_days_apart_within_the_year() -> None:
    plan = traditional_plan(START, Appendix.A, load_catalogue())
    dates = [START] + [v.due for v in plan]
    assert all((b - a).days == 15 for a, b in itertools.pairwise(dates))
    assert plan[-1].due <= START + timedelta(days=365)
    assert traditional_next_due(date(2026, 3, 10)) == date(2026, 3, 25)


# ---------------------------------------------------------------- on-demand qualification


def test_each_condition_behind_its_own_function() -> None:
    # the unit's latest rating in stars (1-5) against the minimum (3 by default); no rating qualifies
    assert unit_rating_qualifies(None) and unit_rating_qualifies(3) and unit_rating_qualifies(5)
    assert not unit_rating_qualifies(2) and not unit_rating_qualifies(1)
    assert unit_rating_qualifies(2, min_stars=2) and not unit_rating_qualifies(3, min_stars=4)
    assert iot_qualifies() and not iot_qualifies(terminal_fitted=False) and not iot_qualifies(online=False)
    today = date(2026, 6, 1)
    assert inspection_qualifies(None, today) and inspection_qualifies(today, today)
    assert not inspection_qualifies(today - timedelta(days=1), today)
    assert not inspection_qualifies(None, today, in_service=False)
    assert insurance_qualifies() and insurance_qualifies(True) and not insurance_qualifies(False)


def test_qualifies_when_no_data_contradicts() -> None:
    result = qualify_on_demand(QualificationInput(today=START))
    assert result.qualified and codes(result.reasons) == ["qualified"]


@pytest.mark.parametrize(
    ("facts", "code", "params"),
    [
        (QualificationInput(START, unit_stars=2), "unit_rated_low", {"stars": 2, "min": 3}),
        (QualificationInput(START, terminal_fitted=False), "iot_missing", {}),
        (QualificationInput(START, online=False), "iot_offline", {}),
        (QualificationInput(START, in_service=False), "out_of_service", {}),
        (
            QualificationInput(START, inspection_valid_until=date(2025, 12, 31)),
            "inspection_expired",
            {"valid_until": "2025-12-31"},
        ),
        (QualificationInput(START, insured=False), "not_insured", {}),
    ],
)
def test_each_condition_refuses(facts: QualificationInput, code: str, params: dict[str, str]) -> None:
    result = qualify_on_demand(facts)
    assert not result.qualified
    assert [r.as_dict() for r in result.reasons] == [{"code": code, **params}]
    assert result.explanation.startswith("Not qualified")


def test_every_failed_condition_is_listed() -> None:
    result = qualify_on_demand(QualificationInput(START, unit_stars=1, online=False, insured=False))
    assert codes(result.reasons) == ["unit_rated_low", "iot_offline", "not_insured"]


# ---------------------------------------------------------------- on-demand interval


def test_quiet_healthy_elevator_stretches_to_the_maximum() -> None:
    # 20 days, 200 trips and 400 door cycles a day: limits far away
    due = on_demand_due(START, START + timedelta(days=20), Usage(trips=4_000, door_cycles=8_000), ALL_DONE)
    assert due.interval_days == 90 and due.due == START + timedelta(days=90)
    assert [r.as_dict() for r in due.reasons] == [{"code": "max_interval", "days": 90}]
    assert due.deciding == due.reasons[0]
    assert due.carries == Interval.QUARTER  # the quarter items fall due on day 90 as well
    assert "90 days" in due.explanation


def test_configured_maximum_is_honoured() -> None:
    settings = OnDemandSettings(max_days=60)
    due = on_demand_due(START, START + timedelta(days=20), Usage(), ALL_DONE, settings=settings)
    assert due.interval_days == 60 and codes(due.reasons) == ["max_interval"]


def test_busy_elevator_is_due_when_its_trips_reach_the_limit() -> None:
    # 41,000 trips in 30 days: 1,367 a day reach 30,000 after 21 days
    due = on_demand_due(START, START + timedelta(days=30), Usage(trips=41_000), ALL_DONE)
    assert due.interval_days == 21
    assert [r.as_dict() for r in due.reasons] == [
        {"code": "trips_high", "trips": 41_000, "limit": 30_000, "per_day": 1367, "days": 21}
    ]


def test_door_cycles_shrink_the_interval() -> None:
    due = on_demand_due(START, START + timedelta(days=10), Usage(trips=2_000, door_cycles=12_000), ALL_DONE)
    assert due.interval_days == 50  # 1,200 cycles a day reach 60,000 after 50 days
    assert codes(due.reasons) == ["door_cycles_high"]


def test_every_factor_below_the_maximum_is_a_reason_and_the_tightest_decides() -> None:
    # 20 days: 700 trips a day (42 days), 1,250 door cycles a day (48 days), one fault (75 days)
    due = on_demand_due(
        START, START + timedelta(days=20), Usage(trips=14_000, door_cycles=25_000, faults=1), ALL_DONE
    )
    assert due.interval_days == 42
    assert codes(due.reasons) == ["trips_high", "door_cycles_high", "faults"]
    assert due.deciding is not None and due.deciding.code == "trips_high"


def test_more_trips_never_mean_a_later_visit() -> None:
    as_of = START + timedelta(days=20)
    intervals = [
        on_demand_due(START, as_of, Usage(trips=t), ALL_DONE).interval_days for t in range(0, 60_001, 2_000)
    ]
    assert intervals == sorted(intervals, reverse=True)
    assert intervals[0] == 90 and intervals[-1] == 15


@pytest.mark.parametrize(
    ("usage", "days", "reason"),
    [
        (Usage(faults=1), 75, {"code": "faults", "faults": 1, "step_days": 15, "days": 75}),
        (Usage(faults=3), 45, {"code": "faults", "faults": 3, "step_days": 15, "days": 45}),
        (Usage(entrapments=1), 45, {"code": "entrapments", "entrapments": 1, "step_days": 45, "days": 45}),
    ],
)
def test_faults_and_entrapments_bring_the_visit_closer(
    usage: Usage, days: int, reason: dict[str, object]
) -> None:
    due = on_demand_due(START, START + timedelta(days=5), usage, ALL_DONE)
    assert due.interval_days == days
    assert [r.as_dict() for r in due.reasons] == [reason]


def test_never_below_15_days() -> None:
    usage = Usage(trips=90_000, door_cycles=200_000, faults=4, entrapments=2)
    due = on_demand_due(START, START + timedelta(days=10), usage, ALL_DONE)
    assert due.interval_days == 15 and due.due == START + timedelta(days=15)
    assert codes(due.reasons) == ["trips_high", "door_cycles_high", "faults", "entrapments", "min_interval"]
    assert due.reasons[-1].as_dict() == {"code": "min_interval", "days": 15}
    assert due.deciding == due.reasons[-1]


def test_the_interval_stretches_step_by_step_from_15_days() -> None:
    steps = []
    previous = 15
    for _ in range(4):
        due = on_demand_due(
            START, START + timedelta(days=10), Usage(), ALL_DONE, previous_interval_days=previous
        )
        steps.append(due.interval_days)
        previous = due.interval_days
    assert steps == [30, 60, 90, 90]
    first = on_demand_due(START, START + timedelta(days=10), Usage(), ALL_DONE, previous_interval_days=15)
    assert first.reasons[0].as_dict() == {
        "code": "growth_capped",
        "previous_days": 15,
        "factor": 2.0,
        "days": 30,
    }


def test_calendar_items_pull_the_visit_forward_and_are_carried() -> None:
    # quarter items last done 70 days before the last visit: due 20 days after it
    last_done = {
        Interval.QUARTER: START - timedelta(days=70),
        Interval.HALF_YEAR: START - timedelta(days=70),
        Interval.YEAR: START - timedelta(days=70),
    }
    due = on_demand_due(START, START + timedelta(days=5), Usage(), last_done)
    assert due.due == START + timedelta(days=20)
    assert due.carries == Interval.QUARTER
    assert due.reasons[-1].as_dict() == {"code": "calendar_items", "interval": "quarter", "due": "2026-01-21"}
    assert due.deciding == due.reasons[-1]
    assert len(due.item_codes(load_catalogue(), Appendix.A)) == 44


def test_items_never_done_are_carried_by_the_next_visit() -> None:
    due = on_demand_due(START, START + timedelta(days=5), Usage(), {})
    assert due.carries == Interval.YEAR and due.interval_days == 90


def test_on_demand_year_keeps_every_item_on_calendar_time() -> None:
    """Simulate a quiet elevator for two years of on-demand visits: no longer interval's items ever late."""
    settings = DEFAULT_ON_DEMAND
    last_done: dict[Interval, date] = {
        i: START for i in (Interval.QUARTER, Interval.HALF_YEAR, Interval.YEAR)
    }
    visit = START
    visits = 0
    while visit < START + timedelta(days=730):
        due = on_demand_due(visit, visit + timedelta(days=10), Usage(trips=1_000), last_done)
        for interval in (Interval.QUARTER, Interval.HALF_YEAR, Interval.YEAR):
            assert due.due <= last_done[interval] + timedelta(days=settings.period_days(interval)), (
                visit,
                interval,
            )
        for interval in due.carries.covers():
            if interval != Interval.HALF_MONTH:
                last_done[interval] = due.due
        assert 15 <= due.interval_days <= 90
        visit = due.due
        visits += 1
    assert visits <= 10  # about every 90 days instead of 48 traditional visits


def test_intervals_carried_looks_one_minimum_interval_ahead() -> None:
    last_done = {Interval.QUARTER: START, Interval.HALF_YEAR: START, Interval.YEAR: START}
    assert intervals_carried(START + timedelta(days=74), last_done) == Interval.HALF_MONTH
    assert intervals_carried(START + timedelta(days=75), last_done) == Interval.QUARTER
    assert intervals_carried(START + timedelta(days=165), last_done) == Interval.HALF_YEAR
    assert intervals_carried(START + timedelta(days=350), last_done) == Interval.YEAR


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="min_days"):
        OnDemandSettings(min_days=30, max_days=20)
    with pytest.raises(ValueError, match="max_growth"):
        OnDemandSettings(max_growth=0.5)


# ---------------------------------------------------------------- words


def test_every_reason_code_has_words_in_both_languages() -> None:
    due = on_demand_due(START, START + timedelta(days=30), Usage(trips=41_000), ALL_DONE)
    assert (
        reason_text(due.reasons[0], "en")
        == "41000 trips (about 1367 a day) reach the limit of 30000 after 21 days"
    )
    assert reason_text(due.reasons[0], "zh-CN") == "运行41000次（每天约1367次），21天达到30000次上限"
    calendar = Reason("calendar_items", {"interval": "quarter", "due": "2026-01-21"})
    assert reason_text(calendar, "zh-CN") == "季度项目于2026-01-21到期"
    emitted = {
        "qualified", "unit_rated_low", "iot_missing", "iot_offline", "out_of_service", "inspection_expired",
        "not_insured", "max_interval", "min_interval", "trips_high", "door_cycles_high", "faults",
        "entrapments", "growth_capped", "calendar_items",
        "traditional",  # maintenance/schedule.py: a traditional contract's next visit
    }  # fmt: skip
    assert set(PLAN_REASON.entries) == emitted
    for code in emitted:
        assert PLAN_REASON.entries[code]["zh-CN"] and PLAN_REASON.entries[code]["en"]
    assert set(INTERVAL.entries) == set(Interval)


def test_the_worked_example_of_docs_maintenance() -> None:
    """docs/MAINTENANCE.md's worked example, number for number."""
    last_done = {
        Interval.QUARTER: date(2026, 1, 15),
        Interval.HALF_YEAR: date(2025, 10, 10),
        Interval.YEAR: date(2025, 6, 1),
    }
    usage = Usage(trips=14_000, door_cycles=25_000, faults=1)
    due = on_demand_due(date(2026, 3, 1), date(2026, 3, 21), usage, last_done, previous_interval_days=60)
    assert (due.due, due.interval_days, due.carries) == (date(2026, 4, 8), 38, Interval.HALF_YEAR)
    assert [r.as_dict() for r in due.reasons] == [
        {"code": "trips_high", "trips": 14000, "limit": 30000, "per_day": 700, "days": 42},
        {"code": "door_cycles_high", "door_cycles": 25000, "limit": 60000, "per_day": 1250, "days": 48},
        {"code": "faults", "faults": 1, "step_days": 15, "days": 75},
        {"code": "calendar_items", "interval": "half_year", "due": "2026-04-08"},
    ]
    assert due.deciding == due.reasons[-1]
    assert len(due.item_codes(load_catalogue(), Appendix.A)) == 59
    assert reason_text(due.reasons[0], "zh-CN") == "运行14000次（每天约700次），42天达到30000次上限"
