"""The maintenance domain's only writer: contracts (维保合同) and work orders (工单) from opening to the use
unit's sign-off, with their on-site records and photos, and the SLA deadlines on durable timers.

Scope (outside it a contract, a work order or a photo is *not found*): the centre (admin, regulator, 96333
operator) and inspectors read everything; maintenance staff their own unit's work orders and contracts;
use-unit staff those on the elevators they use (they sign work orders off). Gateways and the public: none.

A work order is opened once per ``(source, source_ref)``: a fault, a rescue, an inspection finding, a
complaint, a hazard or a planned visit reported again returns the order already open. Its deadlines are
rows of ``work_order_timers``: at ``due_at`` an order not yet signed by its worker is overdue (its
maintenance unit and use unit are told), ``maintenance_escalation_h`` later it is escalated to the regulator;
``fire_due_timers`` fires them, in any process, after any restart (the same mechanism as rescue's); a signed
visit's ``telemetry`` timer judges its telemetry kinds of fake maintenance once the pipeline has recorded
the visit ("Fake-maintenance flags" below). Notices
are rows of ``maintenance_notices``, written with the change. A signed record is never changed (409): a
correction is an amendment, a new record naming the one it amends and why.

Settings are the core ones (``LIFTWATCH_MAINTENANCE_*``, ``LIFTWATCH_UPLOAD_MAX_MB``), passed in by the edge.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts
from liftwatch.accounts.actor import Actor, Role
from liftwatch.core import deadlines
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import CITY_TIMEZONE, Settings, zone
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.maintenance import fakes, files, workflow
from liftwatch.maintenance.catalogue import load_catalogue
from liftwatch.maintenance.domain import Evidence, Interval, MaintenanceModel, appendix_of
from liftwatch.maintenance.models import (
    Attachment,
    MaintenanceContract,
    MaintenanceFlag,
    MaintenanceNotice,
    MaintenanceRecord,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderTimer,
)
from liftwatch.maintenance.workflow import (
    ItemResult,
    TimerKind,
    WorkOrderKind,
    WorkOrderSource,
    WorkOrderState,
)
from liftwatch.people import service as people
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.domain import UnitType
from liftwatch.telemetry import queries as telemetry_queries
from liftwatch.telemetry.protocol import ServiceMode

log = logging.getLogger(__name__)

# The records this service hands out (callers name them from here; the tables' module is the domain's own).
StoredContract: TypeAlias = MaintenanceContract
StoredWorkOrder: TypeAlias = WorkOrder
StoredRecord: TypeAlias = MaintenanceRecord
StoredAttachment: TypeAlias = Attachment
StoredEvent: TypeAlias = WorkOrderEvent

READ_ALL = frozenset({Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR, Role.INSPECTOR})
CONTRACT_WRITERS = frozenset({Role.ADMIN, Role.REGULATOR, Role.MAINTENANCE})
# who may open a corrective work order (unit staff on their own elevators only)
OPENERS = frozenset(
    {Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR, Role.INSPECTOR, Role.MAINTENANCE, Role.USE_UNIT}
)
REGULATOR = "regulator"  # the recipient of escalations


@dataclass(frozen=True)
class ContractTerms:
    registration_code: str
    unit_code: str
    start_date: date
    end_date: date
    model: MaintenanceModel = MaintenanceModel.TRADITIONAL
    price_fen: int = 0
    responsible: str = ""


@dataclass(frozen=True)
class ItemEntry:
    """A worker's result on one catalogue item."""

    code: str
    result: ItemResult
    value: float | None = None
    note: str = ""


@dataclass(frozen=True)
class PartEntry:
    name: str
    quantity: int = 1
    note: str = ""


@dataclass
class Notice:
    """Something to tell someone, as written to ``maintenance_notices``; ``key`` is its idempotency key."""

    work_order_id: int
    kind: str
    recipient: str
    registration_code: str
    details: dict[str, Any] = field(default_factory=dict)
    key: str = ""


@dataclass
class Outcome:
    work_order: WorkOrder
    created: bool
    notices: list[Notice] = field(default_factory=list)


def sla_rule(settings: Settings) -> workflow.SlaRule:
    return workflow.SlaRule(
        corrective_sla_h=settings.maintenance_corrective_sla_h,
        urgent_sla_h=settings.maintenance_urgent_sla_h,
        escalation_h=settings.maintenance_escalation_h,
    )


# ---------------------------------------------------------------- scope


def _unit_code(session: Session, actor: Actor) -> str | None:
    if actor.unit_id is None:
        return None
    return registry_queries.unit_codes(session, [actor.unit_id]).get(actor.unit_id)


def _require_reader(actor: Actor) -> None:
    if actor.role in READ_ALL or actor.role in (Role.MAINTENANCE, Role.USE_UNIT):
        return
    raise Forbidden(f"role '{actor.role.value}' may not read maintenance records")


def _scope(session: Session, actor: Actor, code_col: Any, unit_col: Any) -> ColumnElement[bool] | None:
    """The condition on (registration code, unit code) columns that limits rows to the actor's scope;
    None: no limit."""
    _require_reader(actor)
    if actor.role in READ_ALL:
        return None
    if actor.role is Role.MAINTENANCE:
        unit = _unit_code(session, actor)
        return unit_col == unit if unit else false()
    if actor.unit_id is None:
        return false()
    result: ColumnElement[bool] = code_col.in_(registry_queries.code_subquery(use_unit_id=actor.unit_id))
    return result


def _scoped(session: Session, actor: Actor, stmt: Select[Any], model: Any) -> Select[Any]:
    cond = _scope(session, actor, model.registration_code, model.unit_code)
    return stmt if cond is None else stmt.where(cond)


def _own_unit(session: Session, actor: Actor, unit_code: str) -> bool:
    return actor.role is Role.MAINTENANCE and _unit_code(session, actor) == unit_code


# ---------------------------------------------------------------- contracts


def _valid_on(on: date) -> ColumnElement[bool]:
    return (MaintenanceContract.start_date <= on) & (MaintenanceContract.end_date >= on)


def valid_contract(session: Session, registration_code: str, on: date) -> MaintenanceContract | None:
    """The elevator's contract valid on ``on`` (at most one), whoever asks (the caller decides who may)."""
    contract: MaintenanceContract | None = session.scalars(
        select(MaintenanceContract).where(
            MaintenanceContract.registration_code == registration_code, _valid_on(on)
        )
    ).first()
    return contract


def _check_person(session: Session, unit: str, username: str, field_name: str) -> None:
    account = accounts.account_of(session, username)
    if account is None:
        raise InvalidInput(FieldError(field_name, f"no account '{username}'"))
    if account.unit != unit or account.role != Role.MAINTENANCE.value:
        raise InvalidInput(FieldError(field_name, f"'{username}' is not maintenance staff of unit '{unit}'"))


