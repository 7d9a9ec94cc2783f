"""Reads for the maintenance manager's planner (维保计划) and the reliability figures (MTBF, MTTR) of an
elevator and of a unit. No writes.

Scope is decided here, as in the service: maintenance staff plan their own unit only (naming another unit
is *not found*, 404); the centre (admin, regulator) any unit it names; anyone else may not plan (403). The
contracts, work orders and uncovered elevators come through ``maintenance.service`` (scoped there); the
counts of other domains through their public reads: telemetry's ``count_faults_since``, rescue's
``count_incidents_since``, the registry's elevator reads. The formulas are ``reliability`` (pure).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.maintenance import reliability, schedule, service
from liftwatch.maintenance.domain import Interval, MaintenanceModel
from liftwatch.maintenance.models import MaintenanceContract, MaintenanceFlag, MaintenanceRecord, WorkOrder
from liftwatch.maintenance.plans import Reason
from liftwatch.maintenance.workflow import FINISHED, WorkOrderKind, WorkOrderSource, WorkOrderState
from liftwatch.registry import queries as registry_queries
from liftwatch.registry.domain import ElevatorStatus, UnitType
from liftwatch.rescue import queries as rescue_queries
from liftwatch.telemetry import service as telemetry
from liftwatch.telemetry.faults import FaultType

#: The period MTBF and MTTR look back over, ending now.
RELIABILITY_DAYS = 90
#: How far ahead the planner lists visits due.
DUE_AHEAD_DAYS = 7
#: Who may plan: a maintenance unit's staff (their unit) and the centre (any unit).
PLANNERS = frozenset({Role.MAINTENANCE, Role.ADMIN, Role.REGULATOR})
#: Faults that are not the elevator failing (the terminal, the clock, the supply), or that its incidents
#: count once (entrapments, alarm presses).
NOT_FAILURES = (
    FaultType.ENTRAPMENT.value,
    FaultType.ALARM_BUTTON.value,
    FaultType.TERMINAL_OFFLINE.value,
    FaultType.CLOCK_SKEW.value,
    FaultType.POWER_CUT.value,
)
#: Corrective sources due by a date someone set rather than repairs of a breakdown: not in MTTR.
NOT_REPAIRS = frozenset({WorkOrderSource.INSPECTION.value, WorkOrderSource.HAZARD.value})
_SIGNED = (WorkOrderState.COMPLETED, WorkOrderState.CONFIRMED)
_UNFINISHED = [s.value for s in WorkOrderState if s not in FINISHED]


# ---------------------------------------------------------------- scope


def planner_unit(session: Session, actor: Actor, unit_code: str | None) -> str | None:
    """The unit the actor plans: maintenance staff their own (another unit named: 404); the centre the
    maintenance unit it names (an unknown one: 404), None when it names none; anyone else: 403."""
    if actor.role not in PLANNERS:
        raise Forbidden(f"role '{actor.role.value}' has no maintenance planner")
    if actor.role is Role.MAINTENANCE:
        own = registry_queries.unit_codes(session, [actor.unit_id]).get(actor.unit_id or 0)
        if own is None or (unit_code and unit_code != own):
            raise NotFound(f"no maintenance unit '{unit_code or ''}' to plan")
        return own
    if not unit_code:
        return None
    unit = registry_queries.unit_by_code(session, unit_code)
    if unit is None or unit.unit_type != UnitType.MAINTENANCE.value:
        raise NotFound(f"no maintenance unit '{unit_code}'")
    return unit.code


def maintenance_units(session: Session, actor: Actor) -> list[tuple[str, str]]:
    """(code, name) of the maintenance units the actor may pick on the planner."""
    if actor.role not in PLANNERS:
        raise Forbidden(f"role '{actor.role.value}' has no maintenance planner")
    units, _total = registry_queries.list_units(
        session, actor, UnitType.MAINTENANCE.value, None, page=1, size=1000
    )
    return [(u.code, u.name) for u in units]


# ---------------------------------------------------------------- the planner


@dataclass(frozen=True)
class PlannedVisit:
    """A contract's next preventive visit as the planner shows it."""

    contract: service.StoredContract
    due: date
    interval: Interval  # the longest interval the visit carries
    interval_days: int  # from the last signed visit (or the contract's start) to the due date
    last_visit: date | None
    reasons: tuple[Reason, ...]
    explanation: str
    unknown: tuple[str, ...]
    days_left: int  # negative: overdue by that many days
    open_order: service.StoredWorkOrder | None  # the preventive order already opened for it, if any

    @property
    def registration_code(self) -> str:
        return self.contract.registration_code

    @property
    def model(self) -> str:
        return self.contract.model

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


