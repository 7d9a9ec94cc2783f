"""The applications worker flags a review whose deadline passed, from the durable timer rows: a worker
started after the application was submitted (a restart) flags it, once, and a second worker flags nothing
more; a decided review is never flagged."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor
from liftwatch.applications import service
from liftwatch.applications.domain import Decision, Department, Kind
from liftwatch.applications.settings import ApplicationSettings
from liftwatch.applications.worker import ApplicationWorker
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture


def test_a_restarted_worker_flags_the_late_review_once(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, people: dict[str, Actor]
) -> None:
    new = service.NewApplication(
        Kind.MODERNISATION,
        "2号梯大修",
        "11SHA000002",
        form={"scope": "更换钢丝绳", "funding": ["owners"], "budget_yuan": 90000},
    )
    app = service.submit(session, people["owner_a"], new, clock, ApplicationSettings(review_days=10))
    service.decide(session, SYSTEM_ACTOR, app.id, Department.HOUSING, Decision.APPROVED, "", clock)
    session.commit()
    later = FixedClock(clock.now() + timedelta(days=11))
    first = ApplicationWorker(session_factory, later, Settings())  # started after the submission
    assert first.fire() == 1 and first.fire() == 0
    assert ApplicationWorker(session_factory, later, Settings()).fire() == 0
    view = service.get(session, SYSTEM_ACTOR, app.id, later.now())
    session.expire_all()
    reviews = {r.department: r for r in service.get(session, SYSTEM_ACTOR, app.id, later.now()).reviews}
    assert reviews["market_supervision"].late_at is not None and reviews["housing"].late_at is None
    assert view.late == 1 and [e.kind for e in view.events][-1] == "review_late"