def create_contract(
    session: Session, actor: Actor, terms: ContractTerms, clock: Clock
) -> MaintenanceContract:
    """File a contract. Refused when the elevator already has a contract valid on any day of it (409 naming
    that contract): an elevator has at most one valid contract on a date. Maintenance staff file their own
    unit's contracts for the elevators they maintain."""
    if actor.role not in CONTRACT_WRITERS:
        raise Forbidden(f"role '{actor.role.value}' may not file maintenance contracts")
    elevator = registry_queries.get_elevator(session, actor, terms.registration_code)
    if actor.role is Role.MAINTENANCE and _unit_code(session, actor) != terms.unit_code:
        raise InvalidInput(FieldError("unit_code", "maintenance staff file contracts of their own unit only"))
    unit = registry_queries.unit_by_code(session, terms.unit_code)
    if unit is None or unit.unit_type != UnitType.MAINTENANCE.value:
        raise InvalidInput(FieldError("unit_code", f"no maintenance unit '{terms.unit_code}'"))
    if terms.end_date < terms.start_date:
        raise InvalidInput(FieldError("end_date", "must not be before start_date"))
    if terms.price_fen < 0:
        raise InvalidInput(FieldError("price_fen", "must not be negative"))
    if terms.responsible:
        _check_person(session, terms.unit_code, terms.responsible, "responsible")
    if session.get_bind().dialect.name == "postgresql":
        # two filings for one elevator at once: the second waits here and then sees the first (SQLite has
        # one writer at a time anyway)
        key = f"maintenance_contract:{elevator.registration_code}"
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    clash = session.scalars(
        select(MaintenanceContract).where(
            MaintenanceContract.registration_code == elevator.registration_code,
            MaintenanceContract.start_date <= terms.end_date,
            MaintenanceContract.end_date >= terms.start_date,
        )
    ).first()
    if clash is not None:
        raise Conflict(
            f"elevator '{elevator.registration_code}' already has contract {clash.id} with "
            f"'{clash.unit_code}' from {clash.start_date} to {clash.end_date}"
        )
    now = clock.now()
    contract = MaintenanceContract(
        registration_code=elevator.registration_code,
        unit_code=terms.unit_code,
        start_date=terms.start_date,
        end_date=terms.end_date,
        model=MaintenanceModel(terms.model).value,
        price_fen=terms.price_fen,
        responsible=terms.responsible,
        created_at=now,
        created_by=actor.username,
        ended_at=None,
        ended_by="",
        end_reason="",
    )
    session.add(contract)
    session.flush()
    _file_entry(
        session,
        actor,
        contract.registration_code,
        "maintenance_contract",
        now,
        f"contract:{contract.id}:created",
        contract_id=contract.id,
        unit=contract.unit_code,
        start=str(contract.start_date),
        end=str(contract.end_date),
        model=contract.model,
    )
    return contract


def get_contract(session: Session, actor: Actor, contract_id: int) -> MaintenanceContract:
    stmt = _scoped(
        session,
        actor,
        select(MaintenanceContract).where(MaintenanceContract.id == contract_id),
        MaintenanceContract,
    )
    contract: MaintenanceContract | None = session.scalars(stmt).first()
    if contract is None:
        raise NotFound(f"no maintenance contract {contract_id}")
    return contract


def list_contracts(
    session: Session,
    actor: Actor,
    registration_code: str | None = None,
    unit_code: str | None = None,
    valid_on: date | None = None,
    limit: int = 500,
) -> list[MaintenanceContract]:
    stmt = _scoped(session, actor, select(MaintenanceContract), MaintenanceContract)
    if registration_code:
        stmt = stmt.where(MaintenanceContract.registration_code == registration_code)
    if unit_code:
        stmt = stmt.where(MaintenanceContract.unit_code == unit_code)
    if valid_on is not None:
        stmt = stmt.where(_valid_on(valid_on))
    order = (MaintenanceContract.registration_code, MaintenanceContract.start_date, MaintenanceContract.id)
    return list(session.scalars(stmt.order_by(*order).limit(limit)))


def end_contract(
    session: Session, actor: Actor, contract_id: int, on: date, reason: str, clock: Clock
) -> MaintenanceContract:
    """End a contract early: ``on`` becomes its last valid day (from its start to its planned end)."""
    if actor.role not in CONTRACT_WRITERS:
        raise Forbidden(f"role '{actor.role.value}' may not end maintenance contracts")
    contract = get_contract(session, actor, contract_id)
    if contract.ended_at is not None:
        raise Conflict(f"contract {contract.id} was already ended on {contract.end_date}")
    if not contract.start_date <= on <= contract.end_date:
        raise InvalidInput(
            FieldError(
                "on", f"must be between {contract.start_date} and {contract.end_date}, the contract's term"
            )
        )
    if not reason.strip():
        raise InvalidInput(FieldError("reason", "say why the contract ends"))
    now = clock.now()
    contract.end_date = on
    contract.ended_at = now
    contract.ended_by = actor.username
    contract.end_reason = reason.strip()
    session.flush()
    _file_entry(
        session,
        actor,
        contract.registration_code,
        "maintenance_contract_ended",
        now,
        f"contract:{contract.id}:ended",
        contract_id=contract.id,
        last_day=str(on),
        reason=reason,
    )
    return contract


def elevators_without_contract(session: Session, actor: Actor, on: date) -> list[str]:
    """The registration codes in the actor's scope with no contract valid on ``on``: the "no maintenance
    contract" flag of the three-no elevators (三无电梯)."""
    _require_reader(actor)
    scoped = registry_queries.scoped_codes(session, actor)
    codes = registry_queries.registration_codes(session) if scoped is None else scoped
    covered = set(session.scalars(select(MaintenanceContract.registration_code).where(_valid_on(on))))
    return sorted(codes - covered)


# ---------------------------------------------------------------- work orders: opening


def _file_entry(
    session: Session, actor: Actor | str, code: str, kind: str, at: datetime, key: str, /, **details: Any
) -> None:
    """An entry on the elevator file (一梯一档)."""
    who = actor if isinstance(actor, str) else actor.username
    registry.append_system_entries(
        session,
        [registry.SystemEntry(code, kind, at, kind, details, key)],
        recorded_by=who,
    )


def _record(
    session: Session, order: WorkOrder, actor: str, kind: str, at: datetime, /, **details: Any
) -> WorkOrderEvent:
    event = WorkOrderEvent(work_order_id=order.id, at=at, actor=actor, kind=kind, details=details)
    session.add(event)
    session.flush()
    return event


def _notice(
    session: Session,
    order: WorkOrder,
    event: WorkOrderEvent,
    kind: str,
    recipient: str,
    details: dict[str, Any],
) -> Notice:
    """A notice in the outbox, in the transaction of ``event``: it leaves only if that commits."""
    key = f"wo{order.id}:{event.id}:{kind}:{recipient}"
    notice = Notice(order.id, kind, recipient, order.registration_code, details, key)
    session.add(
        MaintenanceNotice(
            key=key,
            work_order_id=order.id,
            kind=kind,
            recipient=recipient,
            registration_code=order.registration_code,
            details=details,
            created_at=event.at,
            delivered_at=None,
        )
    )
    return notice


