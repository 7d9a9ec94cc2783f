"""The demo's cost ledgers (费用台账) and publications (费用公开), booked through the cost service as the use
units' clerks would, once (a second run adds nothing: every entry is keyed by its receipt).

For the half-year that has ended last, every use unit with residential elevators gets, per residential
elevator, the maintenance fee of that half-year (by the contract's invoice: the demo's contracts began
only lately), a repair for about a third of them and advertising income in the car for about 60%; the
current half-year's contract fees are booked from the real contracts (``book_contracts``). A share of the
units (default 80%) has published the ended half-year; the others are overdue on the regulator's list,
the demo's ``owner`` login (the busiest use unit) among them, so the publish button has something to do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings
from liftwatch.core.errors import DomainError
from liftwatch.costs import service
from liftwatch.costs.domain import AdvertisingUse, EntryKind, HalfYear
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import PlaceType, UnitType

__all__ = ["CostSeed", "seed_cost_ledgers"]

_PAGE = 5000
#: Yuan per residential elevator and half-year (Shanghai 2024: 3,000-8,000 a year for a lift).
_FEE_YUAN = (1_500, 4_000)
_REPAIR_YUAN = (200, 3_000)
_ADVERTISING_YUAN = (600, 2_400)
_USES = [AdvertisingUse.REPAIR_FUND] * 3 + [AdvertisingUse.ELEVATOR_COSTS] * 2 + [AdvertisingUse.OWNERS]


@dataclass
class CostSeed:
    entries: int = 0
    contract_fees: int = 0
    published: int = 0
    unpublished: int = 0

    def summary(self) -> str:
        return (
            f"cost ledgers: {self.entries} entries, {self.contract_fees} contract fees, "
            f"{self.published} half-years published, {self.unpublished} use units overdue"
        )


def _residential_by_unit(session: Session, clock: Clock) -> dict[str, list[str]]:
    flt = registry.ElevatorFilter(place_type=PlaceType.RESIDENTIAL.value)
    out: dict[str, list[str]] = {}
    page = 1
    while True:
        found, total = registry.list_elevators(session, SYSTEM_ACTOR, flt, clock, page=page, size=_PAGE)
        for e in found:
            if e.use_unit is not None and e.use_unit.unit_type == UnitType.USE_UNIT.value:
                out.setdefault(e.use_unit.code, []).append(e.registration_code)
        if page * _PAGE >= total or not found:
            return out
        page += 1


def _day(rng: random.Random, period: HalfYear) -> date:
    return period.first_day + timedelta(days=rng.randrange((period.last_day - period.first_day).days + 1))


def seed_cost_ledgers(
    session: Session, clock: Clock, settings: Settings, seed: int = 7, published_share: float = 0.8
) -> CostSeed:
    """Book the demo's ledgers and publish the ended half-year for ``published_share`` of the use units."""
    out = CostSeed()
    today = service.city_today(clock, settings)
    current = HalfYear.of(today)
    last = current.previous()
    units = _residential_by_unit(session, clock)
    if not units:
        return out
    if service.public_search(session, ""):  # published before: the demo's ledgers exist
        return out
    rng = random.Random(seed)
    owner = registry.busiest_unit(session, UnitType.USE_UNIT)
    for unit in sorted(units):
        for code in units[unit]:
            lines = [(EntryKind.MAINTENANCE_FEE, _FEE_YUAN, last.first_day, f"SIM-FEE-{last}-{code}")]
            if rng.random() < 0.35:
                lines.append((EntryKind.REPAIR, _REPAIR_YUAN, _day(rng, last), f"SIM-REP-{last}-{code}"))
            if rng.random() < 0.6:
                lines.append(
                    (EntryKind.ADVERTISING_INCOME, _ADVERTISING_YUAN, last.last_day, f"SIM-AD-{last}-{code}")
                )
            for kind, (low, high), on, receipt in lines:
                data = service.NewEntry(
                    kind, rng.randint(low, high) * 100, on, elevator=code, receipt=receipt
                )
                if service.record(session, SYSTEM_ACTOR, unit, data, clock, settings).created:
                    out.entries += 1
        if unit != owner and rng.random() < published_share:
            try:
                service.publish(session, SYSTEM_ACTOR, unit, last, rng.choice(_USES), clock, settings)
                out.published += 1
            except DomainError:
                out.unpublished += 1
        else:
            out.unpublished += 1
    booked = service.book_contracts(session, SYSTEM_ACTOR, None, current, clock, settings)
    out.contract_fees = len(booked.created)
    return out
