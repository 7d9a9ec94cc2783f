"""The demo's maintenance contracts (维保合同) and maintenance workers, filed through the maintenance and
accounts services as a regulator's clerk would, once (a second run adds nothing).

Every elevator in use with a maintenance unit gets a one-year contract with that unit, starting within
the last 15 days, so the plan job (maintenance/schedule.py) finds the first visits due over the coming two
weeks instead of all on the first day; its worker (``<unit>-W01``..., about 40 elevators each, shared by
neighbourhood as in sim/maintenance.py) is the contract's responsible person. A share of the elevators with
an IoT terminal (default 10%) is on the on-demand model (按需维保), which needs the terminal; a few are left
with a contract that expired last month, so the "no maintenance contract" flag of the three-no elevators
has something to show. The live crews (sim/live_maintenance.py) log in as these workers.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts
from liftwatch.accounts.actor import SYSTEM_ACTOR, Role
from liftwatch.accounts.schemas import UserCreate
from liftwatch.core.clock import Clock
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.domain import MaintenanceModel
from liftwatch.registry import queries as registry
from liftwatch.registry.domain import ElevatorKind, ElevatorStatus
from liftwatch.sim.maintenance import SiteElevator, share_among_workers
from liftwatch.sim.people import certify

__all__ = ["ContractSeed", "demo_fleet", "maintained_elevators", "seed_contracts"]

#: Yuan a year per elevator (Shanghai 2024: 3,000-8,000 for a lift, more for escalators in malls).
_PRICE_YUAN = {"lift": (3_000, 8_000), "moving": (6_000, 12_000)}
_MOVING = (ElevatorKind.ESCALATOR.value, ElevatorKind.MOVING_WALK.value)


@dataclass(frozen=True)
class ContractSeed:
    """What one run filed."""

    workers: int  # maintenance accounts created
    contracts: int  # contracts filed (valid today)
    on_demand: int  # of which on the on-demand model
    expired: int  # elevators left with an expired contract only

    def summary(self) -> str:
        return (
            f"{self.contracts} maintenance contracts ({self.on_demand} on demand), {self.expired} expired, "
            f"{self.workers} maintenance workers"
        )


def maintained_elevators(session: Session, clock: Clock) -> list[registry.StoredElevator]:
    """The elevators in use with a maintenance unit and a position: what the crews can visit."""
    rows, _ = registry.list_elevators(
        session,
        SYSTEM_ACTOR,
        registry.ElevatorFilter(status=ElevatorStatus.IN_USE.value),
        clock,
        size=10_000_000,
    )
    return [e for e in rows if e.maintenance_unit and e.latitude is not None and e.longitude is not None]


def demo_fleet(session: Session, clock: Clock) -> list[SiteElevator]:
    """``maintained_elevators`` as the maintenance simulators see them."""
    return [
        SiteElevator(
            e.registration_code,
            e.kind,
            e.place_type,
            e.maintenance_unit.code if e.maintenance_unit else "",
            e.latitude or 0.0,
            e.longitude or 0.0,
            bool(e.iot_terminal_id),
        )
        for e in maintained_elevators(session, clock)
    ]


def _worker_accounts(
    session: Session, workers: Sequence[str], unit_of: dict[str, str], clock: Clock, today: date
) -> int:
    """One maintenance account per simulated worker (a random password: the live crews act for them), each
    with its elevator repair certificate (sim/people.py)."""
    made = 0
    rng = random.Random("worker-certificates")
    for username in workers:
        name = f"维保工 {username[-3:]}"
        if accounts.account_of(session, username) is None:
            data = UserCreate(
                username=username,
                password=secrets.token_urlsafe(18),
                role=Role.MAINTENANCE,
                unit=unit_of[username],
                full_name=name,
            )
            accounts.create_user(session, SYSTEM_ACTOR, data, clock)
            made += 1
        # an older demo's workers get theirs too (certify adds nothing to a holder of a valid one)
        certify(session, username, unit_of[username], name, clock, today, rng)
    return made


def seed_contracts(
    session: Session,
    clock: Clock,
    today: date,
    on_demand_share: float = 0.10,
    expired: int = 5,
    seed: int = 1,
) -> ContractSeed:
    """File the demo's contracts and workers (module docstring); elevators that already have a contract
    (any) are left alone, so a second run files nothing."""
    if not 0 <= on_demand_share <= 1:
        raise ValueError(f"on_demand_share {on_demand_share} is not between 0 and 1")
    fleet = demo_fleet(session, clock)
    workers = share_among_workers(fleet)
    unit_of = {w: es[0].unit for w, es in workers.items()}
    made = _worker_accounts(session, sorted(workers), unit_of, clock, today)
    have = {c.registration_code for c in maintenance.list_contracts(session, SYSTEM_ACTOR, limit=10_000_000)}
    rng = random.Random(f"{seed}:contracts")
    worker_of = {e.registration_code: w for w, es in workers.items() for e in es}
    codes = sorted(worker_of)
    lapsed = set(rng.sample(codes, min(expired, len(codes))))
    by_code = {e.registration_code: e for e in fleet}
    filed = on_demand = gone = 0
    for code in codes:
        e = by_code[code]
        lo, hi = _PRICE_YUAN["moving" if e.kind in _MOVING else "lift"]
        price_fen = rng.randrange(lo, hi, 100) * 100
        phase = rng.randrange(15)  # the first visit is due this many days from today
        model = MaintenanceModel.TRADITIONAL
        if e.monitored and rng.random() < on_demand_share:
            model = MaintenanceModel.ON_DEMAND
        if code in have:
            continue
        if code in lapsed:  # last year's contract, not renewed
            end = today - timedelta(days=rng.randint(20, 60))
            start = end - timedelta(days=364)
            gone += 1
        else:
            start = today - timedelta(days=15 - phase)
            end = start + timedelta(days=364)
            filed += 1
            on_demand += model is MaintenanceModel.ON_DEMAND
        terms = maintenance.ContractTerms(
            registration_code=code,
            unit_code=e.unit,
            start_date=start,
            end_date=end,
            model=model,
            price_fen=price_fen,
            responsible=worker_of[code],
        )
        maintenance.create_contract(session, SYSTEM_ACTOR, terms, clock)
    return ContractSeed(made, filed, on_demand, gone)
