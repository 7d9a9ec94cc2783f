"""Simulated rescue crews for the demo: placed near the elevators their unit maintains, and, while the
demo runs, answering their incidents through the same service calls the crew API makes, with realistic
random delays (DOMAIN.md §5: arrival 10-13 min on average, 2-5 min on site; a few never answer, which
shows the escalation)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import UnitType
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, GeoPoint, IncidentStatus
from liftwatch.sim.geography import DISTRICTS

log = logging.getLogger(__name__)
ELEVATORS_PER_CREW = 40
CAUSES = [(Cause.MISUSE, 0.408), (Cause.ELECTRO_MECHANICAL, 0.385), (Cause.POWER_CUT, 0.207)]


def seed_demo_crews(session: Session, clock: Clock, seed: int = 1, crew_username: str | None = None) -> int:
    """Crews for every maintenance unit (about one per 40 elevators) and one per district rescue station.
    ``crew_username`` is linked to the first crew of the unit it belongs to (the demo's crew login)."""
    rng = random.Random(seed)
    units, _ = registry.list_units(session, SYSTEM_ACTOR, UnitType.MAINTENANCE.value, size=10_000)
    stations, _ = registry.list_units(session, SYSTEM_ACTOR, UnitType.RESCUE_STATION.value, size=10_000)
    counts = registry.elevator_counts(session, units)
    login_unit = None
    if crew_username:
        from liftwatch.accounts.service import unit_of_user

        login_unit = unit_of_user(session, crew_username)
    n = 0
    for unit in units:
        items, _ = registry.list_elevators(
            session, SYSTEM_ACTOR, registry.ElevatorFilter(unit=unit.code), clock, size=500
        )
        spots = [GeoPoint(e.latitude, e.longitude) for e in items if e.latitude and e.longitude]
        for i in range(max(2, counts.get(unit.id, 0) // ELEVATORS_PER_CREW)):
            spot = rng.choice(spots) if spots else GeoPoint(31.23, 121.47)
            where = GeoPoint(spot.lat + rng.uniform(-0.02, 0.02), spot.lon + rng.uniform(-0.02, 0.02))
            username = crew_username if i == 0 and unit.code == login_unit else None
            rescue.add_crew(
                session,
                SYSTEM_ACTOR,
                f"{unit.code[-6:]}-{i + 1:02d}",
                unit.code,
                f"{unit.name[:12]}救援{i + 1}组",
                where,
                clock,
                phone=f"138{rng.randrange(10**8):08d}",
                username=username,
            )
            n += 1
    by_district = {d.name: d for d in DISTRICTS}
    for station in stations:
        d = by_district.get(station.district)
        where = GeoPoint(d.lat, d.lon) if d else GeoPoint(31.23, 121.47)
        rescue.add_crew(
            session, SYSTEM_ACTOR, f"RS-{station.code[-6:]}", station.code, station.name[:24], where, clock
        )
        n += 1
    return n


async def run_demo_crews(
    session_factory: sessionmaker[Session],
    clock: Clock,
    stop: asyncio.Event,
    seed: int = 1,
    step_s: float = 5.0,
    settings: rescue.RescueSettings | None = None,
) -> None:
    """Every few seconds, move each open incident's crew along: acknowledge, arrive, release, complete.
    ``settings``: the app's rescue settings (a crew that completes takes a waiting incident at once, on
    the crews' shifts); None reads them from the environment."""
    plans: dict[int, dict[str, datetime]] = {}
    settings = settings or rescue.RescueSettings()
    while not stop.is_set():
        try:
            await asyncio.to_thread(_advance, session_factory, clock, plans, seed, settings)
        except Exception:
            log.exception("demo crews: step failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=step_s)


def _advance(
    session_factory: sessionmaker[Session],
    clock: Clock,
    plans: dict[int, dict[str, datetime]],
    seed: int,
    settings: rescue.RescueSettings | None = None,
) -> None:
    settings = settings or rescue.RescueSettings()
    now = clock.now()
    with session_factory() as session:
        work = rescue.incidents_for_crews(session)
        crews = rescue.crews_by_id(session, sorted({inc.crew_id for inc in work if inc.crew_id}))
        for inc in work:
            crew = crews.get(inc.crew_id or "")
            if crew is None:
                continue
            # acts for the crew, as the crew API would
            actor = Actor(crew.username or f"crew:{crew.id}", Role.ADMIN)
            plan = plans.get(inc.id)
            dispatched = inc.escalated_l2_at or inc.dispatched_at  # the current crew's dispatch
            if plan is None or plan["dispatched"] != dispatched:
                plan = plans[inc.id] = _plan(inc.id, dispatched, inc.alarm_at, seed)
            try:
                if inc.status == IncidentStatus.DISPATCHED.value and "ack" in plan and now >= plan["ack"]:
                    rescue.acknowledge(session, actor, inc.id, clock)
                if inc.status == IncidentStatus.ACKNOWLEDGED.value and now >= plan["arrive"]:
                    rescue.arrive(session, actor, inc.id, clock)
                if inc.status == IncidentStatus.ARRIVED.value and now >= plan["release"]:
                    rescue.release(session, actor, inc.id, clock)
                if inc.status == IncidentStatus.RELEASED.value and now >= plan["complete"]:
                    rng = random.Random(f"{seed}:{inc.id}:cause")
                    cause = rng.choices([c for c, _ in CAUSES], [w for _, w in CAUSES])[0]
                    rescue.complete(session, actor, inc.id, clock, settings, cause)
                    plans.pop(inc.id, None)
                session.commit()
            except Exception:
                session.rollback()
                log.exception("demo crews: incident %d", inc.id)


def _plan(
    incident_id: int, dispatched_at: datetime | None, alarm_at: datetime, seed: int
) -> dict[str, datetime]:
    """When the crew acknowledges, arrives, releases and reports: drawn from the seed and the incident, so
    the same dispatch always gets the same plan."""
    rng = random.Random(f"{seed}:{incident_id}:{dispatched_at}")
    start = dispatched_at or alarm_at
    plan: dict[str, datetime] = {"dispatched": start}
    if rng.random() < 0.95:  # one crew in twenty never answers: the escalation takes over
        plan["ack"] = start + timedelta(seconds=rng.uniform(20, 150))
    travel = 600.0 * rng.uniform(0.6, 1.6)
    plan["arrive"] = plan.get("ack", start) + timedelta(seconds=travel)
    plan["release"] = plan["arrive"] + timedelta(seconds=rng.uniform(120, 300))
    plan["complete"] = plan["release"] + timedelta(seconds=rng.uniform(60, 180))
    return plan
