"""The analytics tests' fixed city (tests/unit/analytics/city.py), made through the services."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.unit.analytics.city import analytics_city


@pytest.fixture
def city(session: Session) -> Session:
    analytics_city(session)
    return session
