"""The demo's liability policies (电梯安全责任保险), once (a second run adds nothing), so that the insurer's
desk, the premium factors and the regulator's coverage page show a city's picture.

Every elevator in use in a public place is insured with a probability of 92% and a residential (or other)
one with 35%, by one of the city's insurer units (the demo insurer login's unit gets about half of them),
for one year starting on a day spread over the last year (a few started over a year ago and have
expired, so about 3% of the public places' policies lapse: the coverage KPI is below 100% and the uninsured
list is not empty). Cover: 500,000 yuan a person and 2,000,000 yuan an accident; base premium 1,200 yuan
in a public place, 600 yuan elsewhere. The policies go through ``insurance.service.import_policies``
(checked as an import would be), then the current quarter is repriced from the stored risk grades
(computed first when none are stored). Deterministic by seed and registration code.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.insurance import service as insurance
from liftwatch.insurance.domain import is_public_place
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.domain import UnitType
from liftwatch.risk import service as risk
from liftwatch.risk.score import RiskSettings

__all__ = ["InsuranceSeed", "demo_insurer", "seed_policies"]

PUBLIC_SHARE = 0.92
OTHER_SHARE = 0.35
LAPSED_SHARE = 0.03
PER_PERSON_FEN = 50_000_000
PER_ACCIDENT_FEN = 200_000_000
PREMIUM_PUBLIC_FEN = 120_000
PREMIUM_OTHER_FEN = 60_000


@dataclass(frozen=True)
class InsuranceSeed:
    policies: int
    repriced: int
    period: str

    def summary(self) -> str:
        return f"{self.policies} liability policies, {self.repriced} repriced for {self.period}"


def _insurers(session: Session) -> list[str]:
    units, _ = registry_queries.list_units(session, SYSTEM_ACTOR, unit_type=UnitType.INSURER.value, size=100)
    return sorted(u.code for u in units)


def demo_insurer(session: Session) -> str | None:
    """The insurer unit of the demo's insurer login: the first by code, None in a city without one."""
    codes = _insurers(session)
    return codes[0] if codes else None


def seed_policies(session: Session, clock: Clock, settings: Settings, seed: int = 1) -> InsuranceSeed:
    """Record the demo's policies and reprice the current quarter (module docstring); nothing when any
    policy is on record already."""
    today = insurance.local_today(clock, settings)
    period = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    insurers = _insurers(session)
    if not insurers or insurance.list_policies(session, SYSTEM_ACTOR, today, limit=1):
        return InsuranceSeed(0, 0, period)
    rows: list[insurance.PolicyData] = []
    for batch in registry_queries.elevator_briefs(session):
        for e in batch:
            rng = random.Random(f"{seed}:insurance:{e.registration_code}")
            public = is_public_place(e.place_type)
            if rng.random() >= (PUBLIC_SHARE if public else OTHER_SHARE):
                continue
            insurer = insurers[0] if rng.random() < 0.5 else rng.choice(insurers)
            start = today - timedelta(days=rng.randrange(0, 360))
            if rng.random() < LAPSED_SHARE:
                start = today - timedelta(days=rng.randrange(380, 500))
            end = date(start.year + 1, start.month, min(start.day, 28)) - timedelta(days=1)
            rows.append(
                insurance.PolicyData(
                    e.registration_code,
                    f"PDEL{start.year}{len(rows) + 1:07d}",
                    start,
                    end,
                    PER_PERSON_FEN,
                    PER_ACCIDENT_FEN,
                    PREMIUM_PUBLIC_FEN if public else PREMIUM_OTHER_FEN,
                    insurer,
                )
            )
    if not rows:
        return InsuranceSeed(0, 0, period)
    insurance.import_policies(session, SYSTEM_ACTOR, rows, clock)
    if risk.stored_bounds(session)[2] == 0:  # the default weights; the risk worker's runs use the settings
        risk.recompute(session, clock, settings, RiskSettings())
    done = insurance.reprice(session, SYSTEM_ACTOR, clock, period)
    return InsuranceSeed(len(rows), done.policies, period)
