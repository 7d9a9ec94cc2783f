"""The demo's drills and certificates (sim/people.py): most use units held this year's drill, the rest are
listed as missing; a second run adds nothing; a certified worker is certified once."""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.people import service
from liftwatch.registry.domain import UnitType
from liftwatch.registry.queries import busiest_unit
from liftwatch.sim.city import generate_city
from liftwatch.sim.people import certify, seed_drills

pytestmark = pytest.mark.sqlite_only  # the service is tested on both backends

TODAY = date(2026, 11, 23)


def test_the_demo_drills_leave_some_units_missing_once(sqlite_engine: Engine, clock: FixedClock) -> None:
    generate_city(sqlite_engine, elevators=150, seed=3, progress=False)
    with Session(sqlite_engine) as s:
        done = seed_drills(s, clock, TODAY, seed=3)
        s.commit()
        assert done.drills > 0 and done.missing > 0
        missing = service.missing_drills(s, SYSTEM_ACTOR, 2026, 1)
        assert len(missing) == done.missing
        assert all(
            d.held_on.year == 2026 and d.held_on <= TODAY for d in service.drills(s, SYSTEM_ACTOR, 2026)
        )
        assert seed_drills(s, clock, TODAY, seed=3).drills == 0
        unit = busiest_unit(s, UnitType.MAINTENANCE)
        assert unit is not None
        data = UserCreate(username="w-demo", password="long-password-1", role=Role.MAINTENANCE, unit=unit)
        create_user(s, SYSTEM_ACTOR, data, clock)
        certify(s, "w-demo", unit, "某师傅", clock, TODAY, random.Random(1))
        certify(s, "w-demo", unit, "某师傅", clock, TODAY, random.Random(1))  # holds one: nothing more
        views = service.certificates(s, SYSTEM_ACTOR, TODAY, 90, unit)
        assert len(views) == 1 and views[0].certificate.expires_on > TODAY
