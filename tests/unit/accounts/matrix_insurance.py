"""The role matrix's insurance section (issue 14, item 5): policies, repricing and premium factors for the
insurer IN-A's staff (N) and admins; the coverage KPI for regulators and admins; everyone else 403.

Set up by ``city``: policy 1 (IN-A, 11SHA000002) and policy 2 (IN-B, 11SHB000003), a second insurer's, so
IN-A's staff find neither it nor its elevator (404)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.insurance import service
from liftwatch.registry import service as registry_service
from liftwatch.registry.domain import UnitType
from liftwatch.registry.schemas import UnitCreate
from tests.unit.accounts.matrix import Case, expect

_YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def _policy(role: Role, number: str = "NEW") -> dict[str, Any]:
    return {
        "registration_code": "11SHA000001",
        "policy_number": f"{number}-{role.value}",
        "insurer": "IN-A",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "limit_per_person_fen": 50_000_000,
        "limit_per_accident_fen": 200_000_000,
        "premium_fen": 120_000,
    }


def _csv(role: Role) -> bytes:
    header = "registration_code,policy_number,insurer,start_date,end_date,"
    header += "limit_per_person_fen,limit_per_accident_fen,premium_fen\n"
    return (
        header + f"11SHA000001,CSV-{role.value},IN-A,2026-01-01,2026-12-31,50000000,200000000,1\n"
    ).encode()


CASES: list[Case] = [
    Case("GET", "/api/v1/insurance/policies", expect(403, A=200, N=200)),
    Case("POST", "/api/v1/insurance/policies", expect(403, A=201, N=201), body_for=_policy),
    Case(
        "POST",
        "/api/v1/insurance/policies/import",
        expect(403, A=200, N=200),
        body_for=lambda role: {"policies": [_policy(role, "IMP")]},
    ),
    Case(
        "POST",
        "/api/v1/insurance/policies/import.csv",
        expect(403, A=200, N=200),
        files_for=lambda role: {"file": ("policies.csv", _csv(role), "text/csv")},
    ),
    Case("GET", "/api/v1/insurance/policies/1", expect(403, A=200, N=200)),
    Case("GET", "/api/v1/insurance/policies/2", expect(403, A=200, N=404)),
    Case("PATCH", "/api/v1/insurance/policies/1", expect(403, A=200, N=200), body={"premium_fen": 110_000}),
    Case("POST", "/api/v1/insurance/policies/2/cancel", expect(403, A=200, N=404), body={"reason": "退保"}),
    Case("POST", "/api/v1/insurance/reprice", expect(403, A=200, N=200), body={"period": "2026-Q4"}),
    Case("GET", "/api/v1/insurance/premium-factors?period=2026-Q4", expect(403, A=200, N=200)),
    Case("GET", "/api/v1/insurance/elevators/11SHA000002", expect(403, A=200, N=200)),
    Case("GET", "/api/v1/insurance/elevators/11SHB000003", expect(403, A=200, N=404)),
    Case("GET", "/api/v1/insurance/coverage", expect(403, A=200, R=200)),
]


def city(session: Session, clock: FixedClock, settings: Settings) -> None:
    registry_service.create_unit(
        session,
        SYSTEM_ACTOR,
        UnitCreate(code="IN-B", name="浦东财产保险公司", unit_type=UnitType.INSURER),
        clock,
    )
    made = [
        service.record_policy(
            session,
            SYSTEM_ACTOR,
            service.PolicyData(code, number, *_YEAR, 50_000_000, 200_000_000, 120_000, insurer),
            clock,
        ).policy.id
        for code, number, insurer in (("11SHA000002", "PA-1", "IN-A"), ("11SHB000003", "PB-1", "IN-B"))
    ]
    assert made == [1, 2]


def template(parts: list[str]) -> None:
    """Route templates of the concrete paths above."""
    if parts[3:5] == ["insurance", "policies"] and len(parts) > 5 and parts[5].isdigit():
        parts[5] = "{policy_id}"
    if parts[3:5] == ["insurance", "elevators"] and len(parts) > 5:
        parts[5] = "{registration_code}"
