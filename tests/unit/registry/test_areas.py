"""The dashboard's reads by area (``registry.areas``): the one-query overview gives each level's totals,
children and bounds as counted by hand from the elevators' rows, in the city's and a unit's scope; the
map's grid counts each elevator in view once, in the square a hand computation puts it in, and its
points keep their limit and the codes asked; on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, aliased

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.registry import areas
from liftwatch.registry.areas import Area
from liftwatch.registry.geo import Box
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


def test_the_grid_counts_each_elevator_in_view_once(engine: Engine) -> None:
    generate_city(engine, elevators=600, seed=7, as_of=date(2026, 12, 1), progress=False)
    with Session(engine) as session:
        rows = [r for r in _rows(session) if r.latitude is not None and r.longitude is not None]
        south, west, north, east = areas.bounds(session, SYSTEM_ACTOR, Area()) or (0, 0, 0, 0)
        box = Box(south, west, north, east)
        grid = areas.cells(session, SYSTEM_ACTOR, Area(), box, 5, 7)
        assert sum(c.elevators for c in grid) == len(rows) > 0
        height, width = (north - south) / 5, (east - west) / 7
        hand = Counter(
            (math.floor((r.latitude - south) / height), math.floor((r.longitude - west) / width))
            for r in rows
        )
        assert {(c.row, c.column): c.elevators for c in grid} == dict(hand)
        for c in grid:  # each square's mean position and bounds are its own elevators'
            mine = [
                r
                for r in rows
                if (math.floor((r.latitude - south) / height), math.floor((r.longitude - west) / width))
                == (c.row, c.column)
            ]
            assert c.in_service == sum(r.status == "in_use" for r in mine)
            assert c.lat == pytest.approx(sum(r.latitude for r in mine) / len(mine))
            assert c.bounds == (
                min(r.latitude for r in mine),
                min(r.longitude for r in mine),
                max(r.latitude for r in mine),
                max(r.longitude for r in mine),
            )
        # a smaller view counts only what it holds, and its points are those elevators
        half = Box(south, west, (south + north) / 2, east)
        inside = {r.registration_code for r in rows if r.latitude <= half.north}
        counted = areas.cells(session, SYSTEM_ACTOR, Area(), half, 3, 3)
        assert sum(c.elevators for c in counted) == len(inside)
        shown = areas.points(session, SYSTEM_ACTOR, Area(), 10_000, half)
        assert {p.registration_code for p in shown} == inside
        # a district's grid holds its elevators only
        district = rows[0].district
        narrowed = areas.cells(session, SYSTEM_ACTOR, Area(district), box, 4, 4)
        assert sum(c.elevators for c in narrowed) == sum(r.district == district for r in rows)


def test_points_keep_their_limit_and_the_codes_asked(engine: Engine) -> None:
    generate_city(engine, elevators=300, seed=3, as_of=date(2026, 12, 1), progress=False)
    with Session(engine) as session:
        located = areas.totals(session, SYSTEM_ACTOR, Area()).located
        assert len(areas.points(session, SYSTEM_ACTOR, Area(), 10_000)) == located
        assert len(areas.points(session, SYSTEM_ACTOR, Area(), 10)) == 10
        some = sorted(p.registration_code for p in areas.points(session, SYSTEM_ACTOR, Area(), 10_000))[:3]
        picked = areas.points(session, SYSTEM_ACTOR, Area(), 10_000, only=[*some, "11XXX999999"])
        assert sorted(p.registration_code for p in picked) == some
        assert areas.points(session, SYSTEM_ACTOR, Area(), 10_000, only=[]) == []
        nobody = Actor("i", Role.INSURER)
        assert areas.points(session, nobody, Area(), 10_000) == []
        assert areas.cells(session, nobody, Area(), Box(-90, -180, 90, 180), 4, 4) == []
