"""The demo's ledgers (sim/costs.py): the ended half-year booked and published for all but the demo owner's
unit, the current half-year's contract fees booked, and a second run adds nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import FixedClock
from liftwatch.costs import service
from liftwatch.costs.domain import HalfYear
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import UnitType
from liftwatch.sim.costs import seed_cost_ledgers
from tests.unit.costs.city import SETTINGS, cost_city
from tests.unit.maintenance.workorder_city import people_fixture  # noqa: F401 - fixture

pytestmark = pytest.mark.sqlite_only  # routes and pages: the service is tested on both backends


def test_the_demo_ledgers(session: Session, clock: FixedClock, people: dict[str, Actor]) -> None:
    cost_city(session, clock)
    done = seed_cost_ledgers(session, clock, SETTINGS, seed=3, published_share=1.0)
    session.commit()
    owner = registry.busiest_unit(session, UnitType.USE_UNIT)
    other = ({"UU-A", "UU-B"} - {owner}).pop()
    assert (done.published, done.unpublished) == (1, 1)
    assert done.contract_fees == 3 and done.entries >= 2  # A1, A2, B4 in 2026-H2; a fee per residential one
    published = service.publications(session, people["admin"], other)
    assert [p.period for p in published] == ["2026-H1"] and published[0].snapshot["expense_fen"] > 0
    assert service.overdue(session, people["regulator"], clock, SETTINGS, 30)[1][0].unit_code == owner
    again = seed_cost_ledgers(session, clock, SETTINGS, seed=3, published_share=1.0)
    assert (again.entries, again.published, again.contract_fees) == (0, 0, 0)
    assert len(service.list_entries(session, people["admin"], other, HalfYear(2026, 1))) == done.entries - (
        len(service.list_entries(session, people["admin"], owner, HalfYear(2026, 1)))
    )
