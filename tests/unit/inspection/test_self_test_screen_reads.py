"""The read behind the self-test screen's "due a self-test" (待自检) list: a maintenance unit sees its own
elevators whose periodic inspection is due within 30 days and, under the reform schedule, those whose
self-test anniversary is near; a self-test recorded lately clears an elevator."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.inspection import service
from liftwatch.inspection.domain import Conclusion
from liftwatch.inspection.service import SelfTestDue
from tests.unit.maintenance.workorder_city import (
    actor,
    people_fixture,  # noqa: F401 - fixture
)

YEARLY = Settings()
REFORM = Settings(inspection_schedule="reform")


def test_the_units_open_periodic_inspections_want_a_self_test_until_one_is_recorded(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    mine = service.schedule_next(session, SYSTEM_ACTOR, "11SHA000001", "IB-1", "inspector", clock, YEARLY)[0]
    service.schedule_next(session, SYSTEM_ACTOR, "11SHB000003", "IB-1", "inspector", clock, YEARLY)
    session.commit()
    maint_a = people["maint_a"]
    assert service.self_tests_due(session, maint_a, clock, YEARLY) == [
        SelfTestDue("11SHA000001", mine.due_date, True, mine.id)
    ]
    assert [
        d.registration_code for d in service.self_tests_due(session, people["maint_b"], clock, YEARLY)
    ] == ["11SHB000003"]
    service.record_self_test(
        session, maint_a, "11SHA000001", date(2026, 11, 20), Conclusion.PASS, "王工", "", clock, YEARLY
    )
    assert service.self_tests_due(session, maint_a, clock, YEARLY) == []


def test_under_the_reform_schedule_a_near_anniversary_is_a_self_test_year(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    # 11SHA000002, commissioned 2019-06-01, passed on 2025-12-01 at age 6: next inspection in 3 years, a
    # self-test on 2026-12-01 (eight days after the clock's 2026-11-23) and 2027-12-01
    row = service.schedule_next(session, SYSTEM_ACTOR, "11SHA000002", "IB-1", "inspector", clock, REFORM)[0]
    inspector = actor(session, "inspector", Role.INSPECTOR)
    done = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
    service.record_result(session, inspector, row.id, done, Conclusion.PASS, "DJ-1", [], clock, REFORM)
    signed = service.sign(session, inspector, row.id, clock, REFORM)
    assert signed.next_inspection is not None and signed.next_inspection.due_date == date(2028, 12, 1)
    session.commit()
    maint_a = people["maint_a"]
    assert service.self_tests_due(session, maint_a, clock, REFORM) == [
        SelfTestDue("11SHA000002", date(2026, 12, 1), False)
    ]
    assert service.self_tests_due(session, maint_a, clock, YEARLY) == []  # no self-test years
    assert service.self_tests_due(session, people["maint_b"], clock, REFORM) == []
    assert service.self_tests_due(session, maint_a, clock, REFORM, days=5) == []  # not within 5 days
