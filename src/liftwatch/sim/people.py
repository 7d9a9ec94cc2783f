"""The demo's certified workers (特种设备作业人员证) and drills (应急演练), recorded through the people
service as the units' clerks would.

- ``certify``: every maintenance account the demo makes gets an elevator repair (T) certificate, issued by
  the city's market supervision bureau within the last 3 years and valid 4; about one in twenty expires
  within the warning window, so the expiring list has something to show. Without it the platform lets a
  worker neither be assigned, nor sign, nor log in as a crew.
- ``seed_drills``: about 80% of the use units with elevators in use held their yearly drill this year; the
  rest are on the regulator's list of missing drills. Once: a second run adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import Clock
from liftwatch.people import service
from liftwatch.people.domain import Category, Scenario
from liftwatch.registry import queries as registry

__all__ = ["DrillSeed", "certify", "seed_drills"]

ISSUER = "上海市市场监督管理局"


def certify(
    session: Session, username: str, unit: str, name: str, clock: Clock, today: date, rng: random.Random
) -> None:
    """An elevator repair certificate for ``username`` (see the module's docstring), unless it holds one."""
    if service.valid_certificate(session, username, today) is not None:
        return
    if rng.random() < 0.05:  # its 4 years are nearly up: listed as expiring
        expires = today + timedelta(days=rng.randrange(10, 80))
    else:
        expires = today + timedelta(days=rng.randrange(365, 4 * 365 - 30))
    issued = (
        expires.replace(year=expires.year - 4)
        if not (expires.month == 2 and expires.day == 29)
        else expires - timedelta(days=4 * 365)
    )
    number = f"TS{issued.year}{rng.randrange(10**8):08d}"
    new = service.NewCertificate(
        number, Category.ELEVATOR_REPAIR, name, unit, issued, expires, username, ISSUER
    )
    service.record_certificate(session, SYSTEM_ACTOR, new, clock)


@dataclass
class DrillSeed:
    drills: int = 0
    missing: int = 0

    def summary(self) -> str:
        return f"emergency drills: {self.drills} recorded, {self.missing} use units without one this year"


def seed_drills(session: Session, clock: Clock, today: date, seed: int = 5, share: float = 0.8) -> DrillSeed:
    """This year's drills of ``share`` of the use units with elevators in use, once."""
    out = DrillSeed()
    if service.drills(session, SYSTEM_ACTOR, today.year, limit=1):
        return out
    rng = random.Random(seed)
    units = sorted(registry.count_in_service_by(session, "use_unit"))
    start = date(today.year, 1, 1)
    for unit in units:
        if rng.random() >= share:
            out.missing += 1
            continue
        day = start + timedelta(days=rng.randrange(max(1, (today - start).days)))
        scenario = Scenario.ENTRAPMENT if rng.random() < 0.8 else rng.choice(list(Scenario))
        new = service.NewDrill(
            unit,
            day,
            scenario,
            rng.randrange(4, 30),
            summary="按应急预案组织困人救援演练，通话、盘车放人流程顺畅",
        )
        service.record_drill(session, SYSTEM_ACTOR, new, clock, today)
        out.drills += 1
    return out