def _unit_for(session: Session, elevator: registry_queries.StoredElevator, on: date) -> str:
    contract = valid_contract(session, elevator.registration_code, on)
    if contract is not None:
        return contract.unit_code
    if elevator.maintenance_unit is not None:
        return elevator.maintenance_unit.code
    raise Conflict(
        f"elevator '{elevator.registration_code}' has no maintenance unit to give the work order to"
    )


def _by_source(session: Session, source: WorkOrderSource, ref: str) -> WorkOrder | None:
    order: WorkOrder | None = session.scalars(
        select(WorkOrder).where(WorkOrder.source == source.value, WorkOrder.source_ref == ref)
    ).first()
    return order


def _open(
    session: Session,
    actor: Actor,
    elevator: registry_queries.StoredElevator,
    kind: WorkOrderKind,
    source: WorkOrderSource,
    source_ref: str | None,
    summary: str,
    clock: Clock,
    settings: Settings,
    urgent: bool = False,
    planned_date: date | None = None,
    interval: Interval | None = None,
    due_by: date | None = None,
) -> Outcome:
    if source_ref is not None:
        existing = _by_source(session, source, source_ref)
        if existing is not None:
            return Outcome(existing, created=False)
    now = clock.now()
    tz = zone(settings.timezone)
    rule = sla_rule(settings)
    due = workflow.due_at(kind, now, rule, tz, planned_date, urgent, due_by)
    order = WorkOrder(
        registration_code=elevator.registration_code,
        unit_code=_unit_for(session, elevator, planned_date or now.astimezone(tz).date()),
        kind=kind.value,
        source=source.value,
        source_ref=source_ref,
        interval=interval.value if interval else None,
        summary=summary,
        urgent=urgent,
        state=WorkOrderState.OPEN.value,
        assignee="",
        planned_date=planned_date,
        due_at=due,
        created_at=now,
        created_by=actor.username,
        cancel_reason="",
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(order)
            session.flush()
    except IntegrityError:
        # the same source reference was opened at the same moment by another request: that one stands
        other = _by_source(session, source, source_ref) if source_ref is not None else None
        if other is None:
            raise
        return Outcome(other, created=False)
    session.add(WorkOrderTimer(work_order_id=order.id, kind=TimerKind.SLA.value, due_at=due, cancelled=False))
    session.add(
        WorkOrderTimer(
            work_order_id=order.id,
            kind=TimerKind.ESCALATION.value,
            due_at=workflow.escalation_at(due, rule),
            cancelled=False,
        )
    )
    _record(
        session,
        order,
        actor.username,
        "opened",
        now,
        kind=kind.value,
        source=source.value,
        source_ref=source_ref,
        due_at=due.isoformat(),
        urgent=urgent,
    )
    _file_entry(
        session,
        actor,
        order.registration_code,
        "work_order_opened",
        now,
        f"work-order:{order.id}:opened",
        work_order_id=order.id,
        kind=kind.value,
        source=source.value,
        unit=order.unit_code,
    )
    return Outcome(order, created=True)


def open_corrective(
    session: Session,
    actor: Actor,
    code: str,
    source: WorkOrderSource,
    source_ref: str | None,
    summary: str,
    clock: Clock,
    settings: Settings,
    urgent: bool = False,
    due_by: date | None = None,
) -> Outcome:
    """Open a repair work order (维修工单) on the elevator with this registration or rescue code, for a fault,
    a rescue, an inspection finding, a complaint, a hazard or by hand. Idempotent on ``(source,
    source_ref)``: the second call returns the first order (``created`` False). Due by the end of
    ``due_by`` (city clock) when the source sets a deadline, as an inspection's rectification period
    does; else within LIFTWATCH_MAINTENANCE_CORRECTIVE_SLA_H (URGENT_SLA_H when urgent)."""
    if actor.role not in OPENERS:
        raise Forbidden(f"role '{actor.role.value}' may not open work orders")
    if source is WorkOrderSource.PLAN:
        raise InvalidInput(FieldError("source", "a planned visit is a preventive work order"))
    if source is not WorkOrderSource.MANUAL and not source_ref:
        raise InvalidInput(FieldError("source_ref", f"a work order from a {source.value} names it"))
    elevator = _elevator(session, actor, code)
    return _open(
        session,
        actor,
        elevator,
        WorkOrderKind.CORRECTIVE,
        source,
        source_ref or None,
        summary,
        clock,
        settings,
        urgent=urgent,
        due_by=due_by,
    )


def open_preventive(
    session: Session,
    actor: Actor,
    code: str,
    planned_date: date,
    interval: Interval,
    clock: Clock,
    settings: Settings,
    source_ref: str | None = None,
    summary: str = "",
) -> Outcome:
    """Open the work order of a planned visit (维保工单): due by the end of ``planned_date`` on the city's
    clock; its worker records every item of ``interval`` (and the shorter ones) before signing. One order
    per visit: the reference defaults to ``<registration code>:<date>:<interval>``."""
    if actor.role not in (Role.ADMIN, Role.MAINTENANCE):
        raise Forbidden(f"role '{actor.role.value}' may not plan maintenance visits")
    elevator = _elevator(session, actor, code)
    if actor.role is Role.MAINTENANCE and _unit_for(session, elevator, planned_date) != _unit_code(
        session, actor
    ):
        raise NotFound(f"no elevator with registration code '{code}'")  # another unit holds its contract
    ref = source_ref or f"{elevator.registration_code}:{planned_date.isoformat()}:{interval.value}"
    return _open(
        session,
        actor,
        elevator,
        WorkOrderKind.PREVENTIVE,
        WorkOrderSource.PLAN,
        ref,
        summary,
        clock,
        settings,
        planned_date=planned_date,
        interval=interval,
    )


def _elevator(session: Session, actor: Actor, code: str) -> registry_queries.StoredElevator:
    """The elevator by its registration or rescue code, in the actor's scope (404 outside it)."""
    found = registry_queries.get_public_elevator(session, code)
    return registry_queries.get_elevator(session, actor, found.registration_code)


# ---------------------------------------------------------------- work orders: reading


def get_work_order(session: Session, actor: Actor, work_order_id: int) -> WorkOrder:
    stmt = _scoped(session, actor, select(WorkOrder).where(WorkOrder.id == work_order_id), WorkOrder)
    order: WorkOrder | None = session.scalars(stmt).first()
    if order is None:
        raise NotFound(f"no work order {work_order_id}")
    return order


def list_work_orders(
    session: Session,
    actor: Actor,
    registration_code: str | None = None,
    states: Sequence[WorkOrderState] = (),
    limit: int = 500,
) -> list[WorkOrder]:
    stmt = _scoped(session, actor, select(WorkOrder), WorkOrder)
    if registration_code:
        stmt = stmt.where(WorkOrder.registration_code == registration_code)
    if states:
        stmt = stmt.where(WorkOrder.state.in_([s.value for s in states]))
    return list(session.scalars(stmt.order_by(WorkOrder.id.desc()).limit(limit)))


def records_of(session: Session, order: WorkOrder) -> list[MaintenanceRecord]:
    """The records of a work order the caller already holds (so already in scope), oldest first."""
    return list(
        session.scalars(
            select(MaintenanceRecord)
            .where(MaintenanceRecord.work_order_id == order.id)
            .order_by(MaintenanceRecord.id)
        )
    )


def events_of(session: Session, order: WorkOrder) -> list[WorkOrderEvent]:
    return list(
        session.scalars(
            select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == order.id).order_by(WorkOrderEvent.id)
        )
    )


