"""A small city with a month of rescues, for the report tests (tests.factories.seed + rescue_city).

November 2026 (the test clock starts 2026-11-23 09:00 UTC): three entrapments.
- 11SHA000001 (静安区, MU-A) at 09:00: crew A1 dispatched at once, answers at +2 min, arrives at +20,
  releases at +25, completes at +30 (electro-mechanical): on time, answered.
- 11SHB000003 and 11SHB000004 (徐汇区, MU-B) at 12:00 and 12:10: reported by phone; the rescue
  station's crew is sent (MU-B has none) and never arrives.
Two hidden dangers reported on 2026-11-23 by the regulator: on 11SHA000001 with its deadline set to
2026-11-28 (open past it at the month's end: overdue), on 11SHB000004 with the level's default deadline.
The report is read on 2026-12-02, after the month.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.hazards import service as hazards
from liftwatch.hazards.workflow import HazardLevel, HazardSource
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import Cause, Source
from tests.factories import rescue_city, seed

OPERATOR = Actor("operator", Role.RESCUE_OPERATOR)
A1 = Actor("crew_a1", Role.MAINTENANCE)
SETTINGS = rescue.RescueSettings()
READ_AT = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
CITY_SETTINGS = Settings(timezone="Asia/Shanghai")
REGULATOR = Actor("regulator", Role.REGULATOR)


def report_city(session: Session, clock: FixedClock) -> None:
    seed(session, clock)
    rescue_city(session, clock)
    session.commit()
    t0 = clock.now()
    for code, ref, deadline in (
        ("11SHA000001", "DJ-1:1", date(2026, 11, 28)),
        ("11SHB000004", "DJ-2:1", None),
    ):
        hazards.report(
            session,
            REGULATOR,
            code,
            HazardSource.INSPECTION,
            ref,
            HazardLevel.GENERAL,
            "层门门锁啮合深度不足",
            clock,
            CITY_SETTINGS,
            deadline_date=deadline,
        )
    session.commit()

    def at(minutes: float) -> None:
        clock.advance(t0 + timedelta(minutes=minutes) - clock.now())

    first = rescue.report(session, OPERATOR, rescue.Report("11SHA000001", Source.PHONE), clock, SETTINGS)
    inc = first.incident.id
    session.commit()
    at(2)
    rescue.acknowledge(session, A1, inc, clock)
    at(20)
    rescue.arrive(session, A1, inc, clock)
    at(25)
    rescue.release(session, A1, inc, clock)
    at(30)
    rescue.complete(session, A1, inc, clock, SETTINGS, Cause.ELECTRO_MECHANICAL)
    session.commit()
    for minutes, code in ((180, "11SHB000003"), (190, "11SHB000004")):
        at(minutes)
        rescue.report(session, OPERATOR, rescue.Report(code, Source.PHONE), clock, SETTINGS)
        session.commit()
    clock.advance(READ_AT - clock.now())
