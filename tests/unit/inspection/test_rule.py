"""The pure inspection rule: due dates for each schedule and at each age boundary, overdue, and the
first-attempt pass rate with a hand-worked example (docs/INSPECTION.md)."""

from __future__ import annotations

from datetime import date

import pytest

from liftwatch.inspection.domain import (
    Concluded,
    Conclusion,
    InspectionKind,
    InspectionRule,
    Schedule,
    add_years,
    age_years,
    first_attempt_pass_rate,
    interval_years,
    is_overdue,
    next_due,
)

YEARLY = InspectionRule(Schedule.YEARLY)
REFORM = InspectionRule(Schedule.REFORM)
LAST = date(2026, 5, 10)


def test_yearly_is_the_default_and_ignores_age() -> None:
    assert InspectionRule().schedule is Schedule.YEARLY
    for commissioned in (date(2025, 1, 1), date(2010, 1, 1), date(1990, 1, 1), None):
        due = next_due(LAST, commissioned, YEARLY)
        assert (due.due, due.interval_years, due.self_tests) == (date(2027, 5, 10), 1, ())


@pytest.mark.parametrize(
    ("commissioned", "age", "years"),
    [
        (date(2026, 1, 1), 0, 3),
        (date(2020, 5, 10), 6, 3),  # exactly 6 on the day: still "<= 6"
        (date(2019, 5, 11), 6, 3),  # the day before the 7th anniversary
        (date(2019, 5, 10), 7, 2),  # 7th anniversary: "6-15"
        (date(2011, 5, 10), 15, 2),  # exactly 15
        (date(2010, 5, 11), 15, 2),
        (date(2010, 5, 10), 16, 1),  # "> 15": yearly
        (date(1998, 9, 9), 27, 1),
    ],
)
def test_reform_interval_by_age_at_the_last_inspection(commissioned: date, age: int, years: int) -> None:
    due = next_due(LAST, commissioned, REFORM)
    assert due.age_years == age
    assert due.interval_years == years
    assert due.due == date(LAST.year + years, LAST.month, LAST.day)


def test_reform_self_tests_fall_on_the_anniversaries_between() -> None:
    three = next_due(LAST, date(2024, 1, 1), REFORM)
    assert three.self_tests == (date(2027, 5, 10), date(2028, 5, 10))
    two = next_due(LAST, date(2015, 1, 1), REFORM)
    assert two.self_tests == (date(2027, 5, 10),)
    assert next_due(LAST, date(1990, 1, 1), REFORM).self_tests == ()


def test_unknown_age_is_yearly_under_reform() -> None:
    assert interval_years(REFORM, None) == 1
    assert next_due(LAST, None, REFORM).due == date(2027, 5, 10)


def test_dates_on_29_february() -> None:
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert age_years(date(2020, 2, 29), date(2026, 2, 28)) == 5
    assert age_years(date(2020, 2, 29), date(2026, 3, 1)) == 6
    assert age_years(date(2027, 1, 1), date(2026, 1, 1)) == 0  # commissioned later: never negative


def test_overdue_only_after_the_due_day_and_only_when_not_performed() -> None:
    due = date(2026, 11, 20)
    assert not is_overdue(due, date(2026, 11, 20))
    assert is_overdue(due, date(2026, 11, 21))
    assert not is_overdue(due, date(2026, 12, 31), performed=True)


def test_first_attempt_pass_rate_hand_worked() -> None:
    """Four periodic inspections: pass, pass, pass after rectification, fail; the fail's re-inspection
    passes; a self-test passes. First-attempt passes 2 of 4 periodic inspections = 50 %."""
    p, r, f = Conclusion.PASS, Conclusion.PASS_AFTER_RECTIFICATION, Conclusion.FAIL
    periodic = InspectionKind.PERIODIC
    rows = [
        Concluded(periodic, p),
        Concluded(periodic, p),
        Concluded(periodic, r),
        Concluded(periodic, f),
        Concluded(InspectionKind.RE_INSPECTION, p),
        Concluded(InspectionKind.SELF_TEST, p),
    ]
    rate = first_attempt_pass_rate(rows)
    assert (rate.passed, rate.concluded, rate.rate) == (2, 4, 0.5)
    assert first_attempt_pass_rate([]).rate is None


def test_every_inspection_word_has_chinese_and_english() -> None:
    from liftwatch.inspection import labels
    from liftwatch.inspection.domain import Severity

    for enum, table in (
        (InspectionKind, labels.INSPECTION_KIND),
        (Conclusion, labels.INSPECTION_CONCLUSION),
        (Severity, labels.INSPECTION_SEVERITY),
        (Schedule, labels.INSPECTION_SCHEDULE),
    ):
        for value in enum:
            assert table.get(value, "zh-CN") != value and table.get(value, "en") != value, value
    assert labels.FILE_ENTRY.get("inspection_signed", "zh-CN") == "检验报告签发"
