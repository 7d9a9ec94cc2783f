"""The rules of inspection (检验), pure: when an elevator's next periodic inspection (定期检验) is due, when
it is overdue, and the first-attempt pass rate (检验合格率). No SQL, no HTTP: the service applies these.

Schedules (docs/INSPECTION.md, DOMAIN.md section 4):
- ``yearly`` (TSG T7001-2023, the default): a periodic inspection every year.
- ``reform`` (the Shanxi pilot): by the elevator's age in completed years on the day of its last inspection,
  ``age <= 6`` every 3 years, ``6 < age <= 15`` every 2 years, ``age > 15`` every year; in the years between
  two inspections the maintenance unit self-tests (自行检测, TSG T7008-2023) on the anniversaries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class InspectionKind(StrEnum):
    PERIODIC = "periodic"  # 定期检验, by the inspection body
    SELF_TEST = "self_test"  # 自行检测, in the years between under the reform schedule
    RE_INSPECTION = "re_inspection"  # 复检, after rectification of a failed inspection


class Conclusion(StrEnum):
    """The conclusion of an inspection report (检验结论). Only ``pass`` is a pass at the first attempt."""

    PASS = "pass"  # 合格
    PASS_AFTER_RECTIFICATION = "pass_after_rectification"  # 整改后合格: non-conformities, rectified on paper
    FAIL = "fail"  # 不合格: a re-inspection is needed


class Severity(StrEnum):
    MINOR = "minor"  # 一般问题
    MAJOR = "major"  # 严重问题


class Schedule(StrEnum):
    YEARLY = "yearly"
    REFORM = "reform"


@dataclass(frozen=True)
class InspectionRule:
    """The schedule in force (``LIFTWATCH_INSPECTION_SCHEDULE``)."""

    schedule: Schedule = Schedule.YEARLY


@dataclass(frozen=True)
class Due:
    """When the next periodic inspection is due, why, and the self-tests before it (reform only)."""

    due: date
    interval_years: int
    age_years: int | None
    self_tests: tuple[date, ...] = ()


def add_years(day: date, years: int) -> date:
    """``day`` ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_years(commissioned: date, on: date) -> int:
    """Completed years in service from ``commissioned`` to ``on`` (0 before the first anniversary)."""
    years = on.year - commissioned.year - ((on.month, on.day) < (commissioned.month, commissioned.day))
    return max(years, 0)


def interval_years(rule: InspectionRule, age: int | None) -> int:
    """Years between two periodic inspections. Reform: ``age <= 6`` -> 3, ``6 < age <= 15`` -> 2, else 1;
    an unknown age (no commissioning date) gets the yearly interval, the safe side."""
    if rule.schedule is Schedule.YEARLY or age is None:
        return 1
    if age <= 6:
        return 3
    if age <= 15:
        return 2
    return 1


def next_due(last: date, commissioned: date | None, rule: InspectionRule) -> Due:
    """The next periodic inspection after one performed (or, for a new elevator, an acceptance) on ``last``:
    ``interval_years`` after it, the interval taken from the age on ``last``; with the reform schedule a
    self-test falls on each anniversary of ``last`` before the due date."""
    age = age_years(commissioned, last) if commissioned is not None else None
    years = interval_years(rule, age)
    tests = tuple(add_years(last, n) for n in range(1, years))
    return Due(add_years(last, years), years, age, tests)


def is_overdue(due: date, today: date, performed: bool = False) -> bool:
    """Overdue: not performed and the due date has passed (the due day itself is still on time)."""
    return not performed and today > due


@dataclass(frozen=True)
class Concluded:
    """One concluded inspection, as the KPI reads it."""

    kind: InspectionKind
    conclusion: Conclusion


@dataclass(frozen=True)
class PassRate:
    """First-attempt pass rate: ``passed`` of ``concluded``; ``rate`` is None when nothing was concluded."""

    passed: int
    concluded: int

    @property
    def rate(self) -> float | None:
        return self.passed / self.concluded if self.concluded else None


def first_attempt_pass_rate(inspections: Iterable[Concluded]) -> PassRate:
    """检验合格率 (DOMAIN.md section 6): periodic inspections concluded ``pass`` ÷ periodic inspections
    concluded in the period. A pass after rectification is not a first-attempt pass; re-inspections and
    self-tests are not attempts (a re-inspection's pass does not turn the failed first attempt into one)."""
    passed = concluded = 0
    for item in inspections:
        if item.kind is not InspectionKind.PERIODIC:
            continue
        concluded += 1
        passed += item.conclusion is Conclusion.PASS
    return PassRate(passed, concluded)