@dataclass(frozen=True)
class LateOrder:
    """A corrective work order not signed by its SLA deadline."""

    order: service.StoredWorkOrder
    hours_late: float


@dataclass
class Planner:
    """One unit's week: what is due, what is late, what is on demand, what has no contract."""

    unit_code: str | None
    today: date
    ahead_days: int
    due_soon: list[PlannedVisit] = field(default_factory=list)
    overdue: list[PlannedVisit] = field(default_factory=list)
    late_orders: list[LateOrder] = field(default_factory=list)
    on_demand: list[PlannedVisit] = field(default_factory=list)
    without_contract: list[str] = field(default_factory=list)
    reliability: reliability.Reliability | None = None
    reliability_days: int = RELIABILITY_DAYS


def _local_today(clock: Clock, settings: Settings) -> date:
    return clock.now().astimezone(zone(settings.timezone)).date()


def _last_visits(session: Session, codes: Sequence[str], settings: Settings) -> dict[str, date]:
    """The day (city clock) of each elevator's last signed preventive visit, in one query."""
    if not codes:
        return {}
    tz = zone(settings.timezone)
    rows = session.execute(
        select(MaintenanceRecord.registration_code, func.max(MaintenanceRecord.check_in_at))
        .join(WorkOrder, WorkOrder.id == MaintenanceRecord.work_order_id)
        .where(
            MaintenanceRecord.registration_code.in_(list(codes)),
            WorkOrder.kind == WorkOrderKind.PREVENTIVE.value,
            MaintenanceRecord.amends_id.is_(None),
            MaintenanceRecord.worker_signed_at.is_not(None),
        )
        .group_by(MaintenanceRecord.registration_code)
    )
    return {code: as_utc(at).astimezone(tz).date() for code, at in rows if at is not None}


def _open_preventive(session: Session, codes: Sequence[str]) -> dict[str, WorkOrder]:
    """Each elevator's unfinished preventive order (the earliest), in one query."""
    if not codes:
        return {}
    out: dict[str, WorkOrder] = {}
    rows = session.scalars(
        select(WorkOrder)
        .where(
            WorkOrder.registration_code.in_(list(codes)),
            WorkOrder.kind == WorkOrderKind.PREVENTIVE.value,
            WorkOrder.state.in_(_UNFINISHED),
        )
        .order_by(WorkOrder.due_at, WorkOrder.id)
    )
    for order in rows:
        out.setdefault(order.registration_code, order)
    return out


def planned_visits(
    session: Session,
    contracts: Sequence[service.StoredContract],
    today: date,
    settings: Settings,
    usage_of: schedule.UsageOf = schedule.usage_from_database,
) -> list[PlannedVisit]:
    """The next visit of each contract (``schedule.next_visit``, the plan job's own rule), with the
    interval it carries in days and the preventive order already opened for it. The caller scoped the
    contracts."""
    codes = sorted({c.registration_code for c in contracts})
    last = _last_visits(session, codes, settings)
    opened = _open_preventive(session, codes)
    out = []
    for contract in contracts:
        visit = schedule.next_visit(session, contract, today, settings, usage_of)
        since = last.get(contract.registration_code)
        start = since or contract.start_date
        out.append(
            PlannedVisit(
                contract=contract,
                due=visit.due,
                interval=visit.interval,
                interval_days=(visit.due - start).days,
                last_visit=since,
                reasons=visit.reasons,
                explanation=visit.explanation,
                unknown=visit.unknown,
                days_left=(visit.due - today).days,
                open_order=opened.get(contract.registration_code),
            )
        )
    return out