def notices_of(session: Session, order: WorkOrder) -> list[Notice]:
    rows = session.scalars(
        select(MaintenanceNotice)
        .where(MaintenanceNotice.work_order_id == order.id)
        .order_by(MaintenanceNotice.id)
    )
    return [Notice(r.work_order_id, r.kind, r.recipient, r.registration_code, r.details, r.key) for r in rows]


# ---------------------------------------------------------------- work orders: the steps


def _state(order: WorkOrder) -> WorkOrderState:
    return WorkOrderState(order.state)


def _must(order: WorkOrder, action: str, what: str) -> None:
    if not workflow.allowed(_state(order), action):
        raise Conflict(f"work order {order.id} is {order.state}: it cannot be {what} now")


def _unit_order(session: Session, actor: Actor, work_order_id: int, what: str) -> WorkOrder:
    """A work order the actor's role may change: an admin any, maintenance staff their unit's."""
    if actor.role not in (Role.ADMIN, Role.REGULATOR, Role.MAINTENANCE):
        raise Forbidden(f"role '{actor.role.value}' may not {what} work orders")
    return get_work_order(session, actor, work_order_id)


def _worker_order(session: Session, actor: Actor, work_order_id: int) -> WorkOrder:
    """A work order the acting worker does on site: their unit's, assigned to them."""
    if actor.role is not Role.MAINTENANCE:
        raise Forbidden("only the assigned maintenance worker records the work on site")
    order = get_work_order(session, actor, work_order_id)
    if order.assignee != actor.username:
        raise Conflict(f"work order {order.id} is assigned to '{order.assignee or 'nobody'}', not to you")
    return order


def _current(session: Session, order: WorkOrder) -> MaintenanceRecord:
    record = session.scalars(
        select(MaintenanceRecord)
        .where(MaintenanceRecord.work_order_id == order.id, MaintenanceRecord.amends_id.is_(None))
        .order_by(MaintenanceRecord.id.desc())
    ).first()
    if record is None:
        raise Conflict(f"work order {order.id} has no record yet: check in first")
    return record


def _unsigned(record: MaintenanceRecord) -> None:
    if record.worker_signed_at is not None:
        raise Conflict(
            f"record {record.id} was signed at {record.worker_signed_at.isoformat()} and cannot be changed: "
            "file an amendment"
        )


def _city_day(clock: Clock, tz: tzinfo | None) -> date:
    return clock.now().astimezone(tz or zone(CITY_TIMEZONE)).date()


def assign(
    session: Session, actor: Actor, work_order_id: int, assignee: str, clock: Clock, tz: tzinfo | None = None
) -> WorkOrder:
    """Give the work order to one worker of its unit (again while nobody is on site) who holds a valid
    elevator repair certificate (特种设备作业人员证, T) on the city's day (``tz``; default the documented
    LIFTWATCH_TIMEZONE): 409 naming why not."""
    if actor.role not in (Role.ADMIN, Role.MAINTENANCE):
        raise Forbidden(f"role '{actor.role.value}' may not assign work orders")
    order = get_work_order(session, actor, work_order_id)
    _must(order, "assign", "assigned")
    _check_person(session, order.unit_code, assignee, "assignee")
    people.require_certified(session, assignee, _city_day(clock, tz))
    now = clock.now()
    order.assignee = assignee
    order.state = WorkOrderState.ASSIGNED.value
    order.assigned_at = now
    order.updated_at = now
    _record(session, order, actor.username, "assigned", now, assignee=assignee)
    return order


def _at(given: datetime | None, now: datetime, name: str) -> datetime:
    if given is None:
        return now
    at = as_utc(given)
    if at > now:
        raise InvalidInput(FieldError(name, "must not be in the future"))
    return at


