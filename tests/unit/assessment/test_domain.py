"""The assessment due rule (domain.due) on ages worked by hand, and the rule's settings."""

from __future__ import annotations

from datetime import date

import pytest

from liftwatch.assessment.domain import (
    AssessmentRule,
    DueStatus,
    MeasureKind,
    ThreeNoStatus,
    due,
    status_after,
)
from liftwatch.assessment.settings import assessment_rule_from_env

RULE = AssessmentRule()  # 15 years, then every 3, 180 days' grace


@pytest.mark.parametrize(
    ("started", "last", "today", "status", "due_on", "overdue_on"),
    [
        # in use since 2012-06-01: 15 on 2027-06-01; not due the day before
        (date(2012, 6, 1), None, date(2027, 5, 31), DueStatus.NOT_DUE, date(2027, 6, 1), date(2027, 11, 28)),
        # due on the anniversary; 2027-06-01 + 180 days = 2027-11-28 (30 + 31 + 31 + 30 + 31 + 27)
        (date(2012, 6, 1), None, date(2027, 6, 1), DueStatus.DUE, date(2027, 6, 1), date(2027, 11, 28)),
        (date(2012, 6, 1), None, date(2027, 11, 27), DueStatus.DUE, date(2027, 6, 1), date(2027, 11, 28)),
        (date(2012, 6, 1), None, date(2027, 11, 28), DueStatus.OVERDUE, date(2027, 6, 1), date(2027, 11, 28)),
        # since 2005-03-01, never assessed: due 2020-03-01, overdue from 2020-08-28 (2020 is a leap year:
        # 30 + 30 + 31 + 30 + 31 + 31 = 183 days to 2020-09-01, so 180 days is 2020-08-28)
        (date(2005, 3, 1), None, date(2026, 11, 23), DueStatus.OVERDUE, date(2020, 3, 1), date(2020, 8, 28)),
        # assessed 2025-06-10: the next due 2028-06-10, assessed until then
        (
            date(2005, 3, 1),
            date(2025, 6, 10),
            date(2026, 11, 23),
            DueStatus.ASSESSED,
            date(2028, 6, 10),
            date(2028, 12, 7),
        ),
        # assessed 2023-01-05: due 2026-01-05, overdue from 2026-07-04
        (
            date(1998, 9, 9),
            date(2023, 1, 5),
            date(2026, 11, 23),
            DueStatus.OVERDUE,
            date(2026, 1, 5),
            date(2026, 7, 4),
        ),
        # started on 29 February: 15 years later is 28 February 2023
        (date(2008, 2, 29), None, date(2023, 2, 28), DueStatus.DUE, date(2023, 2, 28), date(2023, 8, 27)),
    ],
)
def test_the_due_rule(
    started: date, last: date | None, today: date, status: DueStatus, due_on: date, overdue_on: date
) -> None:
    got = due(started, last, today, RULE)
    assert (got.status, got.due_on, got.overdue_on, got.last_assessed) == (status, due_on, overdue_on, last)


def test_no_start_date_is_unknown() -> None:
    got = due(None, None, date(2026, 11, 23), RULE)
    assert (got.status, got.due_on) == (DueStatus.UNKNOWN, None)
    # an assessment still counts from its own day
    assert due(None, date(2025, 1, 1), date(2026, 11, 23), RULE).status is DueStatus.ASSESSED


def test_the_rule_from_settings() -> None:
    rule = assessment_rule_from_env(
        {"LIFTWATCH_ASSESSMENT_EVERY_YEARS": "1", "liftwatch_assessment_grace_days": "0"}
    )
    assert (rule.first_years, rule.every_years, rule.grace_days) == (15, 1, 0)
    # yearly, no grace: assessed 2025-11-23 is due (and overdue) on 2026-11-23
    assert due(date(2000, 1, 1), date(2025, 11, 23), date(2026, 11, 23), rule).status is DueStatus.OVERDUE
    with pytest.raises(ValueError, match=r"ASSESSMENT_.*every_years must be a whole number"):
        assessment_rule_from_env({"LIFTWATCH_ASSESSMENT_EVERY_YEARS": "2.5"})
    with pytest.raises(ValueError, match="every_years"):
        assessment_rule_from_env({"LIFTWATCH_ASSESSMENT_EVERY_YEARS": "0"})


def test_a_measure_leaves_the_status_given_else_in_progress() -> None:
    assert status_after(MeasureKind.SUSPENDED, None) is ThreeNoStatus.IN_PROGRESS
    assert status_after(MeasureKind.FUND_ARRANGED, ThreeNoStatus.RESOLVED) is ThreeNoStatus.RESOLVED
