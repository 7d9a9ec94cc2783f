"""The emergency use of the repair fund (维修资金紧急使用) for a hazard on a residential elevator, pure: its
states, who may make each move, and the limits on the amounts. No SQL, no HTTP: the service applies these
(docs/HAZARDS.md, "The repair fund").

A request's life: requested (the use unit, or the owners' committee through the use unit, asks for an amount
with the quote and the purpose) -> approved by the housing authority (the regulator or an admin stands in
for it; the amount may be lower than asked) or refused with a reason -> the use unit records each
disbursement against the approved amount, never above it -> completed once the work is done (at least one
disbursement recorded). A hazard has at most one open request (requested or approved); after a refusal or a
completion a new one may be made. Amounts are in fen (分), whole numbers.
"""

from __future__ import annotations

from enum import StrEnum

from liftwatch.accounts.actor import Role

#: The highest amount one request may ask for, in fen (5,000,000 yuan): a typo guard, not a policy; an
#: elevator's replacement costs well under it.
MAX_AMOUNT_FEN = 500_000_000


class FundState(StrEnum):
    REQUESTED = "requested"  # 已申请, waiting for the housing authority
    APPROVED = "approved"  # 已批准: disbursements may be recorded
    REFUSED = "refused"  # 未批准, with the reason
    COMPLETED = "completed"  # 已完成: the work done, the ledger closed


class FundAction(StrEnum):
    REQUEST = "request"
    APPROVE = "approve"
    REFUSE = "refuse"
    DISBURSE = "disburse"
    COMPLETE = "complete"


class Applicant(StrEnum):
    """Who asks: the use unit itself, or the owners' committee (业主委员会) acting through the use unit."""

    USE_UNIT = "use_unit"
    OWNERS_COMMITTEE = "owners_committee"


OPEN = frozenset({FundState.REQUESTED, FundState.APPROVED})

# state -> the moves allowed in it (REQUEST is about the hazard: allowed when no request is open)
MOVES: dict[FundState, frozenset[FundAction]] = {
    FundState.REQUESTED: frozenset({FundAction.APPROVE, FundAction.REFUSE}),
    FundState.APPROVED: frozenset({FundAction.DISBURSE, FundAction.COMPLETE}),
    FundState.REFUSED: frozenset(),
    FundState.COMPLETED: frozenset(),
}

NEXT: dict[FundAction, FundState] = {
    FundAction.REQUEST: FundState.REQUESTED,
    FundAction.APPROVE: FundState.APPROVED,
    FundAction.REFUSE: FundState.REFUSED,
    FundAction.COMPLETE: FundState.COMPLETED,
}

#: The housing authority's part, which the regulator (or an admin) stands in for.
AUTHORITY = frozenset({Role.ADMIN, Role.REGULATOR})
#: The use unit's part (an admin may stand in); the service checks that it is the elevator's use unit.
USE_UNIT = frozenset({Role.ADMIN, Role.USE_UNIT})

ROLE_MOVES: dict[FundAction, frozenset[Role]] = {
    FundAction.REQUEST: USE_UNIT,
    FundAction.APPROVE: AUTHORITY,
    FundAction.REFUSE: AUTHORITY,
    FundAction.DISBURSE: USE_UNIT,
    FundAction.COMPLETE: USE_UNIT,
}


def allowed(state: FundState, action: FundAction) -> bool:
    return action in MOVES[state]


def may(role: Role, action: FundAction) -> bool:
    return role in ROLE_MOVES[action]


def is_open(state: FundState) -> bool:
    return state in OPEN


def amount_error(amount_fen: int) -> str | None:
    """Why an amount asked for cannot be (None when it can): more than nothing, at most the guard."""
    if amount_fen <= 0:
        return "the amount must be more than 0 fen"
    if amount_fen > MAX_AMOUNT_FEN:
        return f"the amount must be at most {MAX_AMOUNT_FEN} fen"
    return None


def approval_error(requested_fen: int, approved_fen: int) -> str | None:
    """The approved amount is more than nothing and at most the amount asked for (it may be lower)."""
    if approved_fen <= 0:
        return "the approved amount must be more than 0 fen (refuse the request instead)"
    if approved_fen > requested_fen:
        return f"the approved amount may not exceed the {requested_fen} fen asked for"
    return None


def disbursement_error(approved_fen: int, paid_fen: int, amount_fen: int) -> str | None:
    """A disbursement is more than nothing and keeps the total paid within the approved amount."""
    if amount_fen <= 0:
        return "a disbursement must be more than 0 fen"
    left = approved_fen - paid_fen
    if amount_fen > left:
        return f"only {left} fen of the approved {approved_fen} fen is left to pay"
    return None


def completion_error(paid_fen: int) -> str | None:
    """A request is completed once something was paid out (else it would be refused or left open)."""
    if paid_fen <= 0:
        return "record the disbursement before completing"
    return None
