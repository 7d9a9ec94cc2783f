"""The insurance tests' city: the seeded registry (tests/factories.py: IN-A insures, insurer_a is its
user) with a second insurer IN-B, a hotel lift 11SHB000005 (public place, 徐汇区) and these policies, on
the test clock's day 2026-11-23:

    P-A2    IN-A  11SHA000002 (office, 静安区)       2026-01-01..2026-12-31  valid
    P-A1    IN-A  11SHA000001 (residential, 静安区)  2026-01-01..2026-12-31  valid (not a public place)
    P-B3    IN-A  11SHB000003 (mall, 徐汇区)         2025-01-01..2025-12-31  expired
    Q-B5    IN-B  11SHB000005 (hotel, 徐汇区)        2026-06-01..2027-05-31  valid
    Q-B3    IN-B  11SHB000003 (mall, 徐汇区)         2026-03-01..2027-02-28  cancelled
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.insurance import service
from liftwatch.registry import service as registry_service
from liftwatch.registry.domain import ElevatorKind, PlaceType, UnitType
from liftwatch.registry.queries import unit_by_code
from liftwatch.registry.schemas import ElevatorCreate, UnitCreate
from tests.factories import seed

ADMIN = SYSTEM_ACTOR
YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def actor(session: Session, role: Role, unit: str | None = None) -> Actor:
    found = unit_by_code(session, unit) if unit else None
    return Actor(username=f"{role.value}-{unit or ''}", role=role, unit_id=found.id if found else None)


def policy(
    code: str, number: str, start: date, end: date, insurer: str | None = None, premium: int = 120_000
) -> service.PolicyData:
    return service.PolicyData(code, number, start, end, 50_000_000, 200_000_000, premium, insurer)


def insurance_city(session: Session, clock: Clock) -> None:
    seed(session, clock)
    registry_service.create_unit(
        session, ADMIN, UnitCreate(code="IN-B", name="浦东财产保险公司", unit_type=UnitType.INSURER), clock
    )
    registry_service.create_elevator(
        session,
        ADMIN,
        ElevatorCreate(
            registration_code="11SHB000005",
            rescue_code="100005",
            district="徐汇区",
            place_type=PlaceType.HOTEL,
            kind=ElevatorKind.TRACTION,
            maintenance_unit="MU-B",
            use_unit="UU-B",
            commissioning_date=date(2015, 5, 1),
        ),
        clock,
    )
    for data in (
        policy("11SHA000002", "P-A2", *YEAR, insurer="IN-A"),
        policy("11SHA000001", "P-A1", *YEAR, insurer="IN-A"),
        policy("11SHB000003", "P-B3", date(2025, 1, 1), date(2025, 12, 31), insurer="IN-A"),
        policy("11SHB000005", "Q-B5", date(2026, 6, 1), date(2027, 5, 31), insurer="IN-B"),
        policy("11SHB000003", "Q-B3", date(2026, 3, 1), date(2027, 2, 28), insurer="IN-B"),
    ):
        service.record_policy(session, ADMIN, data, clock)
    cancelled = service.list_policies(session, ADMIN, date(2026, 11, 23), code="11SHB000003")
    q_b3 = next(p for p in cancelled if p.policy_number == "Q-B3")
    service.cancel_policy(session, ADMIN, q_b3.id, "业主退保", clock)
    session.commit()
