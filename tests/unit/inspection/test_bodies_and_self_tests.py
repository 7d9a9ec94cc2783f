"""Inspection bodies and self-tests: an inspector of a body sees and records that body's inspections only
(another body's are not found), schedules for it only, and signs what they recorded; the maintenance unit
records an elevator's self-test once, read by whoever reads that elevator's inspections; a rectification
deadline before the inspection is refused and the inspection item reaches the work order."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.inspection import service
from liftwatch.inspection.domain import Conclusion, Severity
from liftwatch.inspection.service import Finding
from liftwatch.maintenance import service as maintenance
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.domain import UnitType
from liftwatch.registry.schemas import UnitCreate
from tests.conftest import NOW
from tests.factories import PASSWORD, auth
from tests.unit.maintenance.workorder_city import (
    actor,
    people_fixture,  # noqa: F401 - fixture
)

YEARLY = Settings()
DONE = NOW - timedelta(days=3)  # 2026-11-20 17:00 in Shanghai
TODAY = date(2026, 11, 23)


@pytest.fixture(name="bodies")
def bodies_fixture(session: Session, clock: FixedClock, people: dict[str, Actor]) -> dict[str, Actor]:
    """A second inspection body IB-2 and three inspectors: two of IB-1, one of IB-2."""
    registry.create_unit(
        session,
        SYSTEM_ACTOR,
        UnitCreate(code="IB-2", name="徐汇检验所", unit_type=UnitType.INSPECTION_BODY, contact_phone="021-1"),
        clock,
    )
    for name, body in (("ib1_a", "IB-1"), ("ib1_b", "IB-1"), ("ib2_a", "IB-2")):
        create_user(
            session,
            SYSTEM_ACTOR,
            UserCreate(username=name, password=PASSWORD, role=Role.INSPECTOR, unit=body),
            clock,
        )
    session.commit()
    return {
        n: actor(session, n, Role.INSPECTOR, b)
        for n, b in (("ib1_a", "IB-1"), ("ib1_b", "IB-1"), ("ib2_a", "IB-2"))
    }


def _schedule(session: Session, clock: FixedClock, code: str, body: str, inspector: str) -> int:
    row, _ = service.schedule_next(session, SYSTEM_ACTOR, code, body, inspector, clock, YEARLY)
    session.commit()
    return row.id


def test_an_inspector_sees_and_records_only_their_bodys_inspections(
    session: Session, clock: FixedClock, people: dict[str, Actor], bodies: dict[str, Actor]
) -> None:
    mine = _schedule(session, clock, "11SHA000001", "IB-1", "ib1_a")
    theirs = _schedule(session, clock, "11SHB000003", "IB-2", "ib2_a")
    colleague = bodies["ib1_b"]
    assert [r.id for r in service.list_inspections(session, colleague)] == [mine]
    assert {r.id for r in service.list_inspections(session, people["regulator"])} == {mine, theirs}
    assert service.list_inspections(session, people["inspector"]) == []  # no body, not named on either
    for who in (colleague, people["inspector"]):
        with pytest.raises(NotFound):
            service.get_inspection(session, who, theirs)
        with pytest.raises(NotFound):
            service.record_result(session, who, theirs, DONE, Conclusion.PASS, "R", [], clock)
    # a colleague of the body records it and becomes its inspector; the one first named cannot sign it
    row = service.record_result(session, colleague, mine, DONE, Conclusion.PASS, "DJ-1", [], clock, YEARLY)
    assert row.inspector == "ib1_b"
    with pytest.raises(Forbidden):
        service.sign(session, bodies["ib1_a"], mine, clock, YEARLY)
    out = service.sign(session, colleague, mine, clock, YEARLY)
    session.commit()
    assert out.inspection.signed_at is not None
    assert out.next_inspection is not None and out.next_inspection.body_unit_code == "IB-1"
    assert [r.inspection_id for r in service.overdue(session, bodies["ib2_a"], clock, YEARLY)] == [theirs]
    assert service.overdue(session, colleague, clock, YEARLY) == []  # its next one is due in 2027
    assert (
        service.pass_rate(session, bodies["ib2_a"], TODAY - timedelta(days=30), TODAY, YEARLY).concluded == 0
    )
    assert service.pass_rate(session, colleague, TODAY - timedelta(days=30), TODAY, YEARLY).concluded == 1


def test_an_inspector_schedules_for_their_own_body(
    session: Session, clock: FixedClock, people: dict[str, Actor], bodies: dict[str, Actor]
) -> None:
    with pytest.raises(InvalidInput) as e:
        service.schedule_next(session, bodies["ib1_a"], "11SHA000001", "IB-2", "ib2_a", clock, YEARLY)
    assert e.value.errors[0].field == "body_unit_code"
    with pytest.raises(InvalidInput) as e:  # the inspector named belongs to another body
        service.schedule_next(session, people["admin"], "11SHA000001", "IB-2", "ib1_a", clock, YEARLY)
    assert e.value.errors[0].field == "inspector"
    row, created = service.schedule_next(
        session, bodies["ib1_a"], "11SHA000001", "IB-1", "ib1_b", clock, YEARLY
    )
    assert created and (row.body_unit_code, row.inspector) == ("IB-1", "ib1_b")


def test_a_self_test_is_recorded_once_by_the_maintenance_unit(
    session: Session,
    clock: FixedClock,
    people: dict[str, Actor],
    bodies: dict[str, Actor],
    client: TestClient,
) -> None:
    day = TODAY - timedelta(days=1)
    args = (Conclusion.PASS, "王工", "制动器试验正常", clock, YEARLY)
    row = service.record_self_test(session, people["maint_a"], "100001", day, *args)  # by its rescue code
    session.commit()
    assert (row.registration_code, row.unit_code, row.recorded_by) == ("11SHA000001", "MU-A", "maint_a")
    with pytest.raises(Conflict):
        service.record_self_test(session, people["maint_a2"], "11SHA000001", day, *args)
    session.rollback()
    with pytest.raises(NotFound):  # another unit's elevator
        service.record_self_test(session, people["maint_b"], "11SHA000001", day - timedelta(days=1), *args)
    for who in ("admin", "inspector", "owner_a"):
        with pytest.raises(Forbidden):
            service.record_self_test(session, people[who], "11SHA000001", day, *args)
    with pytest.raises(InvalidInput) as e:
        service.record_self_test(session, people["maint_a"], "11SHA000002", TODAY + timedelta(days=1), *args)
    assert e.value.errors[0].field == "tested_on"
    # who reads it
    for who in ("admin", "regulator", "inspector", "maint_a", "owner_a"):
        assert [s.id for s in service.list_self_tests(session, people[who])] == [row.id], who
    assert [s.id for s in service.list_self_tests(session, bodies["ib2_a"])] == [row.id]
    for who in ("maint_b", "owner_b"):
        assert service.list_self_tests(session, people[who]) == []
    with pytest.raises(Forbidden):
        service.list_self_tests(session, people["operator"])
    # on the elevator's inspection read, with the due date, and on its file
    read = service.elevator_inspections(session, people["owner_a"], "11SHA000001", clock, YEARLY)
    assert [s.id for s in read.self_tests] == [row.id] and read.due.due == date(2006, 3, 1)
    with pytest.raises(NotFound):
        service.elevator_inspections(session, people["owner_b"], "11SHA000001", clock, YEARLY)
    elevator = registry_queries.get_elevator(session, people["admin"], "11SHA000001")
    kinds = [e.kind for e in registry_queries.timeline(session, elevator)]
    assert "inspection_self_test" in kinds
    # through the API
    body = {"code": "11SHA000002", "tested_on": day.isoformat(), "conclusion": "fail", "tester": "李工"}
    r = client.post("/api/v1/inspection/self-tests", headers=auth(client, Role.MAINTENANCE), json=body)
    assert r.status_code == 201 and r.json()["unit_code"] == "MU-A", r.text
    r = client.get("/api/v1/inspection/elevators/11SHA000002", headers=auth(client, Role.INSPECTOR))
    assert r.status_code == 200 and [s["tester"] for s in r.json()["self_tests"]] == ["李工"], r.text


def test_a_deadline_before_the_inspection_is_refused_and_the_item_reaches_the_work_order(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    iid = _schedule(session, clock, "11SHA000001", "IB-1", "inspector")
    inspector = people["inspector"]
    early = [
        Finding("轿厢照明不足", Severity.MINOR, date(2026, 12, 20)),
        Finding("x", Severity.MINOR, date(2026, 11, 19)),
    ]
    with pytest.raises(InvalidInput) as e:
        service.record_result(session, inspector, iid, DONE, Conclusion.FAIL, "R", early, clock, YEARLY)
    assert [err.field for err in e.value.errors] == ["nonconformities.1.rectify_by"]
    finding = Finding("层门自闭装置失效", Severity.MAJOR, date(2026, 11, 20), "3.8")  # the same day is fine
    service.record_result(session, inspector, iid, DONE, Conclusion.FAIL, "R", [finding], clock, YEARLY)
    out = service.sign(session, inspector, iid, clock, YEARLY)
    session.commit()
    order = maintenance.get_work_order(session, people["admin"], out.work_order_ids[0])
    assert "[3.8] 层门自闭装置失效" in order.summary
    assert service.nonconformities_of(session, out.inspection)[0].item == "3.8"
