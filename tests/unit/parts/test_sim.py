"""The demo's parts (sim/parts.py): every sampled elevator in use gets the parts of its kind, a few
machines replaced, one recall reaching a handful of the maintenance login's elevators with a work order
each; a second run adds nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.maintenance.models import WorkOrder
from liftwatch.parts import service
from liftwatch.parts.models import Part
from liftwatch.sim.city import generate_city
from liftwatch.sim.parts import seed_parts

pytestmark = pytest.mark.sqlite_only  # the service is tested on both backends


def test_the_demo_records_parts_and_one_recall_once(sqlite_engine: Engine, clock: FixedClock) -> None:
    generate_city(sqlite_engine, elevators=150, seed=3, progress=False)
    settings = Settings()
    with Session(sqlite_engine) as s:
        done = seed_parts(s, clock, settings, seed=3, limit=80)
        s.commit()
        elevators = s.scalar(select(func.count(func.distinct(Part.registration_code))))
        assert elevators == 80 and done.parts >= 80 * 5 and done.replaced > 0
        assert (
            s.scalar(select(func.count()).select_from(Part).where(Part.current_key.is_(None)))
            == done.replaced
        )
        recalls = service.list_recalls(s, SYSTEM_ACTOR, clock)
        assert len(recalls) == 1 and recalls[0].progress.total == done.recalled
        assert 1 <= done.recalled <= 6
        orders = s.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.source == "recall"))
        assert orders == recalls[0].progress.total - recalls[0].progress.without_order > 0
        assert seed_parts(s, clock, settings, seed=3, limit=80).parts == 0
