"""The dashboard's reads by area (``registry.areas``): the one-query overview gives what the three single
queries give, at every level and in a unit's scope; the map's sample by id stays within its limit and
covers every district; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.registry import areas
from liftwatch.registry.areas import Area
from liftwatch.registry.models import Elevator, Unit
from liftwatch.sim.city import generate_city


def _areas(session: Session) -> list[Area]:
    district, street, unit_id, code = session.execute(
        select(Elevator.district, Elevator.street, Elevator.use_unit_id, Elevator.registration_code).limit(1)
    ).one()
    unit = session.scalar(select(Unit.code).where(Unit.id == unit_id)) or ""
    return [
        Area(),
        Area(district),
        Area(district, street),
        Area(district, street, unit),
        Area(district, street, unit, code),
        Area("无此区"),
    ]


def test_the_overview_is_the_three_queries_in_one(engine: Engine) -> None:
    generate_city(engine, elevators=400, seed=5, as_of=date(2026, 12, 1), progress=False)
    with Session(engine) as session:
        maintainer = session.scalar(select(Elevator.maintenance_unit_id).limit(1))
        actors = (SYSTEM_ACTOR, Actor("m", Role.MAINTENANCE, maintainer), Actor("i", Role.INSURER))
        for actor in actors:
            for area in _areas(session):
                seen = areas.overview(session, actor, area)
                assert seen.totals == areas.totals(session, actor, area), (actor.role, area)
                assert seen.children == areas.children(session, actor, area), (actor.role, area)
                assert seen.bounds == areas.bounds(session, actor, area), (actor.role, area)
        city = areas.overview(session, SYSTEM_ACTOR, Area())
        assert city.totals.elevators == 400 and len(city.children) > 1 and city.bounds is not None
        assert areas.overview(session, actors[2], Area()).totals.elevators == 0  # no scope, nothing


def test_the_maps_sample_keeps_its_limit_and_every_district(engine: Engine) -> None:
    generate_city(engine, elevators=600, seed=7, as_of=date(2026, 12, 1), progress=False)
    with Session(engine) as session:
        located = areas.totals(session, SYSTEM_ACTOR, Area()).located
        every = areas.points(session, SYSTEM_ACTOR, Area(), 1000, located)
        assert len(every) == located  # under the limit: all of them
        sample = areas.points(session, SYSTEM_ACTOR, Area(), 100, located)
        assert 0 < len(sample) <= 100 and len({p.registration_code for p in sample}) == len(sample)
        districts = Counter(p.district for p in every)
        assert set(Counter(p.district for p in sample)) == set(districts)
        # without the count the database orders the whole area: the same limit, the same districts
        unsorted = areas.points(session, SYSTEM_ACTOR, Area(), 100)
        assert len(unsorted) == 100 and set(Counter(p.district for p in unsorted)) == set(districts)