def late_corrective(session: Session, unit_code: str, now: datetime) -> list[LateOrder]:
    """The unit's corrective orders past their SLA and not signed, the longest late first (the caller
    decided the actor may plan this unit: ``planner_unit``)."""
    orders = session.scalars(
        select(WorkOrder).where(
            WorkOrder.unit_code == unit_code,
            WorkOrder.kind == WorkOrderKind.CORRECTIVE.value,
            WorkOrder.state.in_(_UNFINISHED),
            WorkOrder.due_at < now,
        )
    )
    late = [LateOrder(o, (now - as_utc(o.due_at)).total_seconds() / 3600) for o in orders]
    return sorted(late, key=lambda r: (-r.hours_late, r.order.id))


def uncovered(session: Session, actor: Actor, unit_code: str, clock: Clock, today: date) -> list[str]:
    """Elevators the registry has the unit maintain with no contract valid today (三无: no maintenance
    contract), in the actor's scope."""
    codes = service.elevators_without_contract(session, actor, today)
    if actor.role is Role.MAINTENANCE:
        return codes  # the service scoped them to the unit's elevators
    unit = registry_queries.unit_by_code(session, unit_code)
    if unit is None:
        return []
    elevators, _n = registry_queries.list_elevators(
        session, actor, registry_queries.ElevatorFilter(unit=unit_code), clock, page=1, size=100_000
    )
    mine = {e.registration_code for e in elevators if e.maintenance_unit_id == unit.id}
    return [c for c in codes if c in mine]


def planner(
    session: Session,
    actor: Actor,
    unit_code: str | None,
    clock: Clock,
    settings: Settings,
    ahead_days: int = DUE_AHEAD_DAYS,
    usage_of: schedule.UsageOf = schedule.usage_from_database,
) -> Planner:
    """The planner of one unit (``planner_unit`` decides which): visits due within ``ahead_days`` (soonest
    first), overdue visits (most overdue first), corrective orders past their SLA (latest first),
    on-demand elevators (shortest interval first), elevators without a valid contract, and the unit's
    MTBF and MTTR over the last ``RELIABILITY_DAYS``."""
    unit = planner_unit(session, actor, unit_code)
    today = _local_today(clock, settings)
    result = Planner(unit_code=unit, today=today, ahead_days=ahead_days)
    if unit is None:
        return result
    contracts = service.list_contracts(session, actor, unit_code=unit, valid_on=today, limit=100_000)
    visits = planned_visits(session, contracts, today, settings, usage_of)
    result.overdue = sorted(
        (v for v in visits if v.days_left < 0), key=lambda v: (v.days_left, v.registration_code)
    )
    result.due_soon = sorted(
        (v for v in visits if 0 <= v.days_left <= ahead_days), key=lambda v: (v.due, v.registration_code)
    )
    result.on_demand = sorted(
        (v for v in visits if v.model == MaintenanceModel.ON_DEMAND.value),
        key=lambda v: (v.interval_days, v.due, v.registration_code),
    )
    result.late_orders = late_corrective(session, unit, clock.now())
    result.without_contract = uncovered(session, actor, unit, clock, today)
    codes = sorted({c.registration_code for c in contracts})
    result.reliability = unit_reliability(session, unit, codes, clock, settings)
    return result


# ---------------------------------------------------------------- reliability


def _period(clock: Clock, days: int) -> tuple[datetime, datetime]:
    end = clock.now()
    return end - timedelta(days=days), end


