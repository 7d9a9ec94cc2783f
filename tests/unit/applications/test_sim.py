"""The demo's applications (sim/applications.py): additions at every stage (one late, one registered with
its history on the file) and two online services, once."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.applications import service
from liftwatch.applications.settings import ApplicationSettings
from liftwatch.core.clock import FixedClock
from liftwatch.registry import queries as registry_queries
from liftwatch.sim.applications import seed_applications
from liftwatch.sim.city import generate_city

pytestmark = pytest.mark.sqlite_only  # the service is tested on both backends


def test_the_demo_files_applications_at_every_stage_once(sqlite_engine: Engine, clock: FixedClock) -> None:
    generate_city(sqlite_engine, elevators=120, seed=3, progress=False)
    with Session(sqlite_engine) as s:
        done = seed_applications(s, clock.now(), ApplicationSettings())
        s.commit()
        assert done.applications == 8
        views = service.list_applications(s, SYSTEM_ACTOR, clock.now())
        stages = Counter(v.application.stage for v in views if v.application.kind == "addition")
        assert stages == {"in_review": 2, "approved": 1, "construction": 1, "acceptance": 1, "completed": 1}
        assert [v.late for v in views if v.late] == [1]  # market supervision's review past its deadline
        registered = next(
            v.application
            for v in views
            if v.application.stage == "completed" and v.application.kind == "addition"
        )
        elevator = registry_queries.get_elevator(s, SYSTEM_ACTOR, registered.registration_code)
        kinds = {e.kind for e in registry_queries.timeline(s, elevator)}
        assert {"application_submitted", "application_acceptance", "registration"} <= kinds
        assert seed_applications(s, clock.now(), ApplicationSettings()).applications == 0
