"""The plan job: every valid contract's next visit (maintenance/plans.py) becomes a preventive work order a
few days ahead (LIFTWATCH_MAINTENANCE_PLAN_DAYS_AHEAD), run by the maintenance worker every
LIFTWATCH_MAINTENANCE_PLAN_EVERY_H.

* Traditional: the last signed preventive visit + 15 days (no visit yet: the contract's start + 15); the
  visit's interval follows its number under the contract (``plans.visit_interval``).
* On demand: ``plans.on_demand_due`` with what the database holds since the last visit: faults (telemetry),
  incidents (rescue, counted as entrapments), and trips and door cycles from the terminal's counters (the
  live count now less the count recorded around the last visit, ``counts_since``). A count that cannot be
  known (no terminal readings near the last visit or now, a counter that went back: reset or replaced)
  stands at zero, so it never brings a visit closer, and the order and its explanation say so
  (``unknown``).

A due date already past is planned for today. One order per contract and due date (source reference
``contract:<id>:<date>``), and none while the contract's elevator has a preventive order not yet finished,
so a due date that moves with new counts never opens a second order. The order's reasons are stored as its
``planned`` event (``plan_of``): the codes of plans.Reason, the English explanation and the unknown counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings, zone
from liftwatch.maintenance import plans, service
from liftwatch.maintenance.domain import Interval, MaintenanceModel
from liftwatch.maintenance.models import MaintenanceContract, MaintenanceRecord, WorkOrder, WorkOrderEvent
from liftwatch.maintenance.workflow import FINISHED, WorkOrderKind, WorkOrderState
from liftwatch.rescue import queries as rescue_queries
from liftwatch.telemetry import queries as telemetry_queries
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.faults import FaultType

log = logging.getLogger(__name__)

SCHEDULER = Actor("scheduler", Role.ADMIN)
COUNTS = ("trips", "door_cycles")  # from the terminal's counters; unknown ones never bring a visit closer
# The counter reading "at the last visit" must be this close to it: the newest reading at most this long
# before ``since``, else the first one at most this long after it (the visit's own switch to inspection).
# An older reading would count a whole earlier period's trips as this one's.
REFERENCE_WITHIN = timedelta(days=1)
_ORDER = [Interval.HALF_MONTH, Interval.QUARTER, Interval.HALF_YEAR, Interval.YEAR]

# (session, registration code, since) -> what the elevator counted since then
UsageOf = Callable[[Session, str, datetime], plans.Usage]


def counts_since(session: Session, registration_code: str, since: datetime) -> tuple[int | None, int | None]:
    """Trips and door cycles since ``since`` from the terminal's counters: the live count now less the count
    recorded nearest before ``since`` (within ``REFERENCE_WITHIN``; else the first within it after). None:
    unknown (no such reading, no count now, or a count now below the reading: the counter was reset)."""
    now = telemetry_queries.counters_now(session, registration_code)
    if now is None:
        return None, None
    ref = telemetry_queries.counters_at(session, registration_code, since)
    if ref is None or ref.at < since - REFERENCE_WITHIN:
        ref = telemetry_queries.counters_after(session, registration_code, since, since + REFERENCE_WITHIN)
    if ref is None:
        return None, None

    def diff(count: int | None, reference: int | None) -> int | None:
        if count is None or reference is None or count < reference:
            return None
        return count - reference

    return diff(now.trips, ref.trips), diff(now.door_cycles, ref.door_cycles)


def usage_from_database(session: Session, registration_code: str, since: datetime) -> plans.Usage:
    """Faults (entrapment and alarm faults left out: their incidents count) and incidents since ``since``;
    trips and door cycles from the counters (``counts_since``), those unknown listed in ``unknown``."""
    faults = telemetry.count_faults_since(
        session,
        registration_code,
        since,
        exclude_types=(FaultType.ENTRAPMENT.value, FaultType.ALARM_BUTTON.value),
    )
    entrapments = rescue_queries.count_incidents_since(session, registration_code, since)
    trips, doors = counts_since(session, registration_code, since)
    unknown = tuple(name for name, n in zip(COUNTS, (trips, doors), strict=True) if n is None)
    return plans.Usage(
        trips=trips or 0,
        door_cycles=doors or 0,
        faults=faults,
        entrapments=entrapments,
        unknown=unknown,
    )


@dataclass(frozen=True)
class NextVisit:
    """A contract's next visit: its due date, the longest interval it carries and why."""

    contract_id: int
    registration_code: str
    due: date
    interval: Interval
    reasons: tuple[plans.Reason, ...]
    explanation: str
    unknown: tuple[str, ...] = ()


@dataclass
class PlanRun:
    """What one run of the job did."""

    opened: list[int] = field(default_factory=list)  # work order ids
    planned: list[NextVisit] = field(default_factory=list)
    skipped: int = 0  # contracts with an unfinished preventive order, or not due within the horizon
    failed: int = 0


def _visits(session: Session, code: str, tz: Any) -> list[tuple[date, Interval]]:
    """The elevator's signed preventive visits, oldest first: (day on the city's clock, interval)."""
    rows = session.execute(
        select(MaintenanceRecord.check_in_at, WorkOrder.interval)
        .join(WorkOrder, WorkOrder.id == MaintenanceRecord.work_order_id)
        .where(
            WorkOrder.registration_code == code,
            WorkOrder.kind == WorkOrderKind.PREVENTIVE.value,
            MaintenanceRecord.amends_id.is_(None),
            MaintenanceRecord.worker_signed_at.is_not(None),
        )
        .order_by(MaintenanceRecord.check_in_at)
    ).all()
    return [(as_utc(at).astimezone(tz).date(), Interval(iv or Interval.HALF_MONTH.value)) for at, iv in rows]


