"""The facts of risk grading, gathered from the other domains (风险分级): for every elevator in use (or
those of a district, or given codes) an ``ElevatorFacts``, in batches.

Each domain is read once per run with one GROUP BY (its city-wide read: ``telemetry.queries.fault_counts``,
``rescue.queries.entrapment_counts``, ``maintenance.queries.preventive_overdue_days`` ...) when the whole
city is scored, or once per batch with the batch's codes otherwise; the registry's elevators come in
keyset pages of the few columns the facts need (``registry.queries.elevator_briefs``). What feeds which
factor is in docs/RISK.md. No writes; the caller decides who may read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from liftwatch.complaints import queries as complaints_queries
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, zone
from liftwatch.hazards import service as hazards
from liftwatch.hazards.workflow import HazardLevel
from liftwatch.inspection import service as inspection
from liftwatch.maintenance import queries as maintenance_queries
from liftwatch.registry import queries as registry_queries
from liftwatch.rescue import queries as rescue_queries
from liftwatch.risk.domain import ElevatorFacts
from liftwatch.telemetry import queries as telemetry_queries

__all__ = ["BATCH", "Gathered", "Reads", "gather", "read_domains"]

#: Elevators per batch: the registry page and, outside a full run, the size of each read's IN list.
BATCH = 5000
#: The window trips a day are counted over.
TRAFFIC_DAYS = 30


@dataclass
class Reads:
    """The other domains' counts for a set of elevators (absent: zero, or unknown for traffic)."""

    faults_90d: dict[str, int] = field(default_factory=dict)
    faults_365d: dict[str, int] = field(default_factory=dict)
    entrapments_90d: dict[str, int] = field(default_factory=dict)
    entrapments_365d: dict[str, int] = field(default_factory=dict)
    trips_per_day: dict[str, float] = field(default_factory=dict)
    maintenance_overdue: dict[str, float] = field(default_factory=dict)
    fake_flags: dict[str, int] = field(default_factory=dict)
    with_contract: set[str] = field(default_factory=set)
    inspection_overdue: dict[str, int] = field(default_factory=dict)
    nonconformities: dict[str, int] = field(default_factory=dict)
    hazards_open: dict[str, dict[str, int]] = field(default_factory=dict)  # code -> level -> open
    complaints: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Gathered:
    """An elevator's facts with where it is (the page ranks by district)."""

    facts: ElevatorFacts
    district: str


def read_domains(session: Session, now: datetime, today: date, codes: Collection[str] | None) -> Reads:
    """Every domain's count for ``codes`` (None: the whole city), one query each."""
    d90, d365 = now - timedelta(days=90), now - timedelta(days=365)
    hazards_open = hazards.open_counts_by_level(session)
    if codes is not None:
        wanted = set(codes)
        hazards_open = {c: n for c, n in hazards_open.items() if c in wanted}
    return Reads(
        faults_90d=telemetry_queries.fault_counts(session, d90, codes),
        faults_365d=telemetry_queries.fault_counts(session, d365, codes),
        entrapments_90d=rescue_queries.entrapment_counts(session, d90, codes),
        entrapments_365d=rescue_queries.entrapment_counts(session, d365, codes),
        trips_per_day=telemetry_queries.trips_per_day(session, now, TRAFFIC_DAYS, codes),
        maintenance_overdue=maintenance_queries.preventive_overdue_days(session, now, codes),
        fake_flags=maintenance_queries.confirmed_flag_counts(session, d365, codes),
        with_contract=maintenance_queries.codes_with_valid_contract(session, today, codes),
        inspection_overdue=inspection.inspection_overdue_days(session, today, codes),
        nonconformities=inspection.open_nonconformity_counts(session, codes),
        hazards_open=hazards_open,
        complaints=complaints_queries.counts_by_elevator(session, d365, now, codes),
    )


def _facts(e: registry_queries.ElevatorBrief, today: date, r: Reads) -> ElevatorFacts:
    code = e.registration_code
    # three-no: the registry's three flags, the contract known from maintenance when the flag lags behind
    no_contract = e.no_maintenance_contract or code not in r.with_contract
    return ElevatorFacts(
        elevator=code,
        place_type=e.place_type,
        age_years=registry_queries.age_years(e, today),
        design_life_years=float(e.design_life_years) if e.design_life_years else None,
        trips_per_day=r.trips_per_day.get(code),
        faults_90d=r.faults_90d.get(code, 0),
        faults_365d=r.faults_365d.get(code, 0),
        entrapments_90d=r.entrapments_90d.get(code, 0),
        entrapments_365d=r.entrapments_365d.get(code, 0),
        maintenance_overdue_days=r.maintenance_overdue.get(code, 0.0),
        inspection_overdue_days=float(r.inspection_overdue.get(code, 0)),
        open_nonconformities=r.nonconformities.get(code, 0),
        open_hazards_general=r.hazards_open.get(code, {}).get(HazardLevel.GENERAL.value, 0),
        open_hazards_major=r.hazards_open.get(code, {}).get(HazardLevel.MAJOR.value, 0),
        confirmed_fake_flags=r.fake_flags.get(code, 0),
        complaints=r.complaints.get(code, 0),
        three_no=e.no_property_management and e.no_repair_fund and no_contract,
    )


def gather(
    session: Session,
    clock: Clock,
    settings: Settings,
    district: str | None = None,
    codes: Collection[str] | None = None,
    batch: int = BATCH,
) -> Iterator[list[Gathered]]:
    """The facts of the elevators in use (of ``district``, or only ``codes``), a batch at a time. A full
    run (neither given) reads each domain once for the whole city; otherwise each batch reads its own."""
    now = clock.now()
    today = now.astimezone(zone(settings.timezone)).date()
    city = read_domains(session, now, today, None) if district is None and codes is None else None
    for rows in registry_queries.elevator_briefs(session, district=district, codes=codes, batch=batch):
        reads = city or read_domains(session, now, today, [e.registration_code for e in rows])
        yield [Gathered(_facts(e, today, reads), e.district) for e in rows]
