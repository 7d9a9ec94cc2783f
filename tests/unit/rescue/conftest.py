"""Fixtures of the rescue tests."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from liftwatch.core.clock import FixedClock
from tests.factories import rescue_city, seed


@pytest.fixture
def city(session: Session, clock: FixedClock) -> None:
    """The seeded registry with 11SHA000001 (MU-A) at RESCUE_SITE, rescue station RS-1 and its crews
    (``tests.factories.rescue_city``)."""
    seed(session, clock)
    rescue_city(session, clock)
    session.commit()
