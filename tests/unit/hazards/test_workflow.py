"""The hazard rules, pure: the deadline by level or the regulator's date, the escalation steps and what
each does, the moves each state allows and the roles that may make them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from liftwatch.accounts.actor import Role
from liftwatch.hazards import workflow
from liftwatch.hazards.workflow import (
    Action,
    DeadlineRule,
    HazardLevel,
    HazardState,
    Recipient,
    Step,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 2026-11-23 17:00 in Shanghai
REPORTED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_deadline_is_the_end_of_the_day_the_levels_days_after_the_report() -> None:
    rule = DeadlineRule(general_days=30, major_days=15)
    # general: 2026-11-23 + 30 days = 2026-12-23, due at midnight after it, Shanghai time
    assert workflow.deadline(HazardLevel.GENERAL, REPORTED, SHANGHAI, rule) == datetime(
        2026, 12, 23, 16, 0, tzinfo=UTC
    )
    assert workflow.deadline(HazardLevel.MAJOR, REPORTED, SHANGHAI, rule) == datetime(
        2026, 12, 8, 16, 0, tzinfo=UTC
    )


def test_the_local_date_counts_not_the_utc_one() -> None:
    late = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # already 24 November in Shanghai
    due = workflow.deadline(HazardLevel.MAJOR, late, SHANGHAI, DeadlineRule(major_days=1))
    assert due == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)  # the end of 25 November, Shanghai


def test_a_date_set_by_the_regulator_wins_over_the_level() -> None:
    due = workflow.deadline(HazardLevel.MAJOR, REPORTED, SHANGHAI, set_date=date(2027, 1, 10))
    assert due == datetime(2027, 1, 10, 16, 0, tzinfo=UTC)


def test_escalation_steps_follow_the_deadline_by_level() -> None:
    due = datetime(2026, 12, 23, 16, 0, tzinfo=UTC)
    rule = DeadlineRule(general_escalation_days=7, major_escalation_days=3)
    assert workflow.steps(HazardLevel.GENERAL, due, rule) == [
        (Step.OVERDUE, due),
        (Step.ESCALATION, due + timedelta(days=7)),
    ]
    assert workflow.steps(HazardLevel.MAJOR, due, rule)[1] == (Step.ESCALATION, due + timedelta(days=3))


def test_overdue_tells_the_unit_and_a_major_one_goes_under_supervision() -> None:
    general = workflow.effect(Step.OVERDUE, HazardLevel.GENERAL)
    assert (general.recipients, general.supervise) == ((Recipient.RESPONSIBLE,), False)
    major = workflow.effect(Step.OVERDUE, HazardLevel.MAJOR)
    assert (major.recipients, major.supervise) == ((Recipient.RESPONSIBLE, Recipient.REGULATOR), True)
    for level in HazardLevel:
        escalation = workflow.effect(Step.ESCALATION, level)
        assert (escalation.recipients, escalation.supervise) == ((Recipient.REGULATOR,), False)


def test_overdue_is_derived_only_while_the_deadline_runs() -> None:
    due = datetime(2026, 12, 23, 16, 0, tzinfo=UTC)
    before, at = due - timedelta(seconds=1), due
    assert not workflow.is_overdue(HazardState.REPORTED, due, before)
    assert workflow.is_overdue(HazardState.REPORTED, due, at)
    assert workflow.is_overdue(HazardState.RECTIFYING, due, at)
    for waiting_or_done in (HazardState.RECTIFIED, HazardState.VERIFIED, HazardState.CLOSED):
        assert not workflow.is_overdue(waiting_or_done, due, at + timedelta(days=100))


@pytest.mark.parametrize(
    ("state", "action", "ok"),
    [
        (HazardState.REPORTED, Action.START, True),
        (HazardState.REPORTED, Action.EVIDENCE, True),
        (HazardState.RECTIFYING, Action.START, False),
        (HazardState.RECTIFYING, Action.EVIDENCE, True),
        (HazardState.RECTIFYING, Action.VERIFY, False),
        (HazardState.RECTIFIED, Action.VERIFY, True),
        (HazardState.RECTIFIED, Action.REJECT, True),
        (HazardState.RECTIFIED, Action.EVIDENCE, False),
        (HazardState.RECTIFIED, Action.WORK_ORDER, False),
        (HazardState.VERIFIED, Action.CLOSE, False),
        (HazardState.CLOSED, Action.EVIDENCE, False),
    ],
)
def test_the_moves_each_state_allows(state: HazardState, action: Action, ok: bool) -> None:
    assert workflow.allowed(state, action) is ok


def test_the_moves_lead_where_the_life_of_a_hazard_says() -> None:
    assert workflow.NEXT[Action.START] is HazardState.RECTIFYING
    assert workflow.NEXT[Action.EVIDENCE] is HazardState.RECTIFIED
    assert workflow.NEXT[Action.REJECT] is HazardState.RECTIFYING
    assert workflow.NEXT[Action.VERIFY] is HazardState.VERIFIED
    assert Action.SET_DEADLINE not in workflow.NEXT  # keeps the state
    assert all(not workflow.MOVES[s] for s in workflow.FINISHED)


def test_who_may_make_each_move() -> None:
    for action in (Action.VERIFY, Action.REJECT, Action.SET_DEADLINE, Action.CLOSE):
        assert {r for r in Role if workflow.may(r, action)} == {Role.ADMIN, Role.REGULATOR}
    assert {r for r in Role if workflow.may(r, Action.EVIDENCE)} == {
        Role.ADMIN,
        Role.MAINTENANCE,
        Role.USE_UNIT,
    }
    assert not workflow.may(Role.INSPECTOR, Action.EVIDENCE)
    assert workflow.needs_responsible_unit(Role.USE_UNIT, Action.EVIDENCE)
    assert not workflow.needs_responsible_unit(Role.ADMIN, Action.EVIDENCE)
    assert Role.RESCUE_OPERATOR not in workflow.REPORTERS and Role.INSPECTOR in workflow.REPORTERS
