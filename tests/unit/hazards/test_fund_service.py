"""The repair fund's emergency use through the service with a controlled clock: residential elevators only,
one open request per hazard, idempotent on the request key and the voucher, approval up to the amount asked
for, disbursements never above the approved amount, scope and roles, the ledger and the city's totals.
Each test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.hazards import service
from liftwatch.hazards.fund import Applicant, FundAction, FundState
from liftwatch.hazards.workflow import HazardLevel, HazardSource
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

SETTINGS = Settings(timezone="Asia/Shanghai")
TODAY = date(2026, 11, 23)  # NOW on the city's clock


def _hazard(session: Session, people: dict[str, Actor], clock: FixedClock, code: str, ref: str) -> int:
    out = service.report(
        session, people["regulator"], code, HazardSource.SPOT_CHECK, ref, HazardLevel.MAJOR,
        "曳引机制动器磨损", clock, SETTINGS,
    )  # fmt: skip
    session.commit()
    return out.hazard.id


def _ask(
    session: Session, who: Actor, hazard_id: int, clock: FixedClock, key: str = "Q-1", fen: int = 8_500_000
) -> service.FundOutcome:
    return service.request_fund(
        session, who, hazard_id, key, Applicant.OWNERS_COMMITTEE, fen, "申城电梯 报价单 BJ-2026-118",
        "更换制动器及曳引轮", clock,
    )  # fmt: skip


def test_a_request_from_approval_to_completion(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    hz = _hazard(session, people, clock, "11SHB000004", "SC-1")  # residential, used by UU-B
    owner = people["owner_b"]
    first = _ask(session, owner, hz, clock)
    again = _ask(session, owner, hz, clock)  # the same form sent twice
    session.commit()
    assert (first.created, again.created, again.request.id) == (True, False, first.request.id)
    req = first.request
    assert (req.state, req.use_unit, req.district, req.amount_fen) == (
        "requested",
        "UU-B",
        "徐汇区",
        8_500_000,
    )
    with pytest.raises(Conflict, match="open repair-fund request"):
        _ask(session, owner, hz, clock, key="Q-2")
    with pytest.raises(Conflict, match="requested"):  # nothing is paid before the approval
        service.record_payment(session, owner, hz, 100, TODAY, "V-0", clock, SETTINGS)
    session.rollback()
    with pytest.raises(InvalidInput) as exc:
        service.decide_fund(session, people["regulator"], hz, True, clock, approved_fen=8_500_001)
    assert exc.value.errors[0].field == "approved_fen"
    clock.advance(timedelta(days=2))
    approved = service.decide_fund(session, people["regulator"], hz, True, clock, approved_fen=6_000_000)
    session.commit()
    assert (approved.state, approved.approved_fen, approved.decided_by) == (
        "approved",
        6_000_000,
        "regulator",
    )
    paid, created = service.record_payment(session, owner, hz, 4_000_000, TODAY, "V-1", clock, SETTINGS)
    repeat, created_again = service.record_payment(
        session, owner, hz, 4_000_000, TODAY, "V-1", clock, SETTINGS
    )
    session.commit()
    assert (created, created_again, repeat.id) == (True, False, paid.id)
    with pytest.raises(InvalidInput) as exc:
        service.record_payment(session, owner, hz, 2_000_001, TODAY, "V-2", clock, SETTINGS)
    assert exc.value.errors[0].field == "amount_fen" and "2000000 fen" in exc.value.errors[0].message
    with pytest.raises(InvalidInput) as exc:
        service.record_payment(session, owner, hz, 1, TODAY + timedelta(days=3), "V-3", clock, SETTINGS)
    assert exc.value.errors[0].field == "paid_on"
    session.rollback()
    service.record_payment(session, owner, hz, 2_000_000, TODAY, "V-2", clock, SETTINGS)
    done = service.complete_fund(session, owner, hz, clock, "制动器已更换, 验收合格")
    session.commit()
    assert (done.state, done.paid_fen, done.open_hazard_id) == ("completed", 6_000_000, None)
    ledger = service.fund_ledger(session, people["inspector"], hz)
    assert [(p.voucher, p.amount_fen) for p in ledger[0].payments] == [("V-1", 4_000_000), ("V-2", 2_000_000)]
    kinds = [e.kind for e in service.events_of(session, service.get_hazard(session, people["admin"], hz))]
    assert kinds[-4:] == ["fund_approved", "fund_paid", "fund_paid", "fund_completed"]
    # the use unit was told of the decision
    assert ("fund_approved", "UU-B") in {
        (n.kind, n.recipient) for n in service.notices_of(session, service.get_hazard(session, owner, hz))
    }
    # a new request may follow the completed one
    assert _ask(session, owner, hz, clock, key="Q-3").created


def test_only_a_residential_elevator_and_an_open_hazard(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    office = _hazard(session, people, clock, "11SHA000002", "SC-2")  # an office building's elevator
    with pytest.raises(InvalidInput) as exc:
        _ask(session, people["owner_a"], office, clock)
    assert exc.value.errors[0].field == "place_type" and "office" in exc.value.errors[0].message
    hz = _hazard(session, people, clock, "11SHA000001", "SC-3")
    service.close(session, people["regulator"], hz, "重复上报", clock)
    session.commit()
    with pytest.raises(Conflict, match="closed"):
        _ask(session, people["owner_a"], hz, clock)
    with pytest.raises(InvalidInput) as exc:
        _ask(session, people["owner_a"], _hazard(session, people, clock, "11SHA000001", "SC-4"), clock, fen=0)
    assert exc.value.errors[0].field == "amount_fen"


def test_scope_and_roles(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    hz = _hazard(session, people, clock, "11SHB000004", "SC-5")
    with pytest.raises(NotFound):  # UU-A does not see UU-B's elevator's hazard
        _ask(session, people["owner_a"], hz, clock)
    with pytest.raises(Forbidden):  # maintenance staff neither ask nor pay
        _ask(session, people["maint_b"], hz, clock)
    with pytest.raises(Forbidden):
        _ask(session, people["regulator"], hz, clock)
    assert _ask(session, people["admin"], hz, clock).created  # an admin stands in for the use unit
    with pytest.raises(Forbidden):
        service.decide_fund(session, people["owner_b"], hz, True, clock)
    with pytest.raises(InvalidInput) as exc:
        service.decide_fund(session, people["regulator"], hz, False, clock, note=" ")
    assert exc.value.errors[0].field == "reason"
    refused = service.decide_fund(
        session, people["regulator"], hz, False, clock, note="非紧急情形, 走一般程序"
    )
    session.commit()
    assert (refused.state, refused.open_hazard_id) == ("refused", None)
    with pytest.raises(Conflict, match="no open request"):
        service.record_payment(session, people["owner_b"], hz, 1, TODAY, "V-9", clock, SETTINGS)
    with pytest.raises(Forbidden):
        service.fund_city(session, people["owner_b"])
    with pytest.raises(Forbidden):
        service.fund_ledger(session, people["operator"], hz)
    hazard = service.get_hazard(session, people["owner_b"], hz)
    assert service.fund_moves_for(session, people["owner_b"], hazard) == {FundAction.REQUEST}
    assert service.fund_moves_for(session, people["regulator"], hazard) == set()
    assert service.fund_moves_for(session, people["maint_b"], hazard) == set()


def test_the_city_list_and_totals_by_district(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    a = _hazard(session, people, clock, "11SHA000001", "SC-6")  # 静安区, UU-A
    b = _hazard(session, people, clock, "11SHB000004", "SC-7")  # 徐汇区, UU-B
    _ask(session, people["owner_a"], a, clock, key="A", fen=1_000_000)
    _ask(session, people["owner_b"], b, clock, key="B", fen=3_000_000)
    service.decide_fund(session, people["regulator"], b, True, clock, approved_fen=2_500_000)
    service.record_payment(session, people["owner_b"], b, 500_000, TODAY, "V-1", clock, SETTINGS)
    session.commit()
    city = service.fund_city(session, people["regulator"])
    assert [r.request_key for r in city.requests] == ["B", "A"]
    assert [
        (d.district, d.requests, d.requested_fen, d.approved_fen, d.paid_fen) for d in city.by_district
    ] == [
        ("徐汇区", 1, 3_000_000, 2_500_000, 500_000),
        ("静安区", 1, 1_000_000, 0, 0),
    ]
    only = service.fund_city(session, people["admin"], states=[FundState.REQUESTED])
    assert [r.request_key for r in only.requests] == ["A"]
