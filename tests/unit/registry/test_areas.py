"""The dashboard's reads by area (``registry.areas``): the one-query overview gives each level's totals,
children and bounds as counted by hand from the elevators' rows, in the city's and a unit's scope; the
map's sample by id stays within its limit and covers every district; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, aliased

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.registry import areas
from liftwatch.registry.areas import Area
from liftwatch.registry.models import Elevator, Unit
from liftwatch.sim.city import generate_city


def _rows(session: Session) -> list[Any]:
    use = aliased(Unit)
    stmt = select(
        Elevator.district,
        Elevator.street,
        use.code,
        Elevator.registration_code,
        Elevator.status,
        Elevator.latitude,
        Elevator.longitude,
        Elevator.maintenance_unit_id,
    ).outerjoin(use, use.id == Elevator.use_unit_id)
    return list(session.execute(stmt))


def _by_hand(rows: list[Any], area: Area, unit_id: int | None) -> tuple[areas.Totals, dict[str, int], Any]:
    """Totals, elevators per child key and bounds of ``area``, for the city (None) or one maintainer."""
    mine = [
        r
        for r in rows
        if (unit_id is None or r.maintenance_unit_id == unit_id)
        and (not area.district or r.district == area.district)
        and (not area.street or r.street == area.street)
        and (not area.unit or (r.code or "") == area.unit)
        and (not area.elevator or r.registration_code == area.elevator)
    ]
    located = [r for r in mine if r.latitude is not None and r.longitude is not None]
    totals = areas.Totals(len(mine), sum(r.status == "in_use" for r in mine), len(located))
    child = {"city": "district", "district": "street", "street": "code", "unit": "registration_code"}.get(
        area.level
    )
    kids = Counter(getattr(r, child) or "" for r in mine) if child else Counter()
    box = (
        (
            min(r.latitude for r in located),
            min(r.longitude for r in located),
            max(r.latitude for r in located),
            max(r.longitude for r in located),
        )
        if located
        else None
    )
    return totals, dict(kids), box


def test_the_overview_is_what_the_rows_say(engine: Engine) -> None:
    generate_city(engine, elevators=400, seed=5, as_of=date(2026, 12, 1), progress=False)
    with Session(engine) as session:
        rows = _rows(session)
        first = rows[0]
        maintainer = first.maintenance_unit_id
        chosen = [
            Area(),
            Area(first.district),
            Area(first.district, first.street),
            Area(first.district, first.street, first.code or ""),
            Area(first.district, first.street, first.code or "", first.registration_code),
            Area("无此区"),
        ]
        for actor, unit_id in ((SYSTEM_ACTOR, None), (Actor("m", Role.MAINTENANCE, maintainer), maintainer)):
            for area in chosen:
                seen = areas.overview(session, actor, area)
                totals, kids, box = _by_hand(rows, area, unit_id)
                assert seen.totals == totals, (actor.role, area)
                assert {c.key: c.elevators for c in seen.children} == kids, (actor.role, area)
                assert [c.key for c in seen.children] == sorted(kids), (actor.role, area)
                assert seen.bounds == (None if box is None else tuple(float(v) for v in box)), (
                    actor.role,
                    area,
                )
        city = areas.overview(session, SYSTEM_ACTOR, Area())
        assert city.totals.elevators == 400 and len(city.children) > 1 and city.bounds is not None
        nobody = areas.overview(session, Actor("i", Role.INSURER), Area())
        assert nobody.totals.elevators == 0 and nobody.children == []  # no scope, nothing


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