def elevator_period(
    session: Session, registration_code: str, start: datetime, end: datetime, settings: Settings
) -> reliability.ElevatorPeriod | str:
    """One elevator's hours in service and failures in [start, end), or why it is not measured:
    ``not_in_service`` (suspended or scrapped now) or ``no_terminal`` (its faults are not observed)."""
    elevator = registry_queries.get_public_elevator(session, registration_code)
    if elevator.status != ElevatorStatus.IN_USE.value:
        return "not_in_service"
    if not elevator.iot_terminal_id:
        return "no_terminal"
    began = elevator.commissioning_date or elevator.installation_date
    in_service_from = datetime.combine(began, time(0), zone(settings.timezone)) if began else None
    return reliability.ElevatorPeriod(
        registration_code,
        reliability.service_hours(start, end, in_service_from),
        faults=telemetry.count_faults_since(session, registration_code, start, exclude_types=NOT_FAILURES),
        incidents=rescue_queries.count_incidents_since(session, registration_code, start),
    )


def _repairs(orders: Sequence[WorkOrder], start: datetime, end: datetime) -> list[reliability.Repair]:
    out = []
    for o in orders:
        if o.kind != WorkOrderKind.CORRECTIVE.value or o.source in NOT_REPAIRS or o.completed_at is None:
            continue
        done = as_utc(o.completed_at)
        if start <= done <= end:  # the period ends now: a repair signed now counts
            out.append(reliability.Repair(as_utc(o.created_at), done))
    return out


@dataclass(frozen=True)
class ElevatorReliability:
    """An elevator's figures, or why there are none for MTBF (``unmeasured``: a RELIABILITY label key)."""

    figures: reliability.Reliability
    unmeasured: str = ""
    days: int = RELIABILITY_DAYS


def elevator_reliability(
    session: Session,
    actor: Actor,
    registration_code: str,
    clock: Clock,
    settings: Settings,
    days: int = RELIABILITY_DAYS,
) -> ElevatorReliability:
    """MTBF and MTTR of one elevator over the last ``days``; its work orders as far as the actor may read
    them (the service's scope: 403 for a role without maintenance records)."""
    start, end = _period(clock, days)
    orders = service.list_work_orders(session, actor, registration_code, states=_SIGNED, limit=5000)
    repairs = _repairs(orders, start, end)
    period = elevator_period(session, registration_code, start, end, settings)
    if isinstance(period, str):
        return ElevatorReliability(reliability.reliability([], repairs), period, days)
    return ElevatorReliability(reliability.reliability([period], repairs), "", days)


def unit_reliability(
    session: Session,
    unit_code: str,
    codes: Sequence[str],
    clock: Clock,
    settings: Settings,
    days: int = RELIABILITY_DAYS,
) -> reliability.Reliability:
    """A unit's MTBF over ``codes`` (its elevators under contract; the measured ones pooled) and its MTTR
    over its own corrective orders signed in the last ``days`` (the caller decided the actor may read the
    unit: ``planner_unit``)."""
    start, end = _period(clock, days)
    periods = [
        p for c in codes if not isinstance(p := elevator_period(session, c, start, end, settings), str)
    ]
    orders = session.scalars(
        select(WorkOrder).where(
            WorkOrder.unit_code == unit_code,
            WorkOrder.kind == WorkOrderKind.CORRECTIVE.value,
            WorkOrder.completed_at >= start,
            WorkOrder.completed_at <= end,
        )
    ).all()
    repairs = _repairs(orders, start, end)
    return reliability.reliability(periods, repairs)


def as_row(r: reliability.Reliability) -> dict[str, Any]:
    """Figures rounded for a screen or an API: hours to one decimal, days beside MTBF."""
    return {
        "elevators": r.elevators,
        "service_hours": round(r.service_hours, 1),
        "failures": r.failures,
        "mtbf_h": None if r.mtbf_h is None else round(r.mtbf_h, 1),
        "mtbf_days": None if r.mtbf_h is None else round(r.mtbf_h / 24, 1),
        "repairs": r.repairs,
        "mttr_h": None if r.mttr_h is None else round(r.mttr_h, 1),
    }


# ---------------------------------------------------------------- city-wide counts (risk grading)
# One GROUP BY each over the whole city or the given elevators; the caller decides who may read them.