def check_in(
    session: Session,
    actor: Actor,
    work_order_id: int,
    latitude: float,
    longitude: float,
    scanned_code: str,
    clock: Clock,
    at: datetime | None = None,
) -> MaintenanceRecord:
    """The worker is on site: the code scanned in the car must be the elevator's (its rescue code or
    registration code), so a record cannot be made away from the elevator. Opens the record."""
    order = _worker_order(session, actor, work_order_id)
    _must(order, "check_in", "checked in")
    elevator = registry_queries.get_public_elevator(session, order.registration_code)
    scanned = registry_queries.normalise_code(scanned_code)
    if scanned.upper() not in {elevator.rescue_code.upper(), elevator.registration_code.upper()}:
        raise InvalidInput(FieldError("scanned_code", f"'{scanned_code[:40]}' is not this elevator's code"))
    now = clock.now()
    when = _at(at, now, "at")
    if when < order.created_at:
        raise InvalidInput(FieldError("at", "must not be before the work order was opened"))
    record = MaintenanceRecord(
        work_order_id=order.id,
        amends_id=None,
        amend_reason="",
        registration_code=order.registration_code,
        worker=actor.username,
        check_in_at=when,
        check_in_lat=latitude,
        check_in_lon=longitude,
        scanned_code=scanned,
        items=[],
        parts=[],
        unit_signed_by="",
        unit_note="",
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    order.state = WorkOrderState.IN_PROGRESS.value
    order.started_at = when
    order.updated_at = now
    session.flush()
    _record(
        session,
        order,
        actor.username,
        "checked_in",
        now,
        record_id=record.id,
        at=when.isoformat(),
        latitude=latitude,
        longitude=longitude,
    )
    return record


def _check_items(session: Session, order: WorkOrder, items: Sequence[ItemEntry]) -> list[dict[str, Any]]:
    """Validate item results against the TSG T5002 catalogue and the elevator's appendix."""
    catalogue = load_catalogue()
    elevator = registry_queries.get_public_elevator(session, order.registration_code)
    appendix = appendix_of(elevator.kind)
    seen: set[str] = set()
    errors: list[FieldError] = []
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(items):
        item = catalogue.item(entry.code)
        where = f"items.{i}"
        if item is None:
            errors.append(
                FieldError(
                    f"{where}.code", f"'{entry.code[:20]}' is not in the catalogue {catalogue.version}"
                )
            )
            continue
        if item.appendix != appendix:
            errors.append(
                FieldError(
                    f"{where}.code",
                    f"'{entry.code}' is of appendix {item.appendix.value}; "
                    f"this elevator takes appendix {appendix.value}",
                )
            )
            continue
        if entry.code in seen:
            errors.append(FieldError(f"{where}.code", f"'{entry.code}' given twice"))
            continue
        seen.add(entry.code)
        if (
            item.evidence.value == "measurement"
            and entry.result is not ItemResult.NOT_APPLICABLE
            and entry.value is None
        ):
            errors.append(
                FieldError(f"{where}.value", f"'{entry.code}' needs its measurement ({item.unit or 'value'})")
            )
            continue
        out.append(
            {"code": entry.code, "result": entry.result.value, "value": entry.value, "note": entry.note}
        )
    if errors:
        raise InvalidInput(errors)
    return out


def _merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_code = {row["code"]: row for row in old}
    for row in new:
        by_code[row["code"]] = row
    return sorted(by_code.values(), key=lambda r: str(r["code"]))


def _parts(parts: Sequence[PartEntry]) -> list[dict[str, Any]]:
    return [{"name": p.name, "quantity": p.quantity, "note": p.note} for p in parts]


def record_results(
    session: Session,
    actor: Actor,
    work_order_id: int,
    items: Sequence[ItemEntry],
    parts: Sequence[PartEntry],
    clock: Clock,
) -> MaintenanceRecord:
    """Add or replace item results (by code) and list the parts replaced, until the worker signs."""
    order = _worker_order(session, actor, work_order_id)
    record = _current(session, order)
    _unsigned(record)
    _must(order, "results", "recorded")
    rows = _check_items(session, order, items)
    now = clock.now()
    record.items = _merge(list(record.items), rows)
    if parts:
        record.parts = [*record.parts, *_parts(parts)]
    record.updated_at = now
    order.updated_at = now
    _record(
        session, order, actor.username, "results", now, record_id=record.id, items=len(rows), parts=len(parts)
    )
    return record


def check_out(
    session: Session,
    actor: Actor,
    work_order_id: int,
    latitude: float,
    longitude: float,
    clock: Clock,
    at: datetime | None = None,
) -> MaintenanceRecord:
    order = _worker_order(session, actor, work_order_id)
    record = _current(session, order)
    _unsigned(record)
    _must(order, "check_out", "checked out")
    if record.check_out_at is not None:
        raise Conflict(f"record {record.id} was checked out at {record.check_out_at.isoformat()}")
    now = clock.now()
    when = _at(at, now, "at")
    if when < as_utc(record.check_in_at):
        raise InvalidInput(FieldError("at", "must not be before the check-in"))
    record.check_out_at = when
    record.check_out_lat = latitude
    record.check_out_lon = longitude
    record.updated_at = now
    order.updated_at = now
    _record(session, order, actor.username, "checked_out", now, record_id=record.id, at=when.isoformat())
    return record


def _cancel_timers(session: Session, order: WorkOrder) -> None:
    session.execute(
        update(WorkOrderTimer)
        .where(WorkOrderTimer.work_order_id == order.id, WorkOrderTimer.fired_at.is_(None))
        .values(cancelled=True)
    )


def sign(
    session: Session, actor: Actor, work_order_id: int, clock: Clock, tz: tzinfo | None = None
) -> MaintenanceRecord:
    """The worker signs the record: from now on it is never changed, and the work order is completed (the
    SLA is met when this is by ``due_at``). A planned visit's record must hold every item its interval
    carries (TSG T5002: a longer interval's visit includes the shorter ones'). Only a holder of a valid
    elevator repair certificate (T) on the city's day signs: 409 naming why not."""
    order = _worker_order(session, actor, work_order_id)
    people.require_certified(session, actor.username, _city_day(clock, tz))
    record = _current(session, order)
    _unsigned(record)
    _must(order, "sign", "signed")
    if record.check_out_at is None:
        raise Conflict(f"work order {order.id}: check out before signing")
    if order.interval:
        elevator = registry_queries.get_public_elevator(session, order.registration_code)
        due = load_catalogue().items_due(appendix_of(elevator.kind), Interval(order.interval))
        done = {row["code"] for row in record.items}
        missing = [item.code for item in due if item.code not in done]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise InvalidInput(
                FieldError("items", f"{len(missing)} items of the visit have no result: {shown}")
            )
    now = clock.now()
    record.worker_signed_at = now
    record.updated_at = now
    order.state = WorkOrderState.COMPLETED.value
    order.completed_at = now
    order.updated_at = now
    _cancel_timers(session, order)
    met = now <= as_utc(order.due_at)
    _record(session, order, actor.username, "signed", now, record_id=record.id, sla_met=met)
    _file_entry(
        session,
        actor,
        order.registration_code,
        "work_order_completed",
        now,
        f"work-order:{order.id}:completed",
        work_order_id=order.id,
        kind=order.kind,
        sla_met=met,
        items=len(record.items),
        parts=len(record.parts),
    )
    judge_record(session, order, record, now)
    return record


def confirm(session: Session, actor: Actor, work_order_id: int, clock: Clock, note: str = "") -> WorkOrder:
    """The use unit (使用单位) signs the completed work order off."""
    if actor.role is not Role.USE_UNIT:
        raise Forbidden("only the elevator's use unit signs a work order off")
    order = get_work_order(session, actor, work_order_id)
    _must(order, "confirm", "confirmed")
    record = _current(session, order)
    now = clock.now()
    record.unit_signed_at = now
    record.unit_signed_by = actor.username
    record.unit_note = note
    order.state = WorkOrderState.CONFIRMED.value
    order.confirmed_at = now
    order.updated_at = now
    _record(session, order, actor.username, "confirmed", now, record_id=record.id, note=note)
    return order


def cancel(session: Session, actor: Actor, work_order_id: int, reason: str, clock: Clock) -> WorkOrder:
    order = _unit_order(session, actor, work_order_id, "cancel")
    _must(order, "cancel", "cancelled")
    if not reason.strip():
        raise InvalidInput(FieldError("reason", "say why the work order is cancelled"))
    now = clock.now()
    order.state = WorkOrderState.CANCELLED.value
    order.cancelled_at = now
    order.cancel_reason = reason.strip()
    order.updated_at = now
    _cancel_timers(session, order)
    _record(session, order, actor.username, "cancelled", now, reason=reason.strip())
    return order


def amend(
    session: Session,
    actor: Actor,
    work_order_id: int,
    reason: str,
    items: Sequence[ItemEntry],
    parts: Sequence[PartEntry],
    clock: Clock,
) -> MaintenanceRecord:
    """Correct a signed record: a new record, signed by the amending worker, naming the record it amends
    (the latest: an earlier amendment or the original) and why. The original stays as it was."""
    if actor.role is not Role.MAINTENANCE:
        raise Forbidden("only maintenance staff of the unit amend its records")
    order = get_work_order(session, actor, work_order_id)
    _must(order, "amend", "amended")
    if not reason.strip():
        raise InvalidInput(FieldError("reason", "say what the amendment corrects"))
    rows = _check_items(session, order, items)
    latest = session.scalars(
        select(MaintenanceRecord)
        .where(MaintenanceRecord.work_order_id == order.id)
        .order_by(MaintenanceRecord.id.desc())
    ).first()
    if latest is None:  # a completed order always has its signed record
        raise Conflict(f"work order {order.id} has no record to amend")
    now = clock.now()
    record = MaintenanceRecord(
        work_order_id=order.id,
        amends_id=latest.id,
        amend_reason=reason.strip(),
        registration_code=order.registration_code,
        worker=actor.username,
        check_in_at=latest.check_in_at,
        check_in_lat=latest.check_in_lat,
        check_in_lon=latest.check_in_lon,
        scanned_code=latest.scanned_code,
        check_out_at=latest.check_out_at,
        check_out_lat=latest.check_out_lat,
        check_out_lon=latest.check_out_lon,
        items=_merge(list(latest.items), rows),
        parts=[*latest.parts, *_parts(parts)],
        worker_signed_at=now,
        unit_signed_by="",
        unit_note="",
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    order.updated_at = now
    _record(
        session,
        order,
        actor.username,
        "amended",
        now,
        record_id=record.id,
        amends=latest.id,
        reason=reason.strip(),
    )
    _file_entry(
        session,
        actor,
        order.registration_code,
        "work_order_amended",
        now,
        f"work-order:{order.id}:amended:{record.id}",
        work_order_id=order.id,
        record_id=record.id,
        reason=reason.strip(),
    )
    return record


# ---------------------------------------------------------------- fake-maintenance flags

FLAG_REVIEWERS = frozenset({Role.ADMIN, Role.REGULATOR})
FLAG_STATES = ("open", "confirmed", "dismissed")
# Judged at signing from what the database holds: position, the worker's other visits, duration against
# the items. The telemetry kinds (an elevator with an IoT terminal) wait for the pipeline to have recorded
# the visit: a TELEMETRY timer due at check-out + the mode slack, fired
# LIFTWATCH_MAINTENANCE_TELEMETRY_LAG_MIN later, judges them (judge_telemetry).
TELEMETRY_PENDING = "judged from the terminal's record after check-out (telemetry timer)"
# The summary's window for online spans: an outage that began before check-in must be seen to begin
ONLINE_MARGIN = timedelta(hours=2)
# At most this many runs are placed per stretch between two counter readings (evidence figures only)
_MAX_RUNS = 10_000
StoredFlag: TypeAlias = MaintenanceFlag


def _visit(record: MaintenanceRecord, elevator: registry_queries.StoredElevator | None) -> fakes.Visit:
    catalogue = load_catalogue()
    items = []
    for row in record.items:
        item = catalogue.item(str(row["code"]))
        items.append(fakes.SignedItem(str(row["code"]), item.evidence if item else Evidence.NONE))
    at = None
    if elevator is not None and elevator.latitude is not None and elevator.longitude is not None:
        at = fakes.Point(elevator.latitude, elevator.longitude)
    out = None
    if record.check_out_lat is not None and record.check_out_lon is not None:
        out = fakes.Point(record.check_out_lat, record.check_out_lon)
    check_in = as_utc(record.check_in_at)
    return fakes.Visit(
        id=str(record.id),
        elevator=record.registration_code,
        worker=record.worker,
        check_in=check_in,
        check_out=as_utc(record.check_out_at) if record.check_out_at else check_in,
        items=tuple(items),
        check_in_at=fakes.Point(record.check_in_lat, record.check_in_lon),
        check_out_at=out,
        elevator_at=at,
    )


def _store_flag(
    session: Session, record: MaintenanceRecord, unit_code: str, flag: fakes.Flag, now: datetime
) -> MaintenanceFlag | None:
    other = flag.evidence.get("other_visit", "")
    key = f"record:{record.id}:{flag.kind.value}" + (f":{other}" if other else "")
    if session.scalars(select(MaintenanceFlag.id).where(MaintenanceFlag.key == key)).first() is not None:
        return None
    row = MaintenanceFlag(
        key=key,
        work_order_id=record.work_order_id,
        record_id=record.id,
        registration_code=record.registration_code,
        unit_code=unit_code,
        worker=record.worker,
        kind=flag.kind.value,
        evidence=dict(flag.evidence),
        state="open",
        created_at=now,
        reviewer="",
        note="",
        reviewed_at=None,
    )
    session.add(row)
    return row


def judge_record(
    session: Session, order: WorkOrder, record: MaintenanceRecord, now: datetime
) -> fakes.Judgement:
    """Run the fake-maintenance rules (maintenance/fakes.py) over a record just signed, with what the
    database knows: the check-in position against the elevator's, the same worker's signed visits of the
    day around it (both of a clashing pair are flagged), the duration against the items signed. The
    telemetry kinds are judged later (``TELEMETRY_PENDING``: a ``telemetry`` timer is added once) when the
    elevator has an IoT terminal, else listed as not judged (no IoT terminal). Flags are stored ``open``
    for a regulator; judging again adds nothing."""
    elevator = registry_queries.get_public_elevator(session, record.registration_code)
    visit = _visit(record, elevator)
    day = timedelta(days=1)
    nearby = session.scalars(
        select(MaintenanceRecord).where(
            MaintenanceRecord.worker == record.worker,
            MaintenanceRecord.id != record.id,
            MaintenanceRecord.amends_id.is_(None),
            MaintenanceRecord.worker_signed_at.is_not(None),
            MaintenanceRecord.check_in_at >= visit.check_in - day,
            MaintenanceRecord.check_in_at <= visit.check_out + day,
        )
    ).all()
    by_id = {str(r.id): r for r in nearby}
    codes = {r.registration_code for r in nearby}
    elevators = {code: registry_queries.get_public_elevator(session, code) for code in codes}
    others = [_visit(r, elevators[r.registration_code]) for r in nearby]
    found = fakes.judge_visit(visit, None, others)
    not_judged = found.not_judged
    if elevator.iot_terminal_id:
        not_judged = tuple(
            fakes.NotJudged(n.kind, TELEMETRY_PENDING) if n.kind in fakes.TELEMETRY_KINDS else n
            for n in found.not_judged
        )
        _schedule_telemetry_judge(session, order, visit)
    for flag in found.flags:
        _store_flag(session, record, order.unit_code, flag, now)
        other = by_id.get(str(flag.evidence.get("other_visit", "")))
        if other is not None and flag.kind is fakes.FakeKind.TWO_PLACES_AT_ONCE:
            mirrored = fakes.Flag(
                flag.kind,
                {**flag.evidence, "other_visit": str(record.id), "other_elevator": record.registration_code},
            )
            other_order = session.get(WorkOrder, other.work_order_id)
            _store_flag(session, other, other_order.unit_code if other_order else "", mirrored, now)
    session.flush()
    if found.flags:
        log.info(
            "record %d of work order %d flagged: %s",
            record.id,
            order.id,
            ", ".join(sorted(f.kind.value for f in found.flags)),
        )
    return fakes.Judgement(found.visit_id, found.flags, not_judged)


def _schedule_telemetry_judge(session: Session, order: WorkOrder, visit: fakes.Visit) -> None:
    """The durable deadline of the telemetry kinds: check-out + the mode slack (the last moment the rules
    look at), once per work order."""
    exists = session.scalars(
        select(WorkOrderTimer.id).where(
            WorkOrderTimer.work_order_id == order.id, WorkOrderTimer.kind == TimerKind.TELEMETRY.value
        )
    ).first()
    if exists is not None:
        return
    slack = timedelta(minutes=fakes.FakeSettings().mode_slack_minutes)
    session.add(
        WorkOrderTimer(
            work_order_id=order.id,
            kind=TimerKind.TELEMETRY.value,
            due_at=visit.check_out + slack,
            cancelled=False,
        )
    )


def _clip(spans: Sequence[telemetry_queries.Span], lo: datetime, hi: datetime) -> tuple[fakes.Span, ...]:
    return tuple(fakes.Span(max(s.start, lo), min(s.end, hi)) for s in spans if s.end > lo and s.start < hi)


def _runs(
    history: telemetry_queries.ServiceHistory,
    normal: Sequence[telemetry_queries.Span],
    now: telemetry_queries.Counters | None,
) -> tuple[fakes.Span, ...]:
    """The runs in normal service, approximated from the trip counter: between two consecutive readings
    (the changes that carried a trip count, and the live count now) the difference is spread evenly over
    the time between them, and the runs falling inside a normal-service span count (as instants). A
    counter that went down (reset) or a stretch without readings gives none."""
    readings = [(c.at, c.trips) for c in (*history.before, *history.changes) if c.trips is not None]
    readings.sort(key=lambda r: r[0])
    if now is not None and now.trips is not None and (not readings or now.at > readings[-1][0]):
        readings.append((now.at, now.trips))
    lo, hi = history.window.start, history.window.end
    runs: list[fakes.Span] = []
    for (a, ta), (b, tb) in itertools.pairwise(readings):
        n = tb - ta
        if n <= 0 or b <= lo or a >= hi or b <= a:
            continue
        step = (b - a).total_seconds() / n  # run i at a + (i + 0.5) step; only those in the window
        first = max(0, math.ceil((lo - a).total_seconds() / step - 0.5))
        last = min(n, math.ceil((hi - a).total_seconds() / step - 0.5), first + _MAX_RUNS)
        for i in range(first, last):
            at = a + timedelta(seconds=step * (i + 0.5))
            if any(s.start <= at < s.end for s in normal):
                runs.append(fakes.Span(at, at))
    return tuple(runs)


def telemetry_of_visit(
    session: Session, visit: fakes.Visit, settings: fakes.FakeSettings | None = None
) -> fakes.Telemetry:
    """The summary the fake-maintenance rules read (fakes.Telemetry) from the pipeline's record of the
    elevator (telemetry/queries.py): online spans over the visit +- ``ONLINE_MARGIN``, the inspection and
    normal-service spans over the visit +- the mode slack (known only while online), the runs from the trip
    counter (``_runs``)."""
    s = settings or fakes.FakeSettings()
    lo, hi = visit.check_in - ONLINE_MARGIN, visit.check_out + ONLINE_MARGIN
    history = telemetry_queries.service_history(session, visit.elevator, lo, hi)
    slack = timedelta(minutes=s.mode_slack_minutes)
    mlo, mhi = visit.check_in - slack, visit.check_out + slack
    normal = history.spans(ServiceMode.NORMAL)
    now = telemetry_queries.counters_now(session, visit.elevator)
    return fakes.Telemetry(
        window=fakes.Span(lo, hi),
        online=_clip(history.online, lo, hi),
        inspection=_clip(history.spans(ServiceMode.INSPECTION), mlo, mhi),
        normal=_clip(normal, mlo, mhi),
        runs=_runs(history, normal, now),
    )


def judge_telemetry(session: Session, order: WorkOrder, now: datetime) -> fakes.Judgement | None:
    """The telemetry kinds (no_inspection_mode, normal_service_during_visit, terminal_offline) of the order's
    signed record, from the pipeline's record of the elevator; fired by its ``telemetry`` timer. Flags are
    stored as at signing (open, keyed: judging again adds nothing). None: the order has no signed record."""
    record = session.scalars(
        select(MaintenanceRecord)
        .where(
            MaintenanceRecord.work_order_id == order.id,
            MaintenanceRecord.amends_id.is_(None),
            MaintenanceRecord.worker_signed_at.is_not(None),
        )
        .order_by(MaintenanceRecord.id)
    ).first()
    if record is None:
        return None
    elevator = registry_queries.get_public_elevator(session, record.registration_code)
    visit = _visit(record, elevator)
    summary = telemetry_of_visit(session, visit) if elevator.iot_terminal_id else None
    found = fakes.judge_visit(visit, summary)
    flags = tuple(f for f in found.flags if f.kind in fakes.TELEMETRY_KINDS)
    not_judged = tuple(n for n in found.not_judged if n.kind in fakes.TELEMETRY_KINDS)
    for flag in flags:
        _store_flag(session, record, order.unit_code, flag, now)
    session.flush()
    if flags:
        log.info(
            "record %d of work order %d flagged from telemetry: %s",
            record.id,
            order.id,
            ", ".join(sorted(f.kind.value for f in flags)),
        )
    return fakes.Judgement(found.visit_id, flags, not_judged)


def list_flags(
    session: Session,
    actor: Actor,
    state: str | None = None,
    registration_code: str | None = None,
    limit: int = 500,
) -> list[MaintenanceFlag]:
    """Flags in the actor's scope (the centre all; maintenance staff their unit's; a use unit those on its
    elevators), newest first."""
    stmt = _scoped(session, actor, select(MaintenanceFlag), MaintenanceFlag)
    if state:
        if state not in FLAG_STATES:
            raise InvalidInput(FieldError("state", f"one of {', '.join(FLAG_STATES)}"))
        stmt = stmt.where(MaintenanceFlag.state == state)
    if registration_code:
        stmt = stmt.where(MaintenanceFlag.registration_code == registration_code)
    return list(session.scalars(stmt.order_by(MaintenanceFlag.id.desc()).limit(limit)))


def flags_of_elevator(session: Session, actor: Actor, registration_code: str) -> list[MaintenanceFlag]:
    """The flags of one elevator for its file (一梯一档), whatever their state, newest first."""
    return list_flags(session, actor, registration_code=registration_code)


def get_flag(session: Session, actor: Actor, flag_id: int) -> MaintenanceFlag:
    stmt = _scoped(
        session, actor, select(MaintenanceFlag).where(MaintenanceFlag.id == flag_id), MaintenanceFlag
    )
    flag: MaintenanceFlag | None = session.scalars(stmt).first()
    if flag is None:
        raise NotFound(f"no maintenance flag {flag_id}")
    return flag


def review_flag(
    session: Session, actor: Actor, flag_id: int, decision: str, note: str, clock: Clock
) -> MaintenanceFlag:
    """A regulator confirms a flag (the visit was fake) or dismisses it (it was not), saying why: the note
    is required either way and goes on the elevator file. A reviewed flag is not reviewed again (409)."""
    if actor.role not in FLAG_REVIEWERS:
        raise Forbidden(f"role '{actor.role.value}' may not review maintenance flags")
    if decision not in ("confirmed", "dismissed"):
        raise InvalidInput(FieldError("decision", "confirmed or dismissed"))
    if not note.strip():
        raise InvalidInput(FieldError("note", "say why"))
    flag = get_flag(session, actor, flag_id)
    if flag.state != "open":
        raise Conflict(f"flag {flag.id} was already {flag.state} by '{flag.reviewer}'")
    now = clock.now()
    flag.state = decision
    flag.reviewer = actor.username
    flag.note = note.strip()
    flag.reviewed_at = now
    session.flush()
    _file_entry(
        session,
        actor,
        flag.registration_code,
        "maintenance_flag_reviewed",
        now,
        f"maintenance-flag:{flag.id}:reviewed",
        flag_id=flag.id,
        work_order_id=flag.work_order_id,
        kind=flag.kind,
        decision=decision,
        note=flag.note,
    )
    return flag


# ---------------------------------------------------------------- deadlines


def fire_due_timers(session: Session, clock: Clock, settings: Settings) -> list[Notice]:
    """Fire every due deadline; a worker loop calls this every few seconds, in any process, after any
    restart (PostgreSQL: rows locked with SKIP LOCKED so two schedulers never fire one twice). SLA: an order
    not yet signed is overdue (event, notices to its maintenance unit and use unit); escalation: still not
    signed, the regulator is told; telemetry: ``maintenance_telemetry_lag_min`` after it is due (the
    pipeline's lag), the signed visit's telemetry kinds are judged (``judge_telemetry``). The caller
    commits."""
    now = clock.now()
    lagged = now - timedelta(minutes=settings.maintenance_telemetry_lag_min)
    telemetry_kind = TimerKind.TELEMETRY.value
    when = or_(
        and_(WorkOrderTimer.kind != telemetry_kind, WorkOrderTimer.due_at <= now),
        and_(WorkOrderTimer.kind == telemetry_kind, WorkOrderTimer.due_at <= lagged),
    )
    notices: list[Notice] = []
    for timer in deadlines.fire_due(session, WorkOrderTimer, now, when):
        order = session.get(WorkOrder, timer.work_order_id)
        if timer.kind == telemetry_kind:
            if order is not None:
                _judge_telemetry_safely(session, order, now)
            continue
        if order is None or _state(order) in workflow.FINISHED:
            continue
        due = as_utc(timer.due_at)
        details = {"due_at": as_utc(order.due_at).isoformat(), "state": order.state, "unit": order.unit_code}
        if timer.kind == TimerKind.SLA.value:
            order.overdue_at = due
            event = _record(session, order, "scheduler", "overdue", due, **details)
            recipients = [order.unit_code]
            elevator = registry_queries.get_public_elevator(session, order.registration_code)
            if elevator.use_unit is not None:
                recipients.append(elevator.use_unit.code)
            notices += [_notice(session, order, event, "overdue", r, details) for r in recipients]
            _file_entry(
                session,
                "scheduler",
                order.registration_code,
                "work_order_overdue",
                due,
                f"work-order:{order.id}:overdue",
                work_order_id=order.id,
                unit=order.unit_code,
            )
        elif timer.kind == TimerKind.ESCALATION.value:
            order.escalated_at = due
            event = _record(session, order, "scheduler", "escalated", due, **details)
            notices.append(_notice(session, order, event, "escalated", REGULATOR, details))
        order.updated_at = now
    session.flush()
    return notices


def _judge_telemetry_safely(session: Session, order: WorkOrder, now: datetime) -> None:
    """One visit's judgement in a savepoint: a failure is logged (the timer stays fired) and does not hold
    the other deadlines of the run."""
    try:
        with session.begin_nested():
            judge_telemetry(session, order, now)
    except Exception:
        log.exception("work order %d: the telemetry kinds of fake maintenance could not be judged", order.id)


# ---------------------------------------------------------------- photos


def add_attachment(
    session: Session,
    actor: Actor,
    work_order_id: int,
    stream: BinaryIO,
    declared_type: str | None,
    filename: str,
    clock: Clock,
    settings: Settings,
) -> tuple[Attachment, files.StagedFile]:
    """Stage a photo of a work order (its worker's unit) and add its row; the caller commits with
    :func:`commit_attachment`, which moves the file in place only once the row is committed."""
    if actor.role is not Role.MAINTENANCE:
        raise Forbidden("only maintenance staff of the unit attach photos to its work orders")
    order = get_work_order(session, actor, work_order_id)
    if _state(order) is WorkOrderState.CANCELLED:
        raise Conflict(f"work order {order.id} is cancelled")
    now = clock.now()
    staged = files.stage(settings.var_dir, stream, declared_type, settings.upload_max_mb, now)
    try:
        record = session.scalars(
            select(MaintenanceRecord)
            .where(MaintenanceRecord.work_order_id == order.id)
            .order_by(MaintenanceRecord.id.desc())
        ).first()
        row = Attachment(
            work_order_id=order.id,
            record_id=record.id if record else None,
            path=staged.relative,
            content_type=staged.content_type,
            size=staged.size,
            sha256=staged.sha256,
            filename=filename[:200],
            uploaded_by=actor.username,
            uploaded_at=now,
        )
        session.add(row)
        session.flush()
        _record(session, order, actor.username, "photo", now, attachment_id=row.id, sha256=staged.sha256)
    except BaseException:
        staged.discard()
        raise
    return row, staged


def commit_attachment(session: Session, staged: files.StagedFile) -> None:
    """Commit the session, then move the photo in place; if the commit fails, the photo is removed: neither
    a row without its file nor a file without its row remains."""
    try:
        session.commit()
    except BaseException:
        session.rollback()
        staged.discard()
        raise
    staged.publish()


def get_attachment(
    session: Session, actor: Actor, attachment_id: int, settings: Settings
) -> tuple[Attachment, Path]:
    """A photo and its file, if its work order is in the actor's scope."""
    _require_reader(actor)
    row = session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"no attachment {attachment_id}")
    try:
        get_work_order(session, actor, row.work_order_id)
    except NotFound:
        raise NotFound(f"no attachment {attachment_id}") from None
    path = settings.var_dir / row.path
    if not path.is_file():
        raise NotFound(f"attachment {attachment_id}: its file is missing")
    return row, path


def attachments_of(session: Session, order: WorkOrder) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment).where(Attachment.work_order_id == order.id).order_by(Attachment.id)
        )
    )
