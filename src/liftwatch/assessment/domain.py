"""The rules of elevators under focused supervision, pure: the measures taken on a three-no elevator
(三无电梯) with its status, and when the safety assessment (安全评估) of a residential elevator in use 15
years and more is due. No SQL, no HTTP: the service applies these (docs/SUPERVISION.md).

The due rule (the project's own definition; no national rule fixes the interval, so both numbers are
settings, ``LIFTWATCH_ASSESSMENT_*``):
- the first assessment is due on the elevator's ``first_years``-th anniversary in use (commissioning date,
  else installation date; 15 by default), the next ``every_years`` after the last assessment (3 by
  default), counted from the day of the assessment;
- on a day before that, the elevator is ``assessed`` (it has a valid assessment) or ``not_due`` (too young,
  never assessed); from the due day it is ``due`` for ``grace_days`` (180 by default: time to book the
  assessor), then ``overdue``;
- an elevator with no start date is ``unknown``: the registry must say when it went into use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum


class MeasureKind(StrEnum):
    """A measure taken on a three-no elevator."""

    INTERIM_MAINTENANCE = "interim_maintenance"  # 托管/兜底维保: an interim maintenance unit assigned
    COMMUNITY_MANAGEMENT = "community_management"  # 街道/社区接管: the street or community took it over
    FUND_ARRANGED = "fund_arranged"  # 资金落实: money for maintenance and repair arranged
    SUSPENDED = "suspended"  # 停用
    OTHER = "other"


class ThreeNoStatus(StrEnum):
    """Where the follow-up of a three-no elevator stands; the latest measure's, ``identified`` before one."""

    IDENTIFIED = "identified"  # 已排查
    IN_PROGRESS = "in_progress"  # 措施落实中
    RESOLVED = "resolved"  # 已解决


class AssessmentResult(StrEnum):
    """The conclusion of a safety assessment (安全评估结论)."""

    SAFE = "safe"  # 可继续使用
    RECTIFY = "rectify"  # 整改后继续使用
    MAJOR_WORK = "major_work"  # 建议更新改造大修


class Decision(StrEnum):
    """What the owners or the use unit decided after the assessment (更新改造大修)."""

    NONE = "none"
    MAJOR_REPAIR = "major_repair"  # 大修
    MODERNISATION = "modernisation"  # 改造
    REPLACEMENT = "replacement"  # 更新


class DueStatus(StrEnum):
    NOT_DUE = "not_due"  # under the first age, never assessed
    ASSESSED = "assessed"  # assessed, the next not yet due
    DUE = "due"  # due, within the grace days
    OVERDUE = "overdue"
    UNKNOWN = "unknown"  # no start date in the registry


#: results that call for work on the elevator: the assessment may open a hazard for them
NEEDS_WORK = frozenset({AssessmentResult.RECTIFY, AssessmentResult.MAJOR_WORK})


@dataclass(frozen=True)
class AssessmentRule:
    """When assessments are due (``LIFTWATCH_ASSESSMENT_<NAME>``); whole numbers."""

    first_years: int = field(
        default=15,
        metadata={"why": "years in use when the first safety assessment is due (国办发〔2018〕8号)"},
    )
    every_years: int = field(
        default=3, metadata={"why": "years from one assessment to the next due (the project's definition)"}
    )
    grace_days: int = field(
        default=180, metadata={"why": "days a due assessment waits before it is overdue (time to book it)"}
    )

    def __post_init__(self) -> None:
        # the settings reader gives floats; the rule counts whole years and days
        for name in ("first_years", "every_years", "grace_days"):
            value = getattr(self, name)
            if value != int(value):
                raise ValueError(f"{name} must be a whole number, not {value}")
            object.__setattr__(self, name, int(value))
        if self.every_years < 1:
            raise ValueError("every_years must be at least 1")


DEFAULT_RULE = AssessmentRule()


def add_years(day: date, years: int) -> date:
    """``day`` ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def full_years(started: date, today: date) -> int:
    """Whole years in use on ``today`` (an elevator is 15 on its 15th anniversary)."""
    return today.year - started.year - ((today.month, today.day) < (started.month, started.day))


@dataclass(frozen=True)
class Due:
    """An elevator's assessment status on a day: the status, the day the next assessment is due and the
    day it becomes overdue (None when unknown)."""

    status: DueStatus
    due_on: date | None
    overdue_on: date | None
    last_assessed: date | None


def due(
    started: date | None, last_assessed: date | None, today: date, rule: AssessmentRule = DEFAULT_RULE
) -> Due:
    """The status on ``today`` of an elevator in use since ``started``, last assessed on ``last_assessed``."""
    if last_assessed is not None:
        due_on: date | None = add_years(last_assessed, rule.every_years)
    elif started is not None:
        due_on = add_years(started, rule.first_years)
    else:
        return Due(DueStatus.UNKNOWN, None, None, None)
    assert due_on is not None
    overdue_on = due_on + timedelta(days=rule.grace_days)
    if today < due_on:
        status = DueStatus.ASSESSED if last_assessed is not None else DueStatus.NOT_DUE
    elif today < overdue_on:
        status = DueStatus.DUE
    else:
        status = DueStatus.OVERDUE
    return Due(status, due_on, overdue_on, last_assessed)


def status_after(kind: MeasureKind, given: ThreeNoStatus | None) -> ThreeNoStatus:
    """The status a measure leaves the elevator in: the one given, else ``in_progress`` (a measure taken
    means follow-up has started; only the regulator says it is resolved)."""
    return given if given is not None else ThreeNoStatus.IN_PROGRESS
