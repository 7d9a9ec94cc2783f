"""Inspections through the service (and a few routes): scheduling by the rule, results whose
non-conformities open rectification work orders once, signed results that refuse edits, re-inspection, the
overdue list, the first-attempt pass rate by unit, district and period, and scope. Each test runs on SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.inspection import service
from liftwatch.inspection.domain import Conclusion, InspectionKind, Severity
from liftwatch.inspection.service import Finding
from liftwatch.maintenance import service as maintenance
from tests.conftest import NOW
from tests.factories import auth
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

YEARLY = Settings()
REFORM = Settings(inspection_schedule="reform")
DONE = NOW - timedelta(days=3)  # 2026-11-20 17:00 in Shanghai
FINDINGS = [
    Finding("层门自闭装置失效", Severity.MAJOR, date(2026, 12, 5)),
    Finding("轿厢照明不足", Severity.MINOR, date(2026, 12, 20)),
]


def _schedule(session: Session, clock: FixedClock, code: str, settings: Settings = YEARLY) -> int:
    row, _ = service.schedule_next(
        session, Actor("admin", Role.ADMIN), code, "IB-1", "inspector", clock, settings
    )
    session.commit()
    return row.id


def _conclude(
    session: Session,
    p: dict[str, Actor],
    clock: FixedClock,
    iid: int,
    conclusion: Conclusion,
    findings: list[Finding] | None = None,
    settings: Settings = YEARLY,
    when: timedelta = timedelta(0),
) -> service.Signed:
    service.record_result(
        session, p["inspector"], iid, DONE - when, conclusion, f"DJ-{iid}", findings or [], clock
    )
    out = service.sign(session, p["inspector"], iid, clock, settings)
    session.commit()
    return out


def test_schedule_from_commissioning_then_from_the_last_pass(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    first, created = service.schedule_next(
        session, people["regulator"], "11SHA000002", "IB-1", "inspector", clock, REFORM
    )
    assert created and first.kind == InspectionKind.PERIODIC.value
    assert first.due_date == date(2022, 6, 1)  # commissioned 2019-06-01, age 0: 3 years under reform
    again, created = service.schedule_next(
        session, people["admin"], "11SHA000002", "IB-1", "inspector", clock, REFORM
    )
    assert (again.id, created) == (first.id, False)
    out = _conclude(session, people, clock, first.id, Conclusion.PASS, settings=REFORM)
    assert out.work_order_ids == []
    assert out.next_inspection is not None
    # performed 2026-11-20 at age 7: every 2 years under reform
    assert out.next_inspection.due_date == date(2028, 11, 20)


def test_schedule_refuses_a_wrong_body_or_inspector(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    admin = people["admin"]
    with pytest.raises(InvalidInput) as e:
        service.schedule_next(session, admin, "11SHA000001", "MU-A", "inspector", clock, YEARLY)
    assert e.value.errors[0].field == "body_unit_code"
    with pytest.raises(InvalidInput) as e:
        service.schedule_next(session, admin, "11SHA000001", "IB-1", "maint_a", clock, YEARLY)
    assert e.value.errors[0].field == "inspector"
    with pytest.raises(Forbidden):
        service.schedule_next(session, people["maint_a"], "11SHA000001", "IB-1", "inspector", clock, YEARLY)


def test_nonconformities_open_rectification_work_orders_once(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    iid = _schedule(session, clock, "11SHA000001")
    out = _conclude(session, people, clock, iid, Conclusion.FAIL, FINDINGS)
    assert len(out.work_order_ids) == 2
    assert out.next_inspection is None  # a fail waits for its re-inspection
    orders = [maintenance.get_work_order(session, people["admin"], w) for w in out.work_order_ids]
    assert [(o.source, o.source_ref, o.unit_code, o.urgent) for o in orders] == [
        ("inspection", f"{iid}:1", "MU-A", True),
        ("inspection", f"{iid}:2", "MU-A", False),
    ]
    assert "2026-12-05" in orders[0].summary
    # due by the end of the inspection body's rectification day (Beijing midnight), not the repair SLA
    assert [o.due_at.isoformat() for o in orders] == [
        "2026-12-05T16:00:00+00:00",
        "2026-12-20T16:00:00+00:00",
    ]
    row = service.get_inspection(session, people["admin"], iid)
    again = service.open_rectifications(session, people["inspector"], row, clock, YEARLY)
    assert again == out.work_order_ids
    assert len(maintenance.list_work_orders(session, people["admin"], "11SHA000001")) == 2
    items = service.nonconformities_of(session, row)
    assert [(n.item_no, n.work_order_id) for n in items] == [(1, orders[0].id), (2, orders[1].id)]


def test_result_rules_and_signed_results_refuse_edits(
    session: Session, clock: FixedClock, people: dict[str, Actor], client: TestClient
) -> None:
    iid = _schedule(session, clock, "11SHA000001")
    inspector = people["inspector"]
    with pytest.raises(InvalidInput):
        service.record_result(session, inspector, iid, DONE, Conclusion.PASS, "R", FINDINGS, clock)
    with pytest.raises(InvalidInput):
        service.record_result(session, inspector, iid, DONE, Conclusion.FAIL, "R", [], clock)
    with pytest.raises(InvalidInput):
        service.record_result(
            session, inspector, iid, NOW + timedelta(hours=1), Conclusion.PASS, "R", [], clock
        )
    with pytest.raises(Forbidden):  # sees it, is not its inspector
        service.record_result(session, people["admin"], iid, DONE, Conclusion.PASS, "R", [], clock)
    # while unsigned a result may be corrected: the non-conformities are replaced
    service.record_result(session, inspector, iid, DONE, Conclusion.FAIL, "R", FINDINGS, clock)
    service.record_result(
        session, inspector, iid, DONE, Conclusion.PASS_AFTER_RECTIFICATION, "R", FINDINGS[:1], clock
    )
    row = service.get_inspection(session, inspector, iid)
    assert len(service.nonconformities_of(session, row)) == 1
    service.sign(session, inspector, iid, clock, YEARLY)
    session.commit()
    with pytest.raises(Conflict):
        service.record_result(session, inspector, iid, DONE, Conclusion.PASS, "R", [], clock)
    with pytest.raises(Conflict):
        service.sign(session, inspector, iid, clock, YEARLY)
    r = client.put(
        f"/api/v1/inspection/inspections/{iid}/result",
        headers=auth(client, Role.INSPECTOR),
        json={"performed_at": DONE.isoformat(), "conclusion": "pass", "report_number": "X"},
    )
    assert r.status_code == 409, r.text
    stored = service.get_inspection(session, people["admin"], iid)
    session.refresh(stored)
    assert (stored.conclusion, stored.report_number) == ("pass_after_rectification", "R")


def test_re_inspection_after_rectification(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    iid = _schedule(session, clock, "11SHA000001")
    with pytest.raises(Conflict):  # nothing signed yet
        service.schedule_re_inspection(session, people["admin"], iid, date(2026, 12, 10), clock, YEARLY)
    _conclude(session, people, clock, iid, Conclusion.FAIL, FINDINGS, when=timedelta(days=10))
    re, created = service.schedule_re_inspection(
        session, people["inspector"], iid, date(2026, 11, 21), clock, YEARLY
    )
    assert created and (re.kind, re.original_id, re.inspector) == ("re_inspection", iid, "inspector")
    same, created = service.schedule_re_inspection(
        session, people["admin"], iid, date(2026, 12, 1), clock, YEARLY
    )
    assert (same.id, created) == (re.id, False)
    session.commit()
    out = _conclude(session, people, clock, re.id, Conclusion.PASS)
    assert out.next_inspection is not None
    assert out.next_inspection.due_date == date(2027, 11, 20)  # a year after the passing re-inspection
    with pytest.raises(Conflict):  # a pass needs no re-inspection
        service.schedule_re_inspection(session, people["admin"], re.id, date(2026, 12, 1), clock, YEARLY)


def test_overdue_list(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    old = _schedule(session, clock, "11SHA000001")  # commissioned 2005, never inspected: due 2006-03-01
    _schedule(session, clock, "11SHB000003")  # commissioned 2012-01-15: due 2013-01-15
    listed = service.overdue(session, people["regulator"], clock, YEARLY)
    assert [(o.registration_code, o.due_date) for o in listed] == [
        ("11SHA000001", date(2006, 3, 1)),
        ("11SHB000003", date(2013, 1, 15)),
    ]
    assert listed[1].days_overdue == (date(2026, 11, 23) - date(2013, 1, 15)).days
    assert [o.registration_code for o in service.overdue(session, people["maint_b"], clock, YEARLY)] == [
        "11SHB000003"
    ]
    out = _conclude(session, people, clock, old, Conclusion.PASS)
    assert out.next_inspection is not None and out.next_inspection.due_date == date(2027, 11, 20)
    assert [o.registration_code for o in service.overdue(session, people["admin"], clock, YEARLY)] == [
        "11SHB000003"
    ]


def test_pass_rate_by_unit_district_and_period(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    """11SHA000001 (MU-A) passes; 11SHA000002 (MU-A) fails, its re-inspection passes; 11SHB000003 (MU-B)
    passes after rectification; 11SHB000004 (MU-B) passes, but in 2025. November 2026: 1 of 3 periodic
    inspections passed at the first attempt; MU-A 1 of 2; MU-B 0 of 1; the year 2025: 1 of 1."""
    a1, a2, b3, b4 = (
        _schedule(session, clock, c) for c in ("11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004")
    )
    _conclude(session, people, clock, a1, Conclusion.PASS)
    _conclude(session, people, clock, a2, Conclusion.FAIL, FINDINGS)
    re, _ = service.schedule_re_inspection(session, people["admin"], a2, date(2026, 11, 21), clock, YEARLY)
    _conclude(session, people, clock, re.id, Conclusion.PASS)
    _conclude(session, people, clock, b3, Conclusion.PASS_AFTER_RECTIFICATION, FINDINGS[:1])
    _conclude(session, people, clock, b4, Conclusion.PASS, when=timedelta(days=365))
    admin = people["admin"]

    def rate(start: date, end: date, **kw: str) -> tuple[int, int, float | None]:
        r = service.pass_rate(session, admin, start, end, YEARLY, **kw)
        return (r.passed, r.concluded, r.rate)

    nov = (date(2026, 11, 1), date(2026, 12, 1))
    assert rate(*nov) == (1, 3, pytest.approx(1 / 3))
    assert rate(*nov, unit_code="MU-A") == (1, 2, 0.5)
    assert rate(*nov, unit_code="MU-B") == (0, 1, 0.0)
    assert rate(date(2025, 1, 1), date(2026, 1, 1)) == (1, 1, 1.0)
    assert rate(date(2026, 11, 21), date(2026, 12, 1)) == (0, 0, None)  # performed the 20th, city time
    assert rate(*nov, district="静安区") == (1, 2, 0.5)
    assert rate(*nov, district="徐汇区", unit_code="MU-B") == (0, 1, 0.0)
    # a unit's staff see their own unit's figures only
    r = service.pass_rate(session, people["maint_b"], *nov, YEARLY)
    assert (r.passed, r.concluded) == (0, 1)
    with pytest.raises(InvalidInput):
        service.pass_rate(session, admin, nov[1], nov[0], YEARLY)


def test_scope(session: Session, clock: FixedClock, people: dict[str, Actor], client: TestClient) -> None:
    iid = _schedule(session, clock, "11SHA000001")  # MU-A, used by UU-A
    for who in ("admin", "regulator", "inspector", "maint_a", "owner_a"):
        assert service.get_inspection(session, people[who], iid).id == iid
        assert [r.id for r in service.list_inspections(session, people[who])] == [iid]
    for who in ("maint_b", "owner_b"):
        with pytest.raises(NotFound):
            service.get_inspection(session, people[who], iid)
        assert service.list_inspections(session, people[who]) == []
    other = Actor("inspector2", Role.INSPECTOR)
    with pytest.raises(NotFound):
        service.get_inspection(session, other, iid)
    with pytest.raises(NotFound):  # another inspector cannot record it either
        service.record_result(session, other, iid, DONE, Conclusion.PASS, "R", [], clock)
    for who in ("operator", "gateway"):
        with pytest.raises(Forbidden):
            service.get_inspection(session, people[who], iid)
    assert (
        client.get(f"/api/v1/inspection/inspections/{iid}", headers=auth(client, Role.USE_UNIT)).status_code
        == 404
    )
    body = client.get(f"/api/v1/inspection/inspections/{iid}", headers=auth(client, Role.MAINTENANCE)).json()
    assert body["inspection"]["registration_code"] == "11SHA000001"
