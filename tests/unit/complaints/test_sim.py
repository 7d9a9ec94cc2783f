"""The demo's complaints: filed once, at every stage, through the service."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.complaints import service
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.sim.complaints import seed_complaints
from tests.factories import seed

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


def test_the_demo_complaints_are_filed_once_at_every_stage(
    session: Session, clock: FixedClock, tmp_path: object
) -> None:
    seed(session, clock)
    settings = Settings(secret_key="demo-secret-" + "x" * 40)
    done = seed_complaints(session, clock, settings, seed=3)
    session.commit()
    assert done.complaints >= 30 and done.overdue > 0 and done.hazards == 2
    rows = service.list_complaints(session, SYSTEM_ACTOR, service.Filter(), clock.now())
    states = Counter(c.state for c in rows)
    assert set(states) == {"received", "assigned", "answered", "verified", "closed"}, states
    assert {c.channel for c in rows} >= {"hotline_12345", "public_page"}
    assert all(c.complainant_phone == "" for c in rows if c.channel == "public_page")
    assert seed_complaints(session, clock, settings, seed=3).complaints == 0
