"""The demo's policies: most elevators in public places insured (a few lapsed, so coverage is below 100%),
fewer residential ones, the current quarter repriced from the risk grades; a second run adds nothing; the
demo has an insurer login of one of the city's insurer units."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.demo import demo_users
from liftwatch.insurance import service
from liftwatch.sim.city import generate_city
from liftwatch.sim.insurance import demo_insurer, seed_policies

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


def test_the_demo_insures_most_public_places_once(sqlite_engine: Engine, clock: FixedClock) -> None:
    generate_city(sqlite_engine, elevators=150, seed=3)
    settings = Settings()
    with Session(sqlite_engine) as s:
        done = seed_policies(s, clock, settings, seed=3)
        s.commit()
        assert done.policies > 40 and done.repriced > 0 and done.period == "2026-Q4"
        day = service.local_today(clock, settings)
        cov = service.coverage(s, SYSTEM_ACTOR, day)
        assert cov.total.public > 0 and 0.7 < (cov.total.share or 0) < 1.0
        assert cov.uninsured_total == len(cov.uninsured) > 0
        assert len(service.factors_of_period(s, SYSTEM_ACTOR, "2026-Q4")) == done.repriced
        assert {row.grade for row, _ in service.factors_of_period(s, SYSTEM_ACTOR, "2026-Q4")} - {None}
        again = seed_policies(s, clock, settings, seed=3)
        assert again.policies == 0
        insurer = demo_insurer(s)
        assert insurer is not None
    assert ("insurer", Role.INSURER, insurer) in demo_users("MU", "UU", "IB", insurer)
