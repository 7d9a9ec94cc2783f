"""The role matrix's section of applications. All of UU-B (owner_b's unit), made by ``city``: 1 a
registration change of 11SHB000004 in review; 2 an addition approved by its departments; 3 one under
construction; 4 one accepted, awaiting its registration; 5 a change in review to withdraw."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.applications import service
from liftwatch.applications.domain import Decision, Department, Kind
from liftwatch.applications.settings import ApplicationSettings
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from tests.unit.accounts.matrix import Case, expect

_CHANGE = {
    "kind": "registration_change",
    "title": "物业更换",
    "registration_code": "11SHB000004",
    "form": {"use_unit": "UU-A"},
}
_BUILDING = {
    "households": 12,
    "households_consenting": 10,
    "area_m2": 900,
    "area_consenting_m2": 800,
    "floors": 6,
    "funding": ["owners"],
    "budget_yuan": 600000,
}
_P = "/api/v1/applications"

CASES: list[Case] = [
    Case("POST", _P, expect(403, A=201, U=201), body=_CHANGE),
    Case("GET", _P, expect(403, A=200, R=200, I=200, M=200, U=200)),
    Case("GET", f"{_P}/1", expect(403, A=200, R=200, I=200, M=404, U=200)),
    Case(
        "POST",
        f"{_P}/1/decisions",
        expect(403, A=200, R=200),
        body={"department": "market_supervision", "decision": "approved"},
    ),
    Case(
        "POST",
        f"{_P}/2/construction",
        expect(403, A=200, R=200, U=200, M=404),
        body={"started_on": "2026-11-20"},
    ),
    Case("POST", f"{_P}/3/acceptance", expect(403, A=200, R=200), body={"report": "JY-1", "passed": True}),
    Case("POST", f"{_P}/4/registration", expect(403, A=200, R=200), body={"registration_code": "31SH0999"}),
    Case("POST", f"{_P}/5/withdraw", expect(403, A=200, U=200, M=404)),
    Case("GET", "/api/v1/public/additions", expect(200, public=200)),
]


def city(session: Session, clock: FixedClock, settings: Settings) -> None:
    """Applications 1 to 5 (see the module's docstring)."""
    rules = ApplicationSettings()
    change = service.NewApplication(
        Kind.REGISTRATION_CHANGE, "物业更换", "11SHB000004", form={"use_unit": "UU-A"}
    )
    assert service.submit(session, SYSTEM_ACTOR, change, clock, rules).id == 1
    for n in (2, 3, 4):
        addition = service.NewApplication(
            Kind.ADDITION,
            f"{n}号楼加装电梯",
            applicant_unit="UU-B",
            district="徐汇区",
            address=f"天平路{n}号",
            form=_BUILDING,
        )
        app = service.submit(session, SYSTEM_ACTOR, addition, clock, rules)
        assert app.id == n
        for department in Department:
            service.decide(session, SYSTEM_ACTOR, app.id, department, Decision.APPROVED, "", clock)
        if n >= 3:
            service.start_construction(session, SYSTEM_ACTOR, app.id, date(2026, 11, 1), clock)
        if n == 4:
            service.accept(session, SYSTEM_ACTOR, app.id, "JY-4", True, clock)
    assert service.submit(session, SYSTEM_ACTOR, change, clock, rules).id == 5
    session.commit()


def template(parts: list[str]) -> None:
    """Route names: /api/v1/applications/{application_id}/..."""
    if len(parts) > 4 and parts[3] == "applications":
        parts[4] = "{application_id}"