def next_visit(
    session: Session,
    contract: MaintenanceContract,
    today: date,
    settings: Settings,
    usage_of: UsageOf = usage_from_database,
    on_demand: plans.OnDemandSettings = plans.DEFAULT_ON_DEMAND,
) -> NextVisit:
    """The contract's next visit by its model (module docstring)."""
    tz = zone(settings.timezone)
    visits = _visits(session, contract.registration_code, tz)
    last = visits[-1][0] if visits else contract.start_date
    if contract.model == MaintenanceModel.ON_DEMAND.value:
        since = datetime.combine(last, time(0), tz)
        usage = usage_of(session, contract.registration_code, since)
        last_done: dict[Interval, date] = {}
        for day, interval in visits:
            for iv in _ORDER[: _ORDER.index(interval) + 1]:
                last_done[iv] = day
        # Fewer than two visits: the elevator comes from the traditional plan, so the interval it grows
        # from is the traditional 15 days (a new on-demand elevator goes 15, 30, 60, 90; never 90 at once).
        previous = (
            (visits[-1][0] - visits[-2][0]).days if len(visits) >= 2 else plans.TRADITIONAL_INTERVAL_DAYS
        )
        due = plans.on_demand_due(last, today, usage, last_done, previous, on_demand)
        return NextVisit(
            contract.id,
            contract.registration_code,
            due.due,
            due.carries,
            due.reasons,
            due.explanation,
            usage.unknown,
        )
    under_contract = sum(1 for day, _ in visits if day >= contract.start_date)
    days = plans.TRADITIONAL_INTERVAL_DAYS
    return NextVisit(
        contract.id,
        contract.registration_code,
        plans.traditional_next_due(last),
        plans.visit_interval(under_contract + 1),
        (plans.Reason("traditional", {"days": days}),),
        f"Next visit due {plans.traditional_next_due(last).isoformat()}: {days} days after "
        f"{'the last visit' if visits else 'the contract start'} ({last.isoformat()}).",
    )


def _has_open_preventive(session: Session, code: str) -> bool:
    unfinished = [s.value for s in WorkOrderState if s not in FINISHED]
    found = session.scalars(
        select(WorkOrder.id).where(
            WorkOrder.registration_code == code,
            WorkOrder.kind == WorkOrderKind.PREVENTIVE.value,
            WorkOrder.state.in_(unfinished),
        )
    ).first()
    return found is not None


def open_due_orders(
    session_factory: Callable[[], Session],
    clock: Clock,
    settings: Settings,
    usage_of: UsageOf = usage_from_database,
) -> PlanRun:
    """One run of the job: for each contract valid today, open the preventive work order of its next visit
    when that is due within ``maintenance_plan_days_ahead`` days. Each contract in its own transaction: one
    that fails (logged) does not hold the others."""
    tz = zone(settings.timezone)
    today = clock.now().astimezone(tz).date()
    horizon = today + timedelta(days=settings.maintenance_plan_days_ahead)
    run = PlanRun()
    with session_factory() as session:
        ids = list(
            session.scalars(
                select(MaintenanceContract.id)
                .where(MaintenanceContract.start_date <= today, MaintenanceContract.end_date >= today)
                .order_by(MaintenanceContract.id)
            )
        )
    for contract_id in ids:
        with session_factory() as session:
            try:
                contract = session.get(MaintenanceContract, contract_id)
                if contract is None or _has_open_preventive(session, contract.registration_code):
                    run.skipped += 1
                    continue
                visit = next_visit(session, contract, today, settings, usage_of)
                if visit.due > horizon:
                    run.skipped += 1
                    continue
                planned = max(visit.due, today)
                out = service.open_preventive(
                    session,
                    SCHEDULER,
                    contract.registration_code,
                    planned,
                    visit.interval,
                    clock,
                    settings,
                    source_ref=f"contract:{contract.id}:{planned.isoformat()}",
                    summary=visit.explanation,
                )
                if out.created:
                    session.add(
                        WorkOrderEvent(
                            work_order_id=out.work_order.id,
                            at=clock.now(),
                            actor=SCHEDULER.username,
                            kind="planned",
                            details={
                                "contract_id": contract.id,
                                "due": visit.due.isoformat(),
                                "interval": visit.interval.value,
                                "reasons": [r.as_dict() for r in visit.reasons],
                                "explanation": visit.explanation,
                                "unknown": list(visit.unknown),
                            },
                        )
                    )
                    run.opened.append(out.work_order.id)
                    run.planned.append(visit)
                session.commit()
            except Exception:
                session.rollback()
                run.failed += 1
                log.exception("maintenance plan: contract %d could not be planned", contract_id)
    if run.opened:
        log.info("maintenance plan: %d preventive work orders opened", len(run.opened))
    return run


def plan_of(session: Session, order: WorkOrder) -> dict[str, Any] | None:
    """Why a planned work order is due when it is: its ``planned`` event's details (None for an order the
    job did not open)."""
    event = session.scalars(
        select(WorkOrderEvent).where(
            WorkOrderEvent.work_order_id == order.id, WorkOrderEvent.kind == "planned"
        )
    ).first()
    return dict(event.details) if event is not None else None
