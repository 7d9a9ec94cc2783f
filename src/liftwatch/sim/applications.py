"""The demo's applications (一网通办), filed and worked through the applications service as the units and
the window's clerk would, once (a second run adds nothing).

Additions to old residential buildings in the districts of the busiest use unit's elevators, at every
stage: one just filed, one whose market supervision review ran past its deadline (flagged by the worker),
one approved, one under construction, one accepted awaiting registration and one registered (its file holds
the history); and a registration change in review and an inspection request completed, so the clerk's and
the applicant's screens and the public progress page have something to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.applications import service
from liftwatch.applications.domain import Decision, Department, Kind
from liftwatch.applications.settings import ApplicationSettings
from liftwatch.core.clock import FixedClock
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import ElevatorStatus, UnitType

__all__ = ["REGISTERED_ADDITIONS", "ApplicationSeed", "seed_applications"]

CLERK = Actor("regulator", Role.REGULATOR)
#: (days ago it was filed, the last step reached)
_ADDITIONS = [
    (2, "filed"),
    (20, "late"),
    (30, "approved"),
    (70, "construction"),
    (150, "accepted"),
    (200, "registered"),
]
#: the elevators the demo's additions add to the registry (the generated city has these more than asked)
REGISTERED_ADDITIONS = sum(1 for _, reached in _ADDITIONS if reached == "registered")


@dataclass
class ApplicationSeed:
    applications: int = 0

    def summary(self) -> str:
        return f"applications: {self.applications} filed (additions at every stage, online services)"


def _form(n: int) -> dict[str, object]:
    return {
        "households": 18,
        "households_consenting": 14 + n % 3,
        "area_m2": 1500 + 60 * n,
        "area_consenting_m2": 1200 + 50 * n,
        "floors": 6,
        "funding": ["owners", "subsidy"],
        "budget_yuan": 600000 + 10000 * n,
        "subsidy_yuan": 250000,
    }


def seed_applications(session: Session, now: datetime, settings: ApplicationSettings) -> ApplicationSeed:
    """File and work the demo's applications (see the module's docstring); nothing when any exists."""
    out = ApplicationSeed()
    if service.list_applications(session, SYSTEM_ACTOR, now, limit=1):
        return out
    unit = registry.busiest_unit(session, UnitType.USE_UNIT)
    if unit is None:
        return out
    flt = registry.ElevatorFilter(unit=unit, status=ElevatorStatus.IN_USE.value)
    mine, _ = registry.list_elevators(session, SYSTEM_ACTOR, flt, FixedClock(now), page=1, size=20)
    if not mine:
        return out
    district = mine[0].district
    for n, (days, reached) in enumerate(_ADDITIONS):
        clock = FixedClock(now - timedelta(days=days))
        new = service.NewApplication(
            Kind.ADDITION,
            f"{district}老旧小区{n + 1}号楼加装电梯",
            applicant_unit=unit,
            district=district,
            address=f"{district}某新村{n + 1}号楼",
            form=_form(n),
        )
        app = service.submit(session, SYSTEM_ACTOR, new, clock, settings)
        out.applications += 1
        if reached == "filed":
            continue
        clock.advance(timedelta(days=5))
        service.decide(session, CLERK, app.id, Department.PLANNING, Decision.APPROVED, "符合规划", clock)
        service.decide(session, CLERK, app.id, Department.HOUSING, Decision.APPROVED, "结构安全", clock)
        if reached == "late":
            continue  # market supervision has not answered: the worker flags it
        clock.advance(timedelta(days=5))
        service.decide(session, CLERK, app.id, Department.MARKET_SUPERVISION, Decision.APPROVED, "", clock)
        if reached == "approved":
            continue
        clock.advance(timedelta(days=10))
        service.start_construction(session, SYSTEM_ACTOR, app.id, clock.today(), clock)
        if reached == "construction":
            continue
        clock.advance(timedelta(days=100))
        service.accept(session, CLERK, app.id, f"JY{clock.today().year}-{app.id:04d}", True, clock)
        if reached == "registered":
            clock.advance(timedelta(days=10))
            mu = mine[0].maintenance_unit.code if mine[0].maintenance_unit else ""
            service.register(session, CLERK, app.id, f"31SHD{app.id:06d}", mu, clock)
    code = mine[0].registration_code
    clock = FixedClock(now - timedelta(days=3))
    change = service.NewApplication(
        Kind.INSPECTION_REQUEST,
        "定期检验申请",
        code,
        form={"preferred_date": (now + timedelta(days=20)).date().isoformat()},
    )
    app = service.submit(session, SYSTEM_ACTOR, change, clock, settings)
    service.decide(session, CLERK, app.id, Department.MARKET_SUPERVISION, Decision.APPROVED, "已安排", clock)
    units, _ = registry.list_units(session, SYSTEM_ACTOR, UnitType.USE_UNIT.value, size=5)
    successor = next((u.code for u in units if u.code != unit), unit)
    form = {"use_unit": successor}
    other = service.NewApplication(
        Kind.REGISTRATION_CHANGE, "物业服务企业变更", mine[-1].registration_code, form=form
    )
    service.submit(session, SYSTEM_ACTOR, other, FixedClock(now - timedelta(days=1)), settings)
    out.applications += 2
    return out
