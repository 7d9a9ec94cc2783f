"""The regulator's registers' reads: three-no elevators (any of the three conditions, the contract one from
the registry's flag or from maintenance's valid contracts) and elevators of 15 whole years and more
(residential first, the 15th anniversary counts), filtered and scoped. On the seeded city of 2026-11-23:
A1 residential 2005 (21 y), A2 office 2019, B3 mall 2012 (14 y), B4 residential 1998 (28 y)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import PUBLIC_ACTOR, SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.errors import Forbidden
from liftwatch.registry import queries, service
from liftwatch.registry.schemas import ElevatorUpdate
from tests.factories import seed

TODAY = date(2026, 11, 23)
A1, A2, B3, B4 = "11SHA000001", "11SHA000002", "11SHB000003", "11SHB000004"
REGULATOR = Actor(username="regulator", role=Role.REGULATOR)


def _update(session: Session, clock: FixedClock, code: str, **fields: object) -> None:
    service.update_elevator(session, SYSTEM_ACTOR, code, ElevatorUpdate(**fields), clock)  # type: ignore[arg-type]


def test_old_elevators_residential_first_from_the_15th_anniversary(
    session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    rows = queries.old_elevators(session, REGULATOR, TODAY)
    assert [r.registration_code for r in rows] == [B4, A1]  # both residential, the oldest first
    assert [r.full_years(TODAY) for r in rows] == [28, 21]
    assert rows[0].use_unit == "徐汇置业物业服务公司" and rows[0].maintenance_unit == "申城电梯工程有限公司"

    # B3 (a mall) turns 15 today: listed, after the residential ones; one day younger it is not
    _update(session, clock, B3, installation_date=date(2011, 11, 23), commissioning_date=date(2011, 11, 23))
    assert [r.registration_code for r in queries.old_elevators(session, REGULATOR, TODAY)] == [B4, A1, B3]
    _update(session, clock, B3, installation_date=date(2011, 11, 24), commissioning_date=date(2011, 11, 24))
    assert B3 not in {r.registration_code for r in queries.old_elevators(session, REGULATOR, TODAY)}

    assert [
        r.registration_code for r in queries.old_elevators(session, REGULATOR, TODAY, district="静安区")
    ] == [A1]
    assert queries.old_elevators(session, REGULATOR, TODAY, place_type="office") == []
    assert [r.registration_code for r in queries.old_elevators(session, REGULATOR, TODAY, min_years=25)] == [
        B4
    ]


def test_three_no_elevators_any_condition_and_contracts_from_maintenance(
    session: Session, clock: FixedClock
) -> None:
    seed(session, clock)
    covered = {A1, A2, B3}  # B4 has no contract valid today
    _update(session, clock, A1, no_property_management=True)
    _update(session, clock, A2, no_repair_fund=True)
    _update(session, clock, B3, no_maintenance_contract=True)  # flagged though it has a contract
    rows = {r.registration_code: r for r in queries.three_no_elevators(session, REGULATOR, covered)}
    assert set(rows) == {A1, A2, B3, B4}
    conditions = {
        code: (r.no_property_management, r.no_maintenance_contract, r.no_repair_fund)
        for code, r in rows.items()
    }
    assert conditions == {
        A1: (True, False, False),
        A2: (False, False, True),
        B3: (False, True, False),
        B4: (False, True, False),
    }
    # with every contract valid and no flag, B4 drops out; filters narrow the list
    _update(session, clock, B3, no_maintenance_contract=False)
    everyone = covered | {B4}
    assert {r.registration_code for r in queries.three_no_elevators(session, REGULATOR, everyone)} == {A1, A2}
    assert [
        r.registration_code
        for r in queries.three_no_elevators(session, REGULATOR, everyone, "静安区", "office")
    ] == [A2]


def test_the_registers_are_scoped(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    mu_a = queries.unit_by_code(session, "MU-A")
    assert mu_a is not None
    staff = Actor(username="maint_a", role=Role.MAINTENANCE, unit_id=mu_a.id)
    assert [r.registration_code for r in queries.old_elevators(session, staff, TODAY)] == [A1]
    assert {r.registration_code for r in queries.three_no_elevators(session, staff, set())} == {A1, A2}
    with pytest.raises(Forbidden):
        queries.old_elevators(session, PUBLIC_ACTOR, TODAY)
    with pytest.raises(Forbidden):
        queries.three_no_elevators(session, PUBLIC_ACTOR, set())
