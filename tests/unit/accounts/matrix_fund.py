"""The role matrix's section of the repair fund's emergency use (维修资金紧急使用), on the residential
elevators' hazards: 1 on 11SHA000001 (UU-A, MU-A: 404 for owner_b), 2 and 5 on 11SHB000004 (UU-B, MU-B:
404 for maint_a; hazard 5 is reported by matrix_assessment's city). ``city`` asks on each as an admin
standing in for the use unit; the request on hazard 5 is approved, so the use unit may pay it out."""

from __future__ import annotations

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards import service
from liftwatch.hazards.fund import Applicant
from tests.unit.accounts.matrix import Case, expect

_ASK = {"request_key": "MX-NEW", "amount_fen": 1000, "quote": "报价单 BJ-1", "purpose": "更换制动器"}

CASES: list[Case] = [
    Case("GET", "/api/v1/hazards/fund", expect(403, A=200, R=200)),
    Case("GET", "/api/v1/hazards/2/fund", expect(200, M=404, O=403, G=403, N=403)),
    Case(
        "POST", "/api/v1/hazards/1/fund/approve", expect(403, A=200, R=200, U=404), body={"approved_fen": 500}
    ),
    Case(
        "POST", "/api/v1/hazards/2/fund/refuse", expect(403, A=200, R=200, M=404), body={"reason": "非紧急"}
    ),
    Case(
        "POST",
        "/api/v1/hazards/5/fund/payments",
        expect(403, A=201, U=201, M=404),
        body={"amount_fen": 400, "paid_on": "2026-11-20", "voucher": "PZ-1"},
    ),
    Case(
        "POST", "/api/v1/hazards/5/fund/complete", expect(403, A=200, U=200, M=404), body={"note": "已完工"}
    ),
    Case("POST", "/api/v1/hazards/5/fund", expect(403, A=201, U=201, M=404), body=_ASK),
]


def city(session: Session, clock: FixedClock, settings: Settings) -> None:
    for hazard_id in (1, 2, 5):
        service.request_fund(
            session, SYSTEM_ACTOR, hazard_id, f"MX-{hazard_id}", Applicant.USE_UNIT, 1000, "报价单", "维修",
            clock,
        )  # fmt: skip
    service.decide_fund(session, SYSTEM_ACTOR, 5, True, clock)
    session.commit()
