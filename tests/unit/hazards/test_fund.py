"""The repair fund's pure rule (fund.py): who may make each move, in which state, and the limits on the
amounts, worked by hand."""

from __future__ import annotations

import pytest

from liftwatch.accounts.actor import Role
from liftwatch.hazards import fund
from liftwatch.hazards.fund import FundAction, FundState


def test_the_life_of_a_request() -> None:
    assert fund.NEXT[FundAction.REQUEST] is FundState.REQUESTED
    assert fund.allowed(FundState.REQUESTED, FundAction.APPROVE)
    assert fund.allowed(FundState.REQUESTED, FundAction.REFUSE)
    assert not fund.allowed(FundState.REQUESTED, FundAction.DISBURSE)  # nothing paid before approval
    assert fund.allowed(FundState.APPROVED, FundAction.DISBURSE)
    assert fund.allowed(FundState.APPROVED, FundAction.COMPLETE)
    assert not fund.allowed(FundState.APPROVED, FundAction.APPROVE)
    for done in (FundState.REFUSED, FundState.COMPLETED):
        assert not fund.MOVES[done]
        assert not fund.is_open(done)
    assert fund.is_open(FundState.REQUESTED) and fund.is_open(FundState.APPROVED)


@pytest.mark.parametrize(
    ("role", "moves"),
    [
        (Role.ADMIN, set(FundAction)),
        (Role.REGULATOR, {FundAction.APPROVE, FundAction.REFUSE}),
        (Role.USE_UNIT, {FundAction.REQUEST, FundAction.DISBURSE, FundAction.COMPLETE}),
        (Role.MAINTENANCE, set()),
        (Role.INSPECTOR, set()),
        (Role.RESCUE_OPERATOR, set()),
    ],
)
def test_who_may_make_each_move(role: Role, moves: set[FundAction]) -> None:
    assert {a for a in FundAction if fund.may(role, a)} == moves


def test_the_amount_asked_for() -> None:
    assert fund.amount_error(1) is None
    assert fund.amount_error(fund.MAX_AMOUNT_FEN) is None
    assert fund.amount_error(0) is not None
    assert fund.amount_error(-100) is not None
    assert fund.amount_error(fund.MAX_AMOUNT_FEN + 1) is not None


def test_approval_may_be_lower_never_higher() -> None:
    assert fund.approval_error(8_500_000, 8_500_000) is None
    assert fund.approval_error(8_500_000, 6_000_000) is None
    assert "8500000" in (fund.approval_error(8_500_000, 8_500_001) or "")
    assert fund.approval_error(8_500_000, 0) is not None


def test_disbursements_stay_within_the_approved_amount() -> None:
    # approved 60,000.00 yuan; 40,000.00 paid: 20,000.00 left, not a fen more
    assert fund.disbursement_error(6_000_000, 4_000_000, 2_000_000) is None
    assert "2000000" in (fund.disbursement_error(6_000_000, 4_000_000, 2_000_001) or "")
    assert fund.disbursement_error(6_000_000, 6_000_000, 1) is not None
    assert fund.disbursement_error(6_000_000, 0, 0) is not None


def test_completion_needs_a_disbursement() -> None:
    assert fund.completion_error(0) is not None
    assert fund.completion_error(1) is None
