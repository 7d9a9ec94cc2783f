"""Simulated crews: placed per unit, and they carry an incident from dispatch to completion."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Source
from liftwatch.rescue.models import Crew, Incident
from liftwatch.sim.crews import _advance, seed_demo_crews
from tests.factories import seed


def test_crews_answer_their_incidents(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    seed(session, clock)
    n = seed_demo_crews(session, clock, crew_username="maint_a")
    session.commit()
    assert n == 4  # two per maintenance unit (MU-A, MU-B), no rescue station in the seed
    assert rescue.crew_count(session) == 4
    linked = session.scalar(select(Crew).where(Crew.username == "maint_a"))
    assert linked is not None and linked.unit == "MU-A"
    call = rescue.Report("11SHA000001", Source.PHONE)
    inc = rescue.report(session, SYSTEM_ACTOR, call, clock, rescue.RescueSettings()).incident
    session.commit()
    assert [i.id for i in rescue.incidents_for_crews(session)] == [inc.id]  # dispatched to a crew
    plans: dict[int, dict[str, object]] = {}
    stages: list[str] = []
    for _ in range(60):  # 30 minutes in 30 s steps
        clock.advance(timedelta(seconds=30))
        _advance(session_factory, clock, plans, seed=1)  # type: ignore[arg-type]
        session.expire_all()
        current = session.get(Incident, inc.id)
        assert current is not None
        if not stages or stages[-1] != current.status:
            stages.append(current.status)
    assert stages == ["dispatched", "acknowledged", "arrived", "released", "completed"]
    done = session.get(Incident, inc.id)
    assert done is not None and done.cause in {"misuse", "electro_mechanical", "power_cut"}
    assert done.acknowledged_at and done.arrived_at and done.released_at and done.completed_at
    assert done.acknowledged_at < done.arrived_at < done.released_at < done.completed_at
    assert timedelta(minutes=2) <= done.released_at - done.arrived_at <= timedelta(minutes=5, seconds=30)
    assert session.scalar(select(func.count()).select_from(Incident)) == 1
    assert rescue.incidents_for_crews(session) == []  # completed: nothing left for the crews
