"""The parts worker judges every current part's wear in batches, each committed, so the worn list reads an
index; a pass is due again only after LIFTWATCH_PARTS_REFRESH_EVERY_S."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.parts import service
from liftwatch.parts.domain import PartKind
from liftwatch.parts.settings import PartSettings
from liftwatch.parts.worker import PartsWorker
from tests.unit.parts.city import SETTINGS, C, parts_city


def test_a_pass_judges_every_part_and_the_next_waits(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    parts_city(session, clock)
    old = service.NewPart(
        PartKind.CONTROLLER, "新时达", "AS380", "S-1", date(2020, 5, 1), design_life_years=7
    )
    service.record_part(session, SYSTEM_ACTOR, C[2], old, clock, SETTINGS)  # 6.6 of 7 years: near
    session.commit()
    later = FixedClock(clock.now() + timedelta(days=200))  # 7.1 years: past
    worker = PartsWorker(session_factory, later, SETTINGS, PartSettings(refresh_every_s=3600))
    assert worker.refresh_if_due() == 9 and worker.refresh_if_due() == 0  # 8 machines and the controller
    later.advance(timedelta(hours=1))
    assert worker.refresh_if_due() == 9
    session.expire_all()
    worn, _ = service.worn_parts(session, Actor("regulator", Role.REGULATOR), later, SETTINGS, PartSettings())
    assert [(w.view.part.serial, w.view.part.wear) for w in worn] == [("S-1", "past")]