def preventive_overdue_days(
    session: Session, now: datetime, codes: Collection[str] | None = None
) -> dict[str, float]:
    """Days the oldest unsigned preventive visit of each elevator is past its ``due_at`` (the oversight
    list's rule: a visit missed); elevators with none overdue are absent."""
    stmt = select(WorkOrder.registration_code, func.min(WorkOrder.due_at)).where(
        WorkOrder.kind == WorkOrderKind.PREVENTIVE.value,
        WorkOrder.state.in_(_UNFINISHED),
        WorkOrder.due_at < now,
    )
    if codes is not None:
        stmt = stmt.where(WorkOrder.registration_code.in_(list(codes)))
    rows = session.execute(stmt.group_by(WorkOrder.registration_code))
    return {
        code: round((now - as_utc(due)).total_seconds() / 86400, 1) for code, due in rows if due is not None
    }


def confirmed_flag_counts(
    session: Session, since: datetime, codes: Collection[str] | None = None
) -> dict[str, int]:
    """Fake-maintenance flags a regulator confirmed, raised from ``since`` on, per elevator."""
    stmt = select(MaintenanceFlag.registration_code, func.count(MaintenanceFlag.id)).where(
        MaintenanceFlag.state == "confirmed", MaintenanceFlag.created_at >= since
    )
    if codes is not None:
        stmt = stmt.where(MaintenanceFlag.registration_code.in_(list(codes)))
    return {code: int(n) for code, n in session.execute(stmt.group_by(MaintenanceFlag.registration_code))}


def elevators_by_unit(session: Session, first: date, last: date) -> dict[str, int]:
    """Elevators under each maintenance unit's contracts at some day of ``[first, last]`` (unit code ->
    distinct elevators; an elevator that changed unit counts for both). The ratings' denominator."""
    stmt = (
        select(
            MaintenanceContract.unit_code,
            func.count(func.distinct(MaintenanceContract.registration_code)),
        )
        .where(MaintenanceContract.start_date <= last, MaintenanceContract.end_date >= first)
        .group_by(MaintenanceContract.unit_code)
    )
    return {str(unit): int(n) for unit, n in session.execute(stmt)}


