"""The seeded registry (tests.factories.seed) with the people a work order needs: a second worker of MU-A,
a worker of MU-B and staff of the use unit UU-A (11SHA000001/2). Imported by the contract, work-order and
upload tests (M3); fixtures live here, not in a conftest, so they stay out of the other maintenance tests."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.accounts.service import create_user
from liftwatch.core.clock import FixedClock
from liftwatch.maintenance import service
from liftwatch.registry import queries as registry_queries
from tests.factories import PASSWORD, certify, seed

EXTRA_USERS = [
    ("maint_a2", Role.MAINTENANCE, "MU-A"),
    ("maint_b", Role.MAINTENANCE, "MU-B"),
    ("owner_a", Role.USE_UNIT, "UU-A"),
]


def add_people(session: Session, clock: FixedClock) -> None:
    for username, role, unit in EXTRA_USERS:
        create_user(
            session,
            SYSTEM_ACTOR,
            UserCreate(username=username, password=PASSWORD, role=role, unit=unit),
            clock,
        )
        if role is Role.MAINTENANCE:
            certify(session, username, unit, clock)


def actor(session: Session, username: str, role: Role, unit: str | None = None) -> Actor:
    unit_id = registry_queries.unit_by_code(session, unit).id if unit else None  # type: ignore[union-attr]
    return Actor(username=username, role=role, unit_id=unit_id)


@pytest.fixture(name="people")
def people_fixture(session: Session, clock: FixedClock) -> dict[str, Actor]:
    """The seeded city and everyone acting on its work orders, by username."""
    seed(session, clock)
    add_people(session, clock)
    session.commit()
    return {
        "admin": actor(session, "admin", Role.ADMIN),
        "regulator": actor(session, "regulator", Role.REGULATOR),
        "operator": actor(session, "operator", Role.RESCUE_OPERATOR),
        "inspector": actor(session, "inspector", Role.INSPECTOR),
        "gateway": actor(session, "gateway", Role.GATEWAY),
        "maint_a": actor(session, "maint_a", Role.MAINTENANCE, "MU-A"),
        "maint_a2": actor(session, "maint_a2", Role.MAINTENANCE, "MU-A"),
        "maint_b": actor(session, "maint_b", Role.MAINTENANCE, "MU-B"),
        "owner_a": actor(session, "owner_a", Role.USE_UNIT, "UU-A"),
        "owner_b": actor(session, "owner_b", Role.USE_UNIT, "UU-B"),
    }


def contract(code: str = "11SHA000001", unit: str = "MU-A", start: date = date(2026, 1, 1),
             end: date = date(2026, 12, 31)) -> service.ContractTerms:  # fmt: skip
    responsible = {"MU-A": "maint_a", "MU-B": "maint_b"}.get(unit, "")
    return service.ContractTerms(code, unit, start, end, price_fen=1_200_000, responsible=responsible)
