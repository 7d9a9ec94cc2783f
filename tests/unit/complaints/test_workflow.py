"""The complaint workflow, pure: moves by state and role, the responsible unit by category, the SLA limits,
what a fired limit tells, what is counted, the rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liftwatch.accounts.actor import Role
from liftwatch.complaints import workflow
from liftwatch.complaints.workflow import (
    Action,
    Category,
    ComplaintSettings,
    ComplaintState,
    Recipient,
    Step,
    Verdict,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_the_life_of_a_complaint_and_its_return() -> None:
    state = ComplaintState.RECEIVED
    for action in (Action.ASSIGN, Action.ANSWER, Action.RETURN, Action.ANSWER, Action.VERIFY, Action.CLOSE):
        assert workflow.allowed(state, action), (state, action)
        state = workflow.NEXT[action]
    assert state is ComplaintState.CLOSED
    assert not workflow.MOVES[ComplaintState.CLOSED]
    # no answer before it is passed on, no verdict before the answer, no closing while a unit works on it
    assert not workflow.allowed(ComplaintState.RECEIVED, Action.ANSWER)
    assert not workflow.allowed(ComplaintState.ASSIGNED, Action.VERIFY)
    assert not workflow.allowed(ComplaintState.ASSIGNED, Action.CLOSE)


def test_who_may_make_each_move() -> None:
    assert workflow.may(Role.RESCUE_OPERATOR, Action.ASSIGN)
    assert workflow.may(Role.MAINTENANCE, Action.ANSWER) and workflow.may(Role.USE_UNIT, Action.ANSWER)
    assert not workflow.may(Role.MAINTENANCE, Action.VERIFY)
    assert not workflow.may(Role.INSPECTOR, Action.ASSIGN)
    assert not any(workflow.may(Role.GATEWAY, a) for a in Action)
    assert workflow.needs_responsible_unit(Role.MAINTENANCE, Action.ANSWER)
    assert not workflow.needs_responsible_unit(Role.ADMIN, Action.ANSWER)
    assert Role.MAINTENANCE not in workflow.SEES_PERSONAL_DATA


@pytest.mark.parametrize(
    ("category", "named", "mu", "uu", "expected"),
    [
        (Category.ENTRAPMENT, None, "MU-A", "UU-A", "MU-A"),
        (Category.NOISE, None, "MU-A", "UU-A", "MU-A"),
        (Category.FEES, None, "MU-A", "UU-A", "UU-A"),
        (Category.UNSAFE, None, "MU-A", "UU-A", "UU-A"),
        (Category.FEES, None, "MU-A", None, "MU-A"),  # falls back on the other unit
        (Category.OUT_OF_SERVICE, None, None, "UU-A", "UU-A"),
        (Category.OTHER, "MU-B", "MU-A", "UU-A", "MU-B"),  # the unit named wins
        (Category.OTHER, None, None, None, None),
    ],
)
def test_the_responsible_unit(
    category: Category, named: str | None, mu: str | None, uu: str | None, expected: str | None
) -> None:
    assert workflow.responsible_unit(category, named, mu, uu) == expected


def test_limits_and_overdue() -> None:
    cs = ComplaintSettings(assign_hours=24, answer_hours=120, verify_days=3)
    assert workflow.limit(Step.ASSIGN, T0, cs) == T0 + timedelta(hours=24)
    assert workflow.limit(Step.ANSWER, T0, cs) == T0 + timedelta(days=5)
    assert workflow.limit(Step.VERIFY, T0, cs) == T0 + timedelta(days=3)
    due = T0 + timedelta(hours=24)
    assert not workflow.is_overdue(ComplaintState.RECEIVED, due, due - timedelta(seconds=1))
    assert workflow.is_overdue(ComplaintState.RECEIVED, due, due)
    assert not workflow.is_overdue(ComplaintState.VERIFIED, due, due + timedelta(days=9))
    assert workflow.recipients(Step.ANSWER) == (Recipient.RESPONSIBLE, Recipient.REGULATOR)
    assert workflow.recipients(Step.VERIFY) == (Recipient.REGULATOR,)


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        ComplaintSettings(answer_hours=0)
    with pytest.raises(ValueError):
        ComplaintSettings(text_min=50, text_max=10)


def test_counted_and_the_rate() -> None:
    assert workflow.counted(ComplaintState.RECEIVED, None)
    assert workflow.counted(ComplaintState.VERIFIED, Verdict.FOUNDED)
    assert not workflow.counted(ComplaintState.CLOSED, Verdict.UNFOUNDED)
    assert workflow.rate_per_10k(3, 20_000) == 1.5
    assert workflow.rate_per_10k(3, 0) is None
