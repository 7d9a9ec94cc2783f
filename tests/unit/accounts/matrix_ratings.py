"""The role matrix's section of the maintenance-unit ratings (星级评定, 红黑榜): ``city`` rates 2026-Q3 (the
matrix's contract of 11SHA000001 with MU-A). The centre computes and reads every unit's; maint_a (MU-A)
reads its own unit's (MU-B's history is 404); everyone else is refused; the public read needs no login."""

from __future__ import annotations

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import FixedClock
from liftwatch.core.config import Settings
from liftwatch.ratings import service
from tests.unit.accounts.matrix import Case, expect

CASES: list[Case] = [
    Case("GET", "/api/v1/ratings/public", expect(200, public=200)),
    Case("GET", "/api/v1/ratings/public?period=2026-Q3", expect(200, public=200)),
    Case("GET", "/api/v1/ratings/periods", expect(403, A=200, R=200, M=200)),
    Case("GET", "/api/v1/ratings/periods/2026-Q3", expect(403, A=200, R=200, M=200)),
    Case("GET", "/api/v1/ratings/units/MU-A", expect(403, A=200, R=200, M=200)),
    Case("GET", "/api/v1/ratings/units/MU-B", expect(403, A=200, R=200, M=404)),
    Case("POST", "/api/v1/ratings/compute", expect(403, A=200, R=200), body={"period": "2026-Q3"}),
]


def city(session: Session, clock: FixedClock, settings: Settings) -> None:
    """2026-Q3 rated once, so the reads have a period."""
    service.compute(session, SYSTEM_ACTOR, clock, settings, "2026-Q3")


def template(parts: list[str]) -> None:
    """``/api/v1/ratings/periods/{label}`` and ``/api/v1/ratings/units/{unit_code}``."""
    if parts[3:4] == ["ratings"] and len(parts) == 6:
        if parts[4] == "periods":
            parts[5] = "{label}"
        elif parts[4] == "units":
            parts[5] = "{unit_code}"
