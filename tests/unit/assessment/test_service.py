"""Safety assessments and three-no measures through the service with a controlled clock: idempotent on the
request key, the hazard opened once for a finding with rectification, the decision, the status on the
city's today, the 15-year list and its filter, scope (404 outside) and roles (403). Each test runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.assessment import service
from liftwatch.assessment.domain import AssessmentResult, Decision, DueStatus, MeasureKind, ThreeNoStatus
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.hazards import service as hazards
from liftwatch.registry import queries as registry
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

SETTINGS = Settings(timezone="Asia/Shanghai")
TODAY = date(2026, 11, 23)


def _assess(
    session: Session,
    who: Actor,
    clock: FixedClock,
    key: str = "PG-1",
    code: str = "11SHB000004",
    result: AssessmentResult = AssessmentResult.RECTIFY,
    open_hazard: bool = True,
    on: date = date(2026, 11, 2),
) -> service.Recorded:
    out = service.record_assessment(
        session, who, code, key, "上海市特种设备监督检验技术研究院", on, result, clock, SETTINGS,
        findings="曳引绳磨损接近报废标准, 需更换", assessor_unit="IB-1", open_hazard=open_hazard,
    )  # fmt: skip
    session.commit()
    return out


def test_an_assessment_opens_its_hazard_once(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    first = _assess(session, people["inspector"], clock)
    again = _assess(session, people["inspector"], clock)
    assert (first.created, again.created) == (True, False)
    assert first.hazard_id is not None and again.hazard_id == first.hazard_id
    hazard = hazards.get_hazard(session, people["regulator"], first.hazard_id)
    assert (hazard.source, hazard.source_ref, hazard.level, hazard.responsible_unit) == (
        "spot_check", f"assessment:{first.assessment.id}", "general", "UU-B",
    )  # fmt: skip
    _, hazard_id, created = service.open_hazard_for(
        session, people["regulator"], first.assessment.id, clock, SETTINGS
    )
    assert (hazard_id, created) == (first.hazard_id, False)
    major = _assess(session, people["regulator"], clock, key="PG-2", result=AssessmentResult.MAJOR_WORK)
    assert major.hazard_id is not None
    assert hazards.get_hazard(session, people["admin"], major.hazard_id).level == "major"
    with pytest.raises(InvalidInput) as exc:
        _assess(session, people["inspector"], clock, key="PG-3", result=AssessmentResult.SAFE)
    assert exc.value.errors[0].field == "open_hazard"
    session.rollback()
    with pytest.raises(Conflict):  # a key of another elevator's record
        _assess(session, people["inspector"], clock, key="PG-1", code="11SHA000001")


def test_the_decision_and_its_day(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    made = _assess(session, people["inspector"], clock, result=AssessmentResult.MAJOR_WORK, open_hazard=False)
    assert made.hazard_id is None and made.assessment.decision == "none"
    aid = made.assessment.id
    with pytest.raises(InvalidInput) as exc:
        service.set_decision(session, people["regulator"], aid, Decision.MODERNISATION, None, clock, SETTINGS)
    assert exc.value.errors[0].field == "decision_on"
    with pytest.raises(InvalidInput) as exc:
        service.set_decision(
            session, people["regulator"], aid, Decision.MODERNISATION, date(2026, 10, 1), clock, SETTINGS
        )
    assert "before the assessment" in exc.value.errors[0].message
    row = service.set_decision(
        session, people["regulator"], aid, Decision.MODERNISATION, date(2026, 11, 20), clock, SETTINGS
    )
    assert (row.decision, row.decision_on) == ("modernisation", date(2026, 11, 20))
    session.commit()
    # the assessment and the decision are on the elevator file (一梯一档)
    elevator = registry.get_elevator(session, people["admin"], "11SHB000004")
    kinds = [e.kind for e in registry.timeline(session, elevator)]
    assert {"safety_assessment", "assessment_decision"} <= set(kinds)
    with pytest.raises(Forbidden):
        service.set_decision(session, people["owner_b"], aid, Decision.NONE, None, clock, SETTINGS)
    with pytest.raises(InvalidInput) as exc:
        _assess(session, people["inspector"], clock, key="PG-9", on=date(2026, 11, 24))
    assert exc.value.errors[0].field == "assessed_on"


def test_status_and_the_15_year_list(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    # never assessed: 11SHA000001 (since 2005-03-01) and 11SHB000004 (since 1998-09-09) are overdue
    regulator = people["regulator"]
    rows = service.old_register(session, regulator, TODAY)
    assert [(r.entry.registration_code, r.age, r.due.status) for r in rows] == [
        ("11SHB000004", 28, DueStatus.OVERDUE),
        ("11SHA000001", 21, DueStatus.OVERDUE),
    ]
    _assess(session, people["inspector"], clock, open_hazard=False)
    due = service.elevator_status(session, regulator, "100004", clock, SETTINGS)  # by rescue code
    assert (due.status, due.due_on, due.last_assessed) == (
        DueStatus.ASSESSED,
        date(2029, 11, 2),
        date(2026, 11, 2),
    )
    chase = service.old_register(session, regulator, TODAY, statuses=[DueStatus.DUE, DueStatus.OVERDUE])
    assert [r.entry.registration_code for r in chase] == ["11SHA000001"]
    # a unit's staff see their own elevators only
    assert [r.entry.registration_code for r in service.old_register(session, people["owner_b"], TODAY)] == [
        "11SHB000004"
    ]
    with pytest.raises(NotFound):
        service.assessments_of(session, people["owner_a"], "11SHB000004")
    with pytest.raises(NotFound):
        service.get_assessment(session, people["maint_a"], 1)
    assert len(service.assessments_of(session, people["maint_b"], "11SHB000004")) == 1
    with pytest.raises(Forbidden):
        service.assessments_of(session, people["operator"], "11SHB000004")
    with pytest.raises(Forbidden):
        _assess(session, people["owner_b"], clock, key="PG-8")


def test_three_no_measures(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    regulator = people["regulator"]
    assert service.supervision_of(session, regulator, "11SHA000001", clock, SETTINGS).three_no_status is (
        ThreeNoStatus.IDENTIFIED
    )
    m, created = service.add_measure(
        session, regulator, "11SHA000001", "M-1", MeasureKind.INTERIM_MAINTENANCE, date(2026, 11, 20),
        "静安寺街道办事处", clock, SETTINGS, note="浦江电梯兜底维保一年",
    )  # fmt: skip
    again, created_again = service.add_measure(
        session, regulator, "11SHA000001", "M-1", MeasureKind.INTERIM_MAINTENANCE, date(2026, 11, 20),
        "静安寺街道办事处", clock, SETTINGS,
    )  # fmt: skip
    session.commit()
    assert (created, created_again, again.id, m.status) == (True, False, m.id, "in_progress")
    service.add_measure(
        session, regulator, "11SHA000001", "M-2", MeasureKind.FUND_ARRANGED, date(2026, 11, 22),
        "静安寺街道办事处", clock, SETTINGS, status=ThreeNoStatus.RESOLVED,
    )  # fmt: skip
    session.commit()
    latest = service.latest_measures(session, ["11SHA000001", "11SHB000004"])
    assert list(latest) == ["11SHA000001"] and latest["11SHA000001"].kind == "fund_arranged"
    view = service.supervision_of(session, people["owner_a"], "11SHA000001", clock, SETTINGS)
    assert view.three_no_status is ThreeNoStatus.RESOLVED and [x.request_key for x in view.measures] == [
        "M-2",
        "M-1",
    ]
    with pytest.raises(InvalidInput) as exc:
        service.add_measure(
            session,
            regulator,
            "11SHA000001",
            "M-3",
            MeasureKind.OTHER,
            date(2026, 11, 22),
            "街道",
            clock,
            SETTINGS,
        )
    assert exc.value.errors[0].field == "note"
    with pytest.raises(Forbidden):
        service.add_measure(
            session,
            people["inspector"],
            "11SHA000001",
            "M-4",
            MeasureKind.SUSPENDED,
            TODAY,
            "街道",
            clock,
            SETTINGS,
        )
    with pytest.raises(NotFound):
        service.measures_of(session, people["owner_b"], "11SHA000001")