def due_work_by_unit(session: Session, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """Work orders (every kind) due in ``[start, end)`` and not cancelled, per unit doing them: (due, late),
    late being signed by the worker after ``due_at`` or not signed at all (the ratings' overdue work; the
    caller ends the window at now so work not yet due is not counted)."""
    late = case(
        (or_(WorkOrder.completed_at.is_(None), WorkOrder.completed_at > WorkOrder.due_at), 1), else_=0
    )
    stmt = (
        select(WorkOrder.unit_code, func.count(WorkOrder.id), func.sum(late))
        .where(
            WorkOrder.due_at >= start,
            WorkOrder.due_at < end,
            WorkOrder.state != WorkOrderState.CANCELLED.value,
        )
        .group_by(WorkOrder.unit_code)
    )
    return {str(unit): (int(n), int(k or 0)) for unit, n, k in session.execute(stmt)}


def confirmed_flags_by_unit(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Fake-maintenance flags raised in ``[start, end)`` that a regulator confirmed, per maintenance unit."""
    stmt = (
        select(MaintenanceFlag.unit_code, func.count(MaintenanceFlag.id))
        .where(
            MaintenanceFlag.state == "confirmed",
            MaintenanceFlag.created_at >= start,
            MaintenanceFlag.created_at < end,
        )
        .group_by(MaintenanceFlag.unit_code)
    )
    return {str(unit): int(n) for unit, n in session.execute(stmt)}


def codes_with_valid_contract(session: Session, on: date, codes: Collection[str] | None = None) -> set[str]:
    """The elevators with a maintenance contract valid on ``on`` (the service's ``valid_contract`` rule)."""
    stmt = select(MaintenanceContract.registration_code).where(
        MaintenanceContract.start_date <= on, MaintenanceContract.end_date >= on
    )
    if codes is not None:
        stmt = stmt.where(MaintenanceContract.registration_code.in_(list(codes)))
    return set(session.scalars(stmt.distinct()))


def finished_work_orders(session: Session, ids: Collection[int]) -> set[int]:
    """Which of the work orders ``ids`` are finished (signed, confirmed or cancelled): inspection asks it
    of the rectification orders of its non-conformities."""
    wanted = sorted(set(ids))
    done = [s.value for s in FINISHED]
    out: set[int] = set()
    for i in range(0, len(wanted), 5000):
        out.update(
            session.scalars(
                select(WorkOrder.id).where(WorkOrder.id.in_(wanted[i : i + 5000]), WorkOrder.state.in_(done))
            )
        )
    return out


def codes_changed_since(session: Session, since: datetime) -> set[str]:
    """The elevators whose maintenance changed after ``since``: work orders (overdue visits, rectification
    of non-conformities), fake-maintenance flags raised or reviewed, contracts filed or ended (three-no).
    What the risk worker rescores."""
    codes: set[str] = set()
    for stmt in (
        select(WorkOrder.registration_code).where(WorkOrder.updated_at > since),
        select(MaintenanceFlag.registration_code).where(
            or_(MaintenanceFlag.created_at > since, MaintenanceFlag.reviewed_at > since)
        ),
        select(MaintenanceContract.registration_code).where(
            or_(MaintenanceContract.created_at > since, MaintenanceContract.ended_at > since)
        ),
    ):
        codes |= set(session.scalars(stmt.distinct()))
    return codes


@dataclass(frozen=True)
class ContractPrice:
    """A contract as cost disclosure books it: which elevator, which unit, its days and its yearly price."""

    id: int
    registration_code: str
    unit_code: str
    start_date: date
    end_date: date
    price_fen: int  # per year


def contracts_overlapping(
    session: Session, first: date, last: date, codes: Collection[str] | None = None
) -> list[ContractPrice]:
    """The contracts valid on some day of ``[first, last]`` (of ``codes`` only when given), in id order:
    the fees cost disclosure books per half-year. The caller decides who may ask."""
    stmt = select(MaintenanceContract).where(
        MaintenanceContract.start_date <= last, MaintenanceContract.end_date >= first
    )
    if codes is not None:
        stmt = stmt.where(MaintenanceContract.registration_code.in_(sorted(codes)))
    return [
        ContractPrice(c.id, c.registration_code, c.unit_code, c.start_date, c.end_date, c.price_fen)
        for c in session.scalars(stmt.order_by(MaintenanceContract.id))
    ]


@dataclass(frozen=True)
class WorkOrderRef:
    """A work order as a cost entry refers to it: its elevator, kind and state."""

    id: int
    registration_code: str
    kind: str  # workflow.WorkOrderKind
    state: str  # workflow.WorkOrderState
    due_at: datetime | None = None  # read by work_order_refs only


def work_order_ref(session: Session, work_order_id: int) -> WorkOrderRef | None:
    """The work order ``work_order_id``, or None (the caller decides who may ask)."""
    row = session.execute(
        select(WorkOrder.id, WorkOrder.registration_code, WorkOrder.kind, WorkOrder.state).where(
            WorkOrder.id == work_order_id
        )
    ).first()
    return WorkOrderRef(*row) if row else None


def work_order_refs(session: Session, ids: Collection[int]) -> dict[int, WorkOrderRef]:
    """The work orders ``ids`` that exist, by id, in chunks (the caller decides who may ask): a recall
    follows the state of each of its rectification orders."""
    wanted = sorted(set(ids))
    out: dict[int, WorkOrderRef] = {}
    for i in range(0, len(wanted), 5000):
        rows = session.execute(
            select(
                WorkOrder.id, WorkOrder.registration_code, WorkOrder.kind, WorkOrder.state, WorkOrder.due_at
            ).where(WorkOrder.id.in_(wanted[i : i + 5000]))
        )
        out.update({row[0]: WorkOrderRef(row[0], row[1], row[2], row[3], as_utc(row[4])) for row in rows})
    return out
