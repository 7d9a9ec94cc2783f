"""Acceptance (issue 16, items 4 and 5), on SQLite and PostgreSQL with a controlled clock:
- adding an elevator to an old residential building: consent below the share is refused; the three
  departments review with their deadlines and a missed one is flagged; construction, acceptance and the use
  registration follow, and the registered elevator's file holds the whole history in order;
- online services (一网通办): a registration change, a cancellation, a use registration, an inspection
  request and a construction notice, each reviewed and taking effect on the registry and the file; a
  rejection; scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.applications import service
from liftwatch.applications.domain import Decision, Department, Kind
from liftwatch.applications.settings import ApplicationSettings
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.registry import queries as registry_queries
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

SETTINGS = ApplicationSettings()  # consent 2/3 of owners and of the floor area; 15 days a review
CLERK = Actor("regulator", Role.REGULATOR)
BUILDING = {
    "households": 18,
    "households_consenting": 12,  # exactly 2/3
    "area_m2": 1600,
    "area_consenting_m2": 1100,
    "floors": 6,
    "funding": ["owners", "subsidy"],
    "budget_yuan": 650000,
    "subsidy_yuan": 280000,
}


def _addition(form: dict[str, object]) -> service.NewApplication:
    return service.NewApplication(
        Kind.ADDITION, "曹杨新村12号楼加装电梯", district="普陀区", address="兰溪路12号", form=form
    )


def test_adding_an_elevator_from_consent_to_registration(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    owner = people["owner_a"]  # the property manager files for the residents
    short = {**BUILDING, "households_consenting": 11}  # 61% of the owners
    with pytest.raises(InvalidInput, match=r"the rule needs 66\.7% of each") as refused:
        service.submit(session, owner, _addition(short), clock, SETTINGS)
    assert refused.value.errors[0].field == "households_consenting"
    with pytest.raises(InvalidInput, match="floor area"):
        service.submit(session, owner, _addition({**BUILDING, "area_consenting_m2": 1000}), clock, SETTINGS)

    app = service.submit(session, owner, _addition(BUILDING), clock, SETTINGS)
    session.commit()
    view = service.get(session, owner, app.id, clock.now())
    assert app.reference.startswith("YW2026-") and view.application.stage == "in_review"
    assert [r.department for r in view.reviews] == ["planning", "housing", "market_supervision"]
    assert {r.due_at for r in view.reviews} == {clock.now() + timedelta(days=15)}

    clock.advance(timedelta(days=3))
    service.decide(session, CLERK, app.id, Department.PLANNING, Decision.APPROVED, "", clock)
    clock.advance(timedelta(days=4))
    service.decide(session, CLERK, app.id, Department.HOUSING, Decision.APPROVED, "结构安全", clock)
    session.commit()
    assert service.fire_due_timers(session, clock) == []  # day 7: nothing due
    clock.advance(timedelta(days=9))  # day 16: market supervision missed its 15 days
    flagged = service.fire_due_timers(session, clock)
    session.commit()
    assert [r.department for r in flagged] == ["market_supervision"] and flagged[0].late_at == clock.now()
    assert service.fire_due_timers(session, clock) == []  # once
    late = service.late_reviews(session, CLERK, clock.now())
    assert [(a.id, r.department) for a, r in late] == [(app.id, "market_supervision")]
    assert service.list_applications(session, CLERK, clock.now(), late_only=True)[0].late == 1

    clock.advance(timedelta(days=1))
    done = service.decide(session, CLERK, app.id, Department.MARKET_SUPERVISION, Decision.APPROVED, "", clock)
    assert done.application.stage == "approved" and done.events[-2].details["late"] is True
    with pytest.raises(Conflict, match="is approved, not construction"):
        service.accept(session, CLERK, app.id, "JY2026-001", True, clock)
    clock.advance(timedelta(days=10))
    service.start_construction(session, owner, app.id, clock.today(), clock)
    clock.advance(timedelta(days=90))
    service.accept(session, CLERK, app.id, "JY2026-0417", False, clock)  # failed: construction goes on
    assert service.get(session, CLERK, app.id, clock.now()).application.stage == "construction"
    clock.advance(timedelta(days=7))
    service.accept(session, CLERK, app.id, "JY2026-0433", True, clock)
    final = service.register(session, CLERK, app.id, "31SH0912", "MU-A", clock)
    session.commit()
    assert final.application.stage == "completed" and final.application.registration_code == "31SH0912"

    elevator = registry_queries.get_elevator(session, CLERK, "31SH0912")
    assert (elevator.use_unit.code, elevator.maintenance_unit.code, elevator.floors) == ("UU-A", "MU-A", 6)
    assert elevator.district == "普陀区" and elevator.rescue_code == "100005"
    entries = list(reversed(registry_queries.timeline(session, elevator)))  # oldest first
    assert "registration" in [e.kind for e in entries]  # dated on its commissioning day
    history = [(e.kind, e.details.get("department", "")) for e in entries if e.kind != "registration"]
    assert history == [
        ("application_submitted", ""),
        ("application_reviewed", "planning"),
        ("application_reviewed", "housing"),
        ("application_review_late", "market_supervision"),
        ("application_reviewed", "market_supervision"),
        ("application_approved", ""),
        ("application_construction", ""),
        ("application_acceptance", ""),
        ("application_acceptance", ""),
        ("application_completed", ""),
    ]
    progress, listed = service.public_additions(session)
    assert [(p.district, p.by_stage) for p in progress] == [("普陀区", {"completed": 1})]
    assert listed[0].address == "兰溪路12号"


def test_online_services_take_effect_on_the_registry_and_the_file(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    owner_a, owner_b, maint_a = people["owner_a"], people["owner_b"], people["maint_a"]
    ms = Department.MARKET_SUPERVISION

    change = service.submit(
        session,
        owner_a,
        service.NewApplication(
            Kind.REGISTRATION_CHANGE, "物业更换", "11SHA000002", form={"use_unit": "UU-B"}
        ),
        clock,
        SETTINGS,
    )
    clock.advance(timedelta(days=2))
    out = service.decide(session, CLERK, change.id, ms, Decision.APPROVED, "", clock)
    session.commit()
    assert out.application.stage == "completed"
    elevator = registry_queries.get_elevator(session, CLERK, "11SHA000002")
    assert elevator.use_unit.code == "UU-B"
    kinds = [e.kind for e in registry_queries.timeline(session, elevator)][:4]  # the newest first
    assert kinds == [
        "application_completed",
        "use_unit_change",
        "application_reviewed",
        "application_submitted",
    ]

    cancel = service.submit(
        session,
        owner_b,
        service.NewApplication(Kind.REGISTRATION_CANCEL, "拆除报废", "11SHB000003"),
        clock,
        SETTINGS,
    )
    service.decide(session, CLERK, cancel.id, ms, Decision.APPROVED, "", clock)
    assert registry_queries.get_elevator(session, CLERK, "11SHB000003").status == "scrapped"

    new = service.submit(
        session,
        owner_b,
        service.NewApplication(
            Kind.USE_REGISTRATION,
            "新装电梯使用登记",
            district="徐汇区",
            address="天平路88号",
            form={"floors": 12, "manufacturer": "通力"},
        ),
        clock,
        SETTINGS,
    )
    session.commit()
    with pytest.raises(InvalidInput):  # the registration code is given by the approval
        service.decide(session, CLERK, new.id, ms, Decision.APPROVED, "", clock)
    session.rollback()
    service.decide(session, CLERK, new.id, ms, Decision.APPROVED, "", clock, registration_code="31SH0950")
    registered = registry_queries.get_elevator(session, CLERK, "31SH0950")
    assert registered.use_unit.code == "UU-B" and registered.manufacturer == "通力"
    kinds = {e.kind for e in registry_queries.timeline(session, registered)}
    assert {"registration", "application_submitted", "application_reviewed", "application_completed"} <= kinds

    inspection = service.submit(
        session,
        owner_b,
        service.NewApplication(
            Kind.INSPECTION_REQUEST, "定期检验申请", "11SHB000004", form={"preferred_date": "2026-12-10"}
        ),
        clock,
        SETTINGS,
    )
    rejected = service.decide(
        session, CLERK, inspection.id, ms, Decision.REJECTED, "资料不全：缺维保记录", clock
    )
    assert rejected.application.stage == "rejected"
    with pytest.raises(InvalidInput, match="note"):  # a rejection says why
        other = service.submit(
            session,
            owner_b,
            service.NewApplication(
                Kind.INSPECTION_REQUEST, "再次申请", "11SHB000004", form={"preferred_date": "2026-12-12"}
            ),
            clock,
            SETTINGS,
        )
        service.decide(session, CLERK, other.id, ms, Decision.REJECTED, " ", clock)
    session.rollback()

    notice = service.submit(
        session,
        maint_a,
        service.NewApplication(
            Kind.CONSTRUCTION_NOTICE,
            "改造施工告知",
            "11SHA000001",
            form={"work": "modernisation", "planned_start": "2027-01-05"},
        ),
        clock,
        SETTINGS,
    )
    assert notice.applicant_unit == "MU-A"
    assert (
        service.decide(session, CLERK, notice.id, ms, Decision.APPROVED, "", clock).application.stage
        == "completed"
    )
    session.commit()

    # scope: a unit reads its own; the maintenance unit files notices and projects only; readers only read
    assert [v.application.kind for v in service.list_applications(session, maint_a, clock.now())] == [
        "construction_notice"
    ]
    with pytest.raises(NotFound):
        service.get(session, owner_a, notice.id, clock.now())
    with pytest.raises(Forbidden):
        service.submit(
            session,
            maint_a,
            service.NewApplication(Kind.REGISTRATION_CANCEL, "x", "11SHA000001"),
            clock,
            SETTINGS,
        )
    with pytest.raises(Forbidden):
        service.decide(session, owner_a, change.id, ms, Decision.APPROVED, "", clock)
    with pytest.raises(Forbidden):
        service.list_applications(session, people["operator"], clock.now())


def test_a_modernisation_project_ends_on_the_file(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    form = {"scope": "更换曳引机、控制柜", "funding": ["repair_fund"], "budget_yuan": 380000}
    app = service.submit(
        session,
        people["owner_a"],
        service.NewApplication(Kind.MODERNISATION, "1号梯更新改造", "11SHA000001", form=form),
        clock,
        SETTINGS,
    )
    for department in (Department.HOUSING, Department.MARKET_SUPERVISION):
        service.decide(session, CLERK, app.id, department, Decision.APPROVED, "", clock)
    service.start_construction(session, people["owner_a"], app.id, clock.today(), clock)
    out = service.accept(session, CLERK, app.id, "JY2026-0500", True, clock)
    session.commit()
    assert out.application.stage == "completed"
    kinds = [
        e.kind
        for e in registry_queries.timeline(
            session, registry_queries.get_elevator(session, CLERK, "11SHA000001")
        )
    ]
    assert "modernisation" in kinds and "application_acceptance" in kinds and "application_completed" in kinds
    with pytest.raises(InvalidInput, match="funding"):
        service.submit(
            session,
            people["owner_a"],
            service.NewApplication(Kind.MODERNISATION, "x", "11SHA000001", form={**form, "funding": []}),
            clock,
            SETTINGS,
        )
