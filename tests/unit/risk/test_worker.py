"""The risk worker on a controlled clock: its first pass scores the city, later passes rescore only the
elevators whose records changed (a new fault, a flag a regulator confirmed) and leave the others alone, a
restarted worker goes on from the watermark kept in the scores, a day on the full run comes again; the
registry's change read and the loop."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.maintenance.models import MaintenanceFlag
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.models import Elevator
from liftwatch.risk.models import RiskScoreRow
from liftwatch.risk.score import RiskSettings
from liftwatch.risk.worker import RiskWorker
from liftwatch.telemetry.models import Fault
from tests.factories import seed
from tests.unit.risk.test_queries import A1, A2, B3, B4, _flag
from tests.waiting import until

SETTINGS = Settings(timezone="Asia/Shanghai", risk_recompute_s=0.01)


def _worker(session_factory: sessionmaker[Session], clock: FixedClock) -> RiskWorker:
    return RiskWorker(session_factory, clock, SETTINGS, RiskSettings())


def _stored(session: Session) -> dict[str, RiskScoreRow]:
    session.expire_all()
    return {r.registration_code: r for r in session.scalars(select(RiskScoreRow))}


def _new_fault(session: Session, clock: FixedClock, code: str) -> None:
    at = clock.now()
    session.add(
        Fault(
            fault_id=f"new-{code}-{at.timestamp()}",
            registration_code=code,
            fault_type="door_fault",
            severity="major",
            started_at=at,
            raised_at=at,
        )
    )
    session.commit()


def test_passes_rescore_only_what_changed_and_a_restart_goes_on(
    session: Session, session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    seed(session, clock)
    _flag(session, B3, "open", 40)  # an open flag: no points until a regulator confirms it
    session.commit()
    worker = _worker(session_factory, clock)
    first = worker.step()  # nothing stored: the full run
    assert first is not None and first.elevators == 4 and worker.full_runs == 1
    clock.advance(timedelta(minutes=10))
    worker.step()  # the seed's own rows, stamped just before the watermark's lookback, settle
    clock.advance(timedelta(minutes=10))
    assert worker.step() is None  # nothing changed: nothing written
    settled = {c: (r.computed_at, r.score) for c, r in _stored(session).items()}
    faults_before = _stored(session)[A1].facts["faults_90d"]

    clock.advance(timedelta(minutes=5))
    _new_fault(session, clock, A1)
    clock.advance(timedelta(minutes=5))
    done = worker.step()
    assert done is not None and done.elevators == 1 and worker.full_runs == 1
    after = _stored(session)
    assert after[A1].computed_at == clock.now() and after[A1].facts["faults_90d"] == faults_before + 1
    assert after[A1].score > settled[A1][1]
    assert {c: (r.computed_at, r.score) for c, r in after.items() if c != A1} == {
        c: v for c, v in settled.items() if c != A1
    }

    # a restart: a new worker reads its watermark from the stored scores, no full run
    clock.advance(timedelta(minutes=5))
    session.execute(
        update(MaintenanceFlag)
        .where(MaintenanceFlag.registration_code == B3)
        .values(state="confirmed", reviewed_at=clock.now())
    )
    session.commit()
    clock.advance(timedelta(minutes=5))
    restarted = _worker(session_factory, clock)
    done = restarted.step()
    assert done is not None and done.elevators == 1 and restarted.full_runs == 0
    again = _stored(session)
    assert again[B3].computed_at == clock.now() and again[B3].facts["confirmed_fake_flags"] == 1
    assert again[A2].computed_at == settled[A2][0] and again[B4].computed_at == settled[B4][0]

    clock.advance(timedelta(days=1))  # the oldest score is a day old: the full run again
    done = restarted.step()
    assert done is not None and done.elevators == 4 and restarted.full_runs == 1


def test_codes_changed_since_reads_record_updates(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    session.flush()
    later = clock.now() + timedelta(minutes=1)
    assert registry_queries.codes_changed_since(session, later) == set()
    session.execute(update(Elevator).where(Elevator.registration_code == A2).values(updated_at=later))
    assert registry_queries.codes_changed_since(session, clock.now()) == {A2}
    assert A1 in registry_queries.codes_changed_since(session, clock.now() - timedelta(days=1))


def test_elevators_by_codes_reads_a_batch_and_leaves_unknown_codes_out(
    session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    session.flush()
    found = registry_queries.elevators_by_codes(session, [B3, "11SHX999999", A1, A1], batch=1)
    assert [e.registration_code for e in found] == [A1, B3]
    assert registry_queries.elevators_by_codes(session, []) == []


def test_the_loop_runs_reports_health_and_stops(
    session_factory: sessionmaker[Session], clock: FixedClock
) -> None:
    worker = _worker(session_factory, clock)

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        await until(lambda: worker.health.report()["steps"] >= 2, timeout=5, what="two passes of the loop")
        assert worker.health.report()["ready"]
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(go())
