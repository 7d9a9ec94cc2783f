"""core/deadlines.py on real timer rows (hazard_timers): due ones are claimed oldest first and marked fired
once, cancelled and future ones stay, a domain's own due condition replaces ``due_at <= now``, and on
PostgreSQL a timer one worker holds is skipped by another (SKIP LOCKED)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import Actor
from liftwatch.core import deadlines
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards import service
from liftwatch.hazards.models import HazardTimer
from liftwatch.hazards.workflow import HazardLevel, HazardSource, Step
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

SETTINGS = Settings(timezone="Asia/Shanghai")
DUE = datetime(2026, 12, 23, 16, 0, tzinfo=UTC)  # a general hazard reported at NOW: overdue step


def _two_hazards(session: Session, people: dict[str, Actor], clock: FixedClock) -> list[HazardTimer]:
    """Two general hazards: two timers each (overdue at DUE, escalation a week later)."""
    for ref in ("DJ-1:1", "DJ-1:2"):
        service.report(
            session, people["inspector"], "11SHA000001", HazardSource.INSPECTION, ref, HazardLevel.GENERAL,
            "层门门锁啮合深度不足", clock, SETTINGS,
        )  # fmt: skip
    session.commit()
    timers = list(session.scalars(select(HazardTimer).order_by(HazardTimer.id)))
    assert len(timers) == 4
    return timers


def test_due_timers_are_fired_once_oldest_first(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    timers = _two_hazards(session, people, clock)
    overdue = [t for t in timers if t.due_at == DUE]
    overdue[1].cancelled = True
    session.commit()
    assert deadlines.fire_due(session, HazardTimer, DUE - timedelta(seconds=1)) == []
    fired = deadlines.fire_due(session, HazardTimer, DUE)
    assert [t.id for t in fired] == [overdue[0].id]  # the cancelled one stays
    assert fired[0].fired_at == DUE
    session.commit()
    assert deadlines.fire_due(session, HazardTimer, DUE) == []  # fired once
    later = DUE + timedelta(days=30)
    escalations = deadlines.fire_due(session, HazardTimer, later)
    assert [t.due_at for t in escalations] == [DUE + timedelta(days=7)] * 2


def test_a_domain_condition_replaces_the_due_time(
    session: Session, clock: FixedClock, people: dict[str, Actor]
) -> None:
    _two_hazards(session, people, clock)
    escalations = HazardTimer.kind == Step.ESCALATION.value
    assert len(deadlines.fire_due(session, HazardTimer, DUE, when=escalations)) == 2  # due or not
    assert len(deadlines.fire_due(session, HazardTimer, DUE, limit=1)) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_a_timer_held_by_one_worker_is_skipped_by_another(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock, people: dict[str, Actor]
) -> None:
    assert session.get_bind().dialect.name == "postgresql"
    _two_hazards(session, people, clock)
    with session_factory() as first, session_factory() as second:
        held = deadlines.fire_due(first, HazardTimer, DUE, limit=1)  # locked until first commits
        other = deadlines.fire_due(second, HazardTimer, DUE)
        assert len(held) == 1 and [t.id for t in other] != [held[0].id] and len(other) == 1
        second.commit()
        first.commit()
