"""The regulator's reads of maintenance (维保监管): work orders past their deadline, fake-maintenance flags
filtered by kind and unit with the visits they were found on, and the flags counted per maintenance unit.

These are the whole city's lists: only the centre's overseers (admin, regulator) read them; every other
role is refused (403). Writes stay in ``maintenance.service`` (a flag is reviewed with ``review_flag``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.errors import FieldError, Forbidden, InvalidInput
from liftwatch.maintenance import service
from liftwatch.maintenance.fakes import FakeKind
from liftwatch.maintenance.models import MaintenanceFlag, MaintenanceRecord, WorkOrder
from liftwatch.maintenance.workflow import FINISHED, WorkOrderKind, WorkOrderState
from liftwatch.registry import queries as registry_queries

OVERSEERS = frozenset({Role.ADMIN, Role.REGULATOR})
#: A work order not yet signed by its worker: past ``due_at`` it is overdue.
UNSIGNED = tuple(s.value for s in WorkOrderState if s not in FINISHED)
LIMIT = 2000


def _require(actor: Actor) -> None:
    if actor.role not in OVERSEERS:
        raise Forbidden(f"role '{actor.role.value}' may not read the maintenance oversight lists")


def overdue_orders(
    session: Session,
    actor: Actor,
    now: datetime,
    kind: WorkOrderKind,
    unit_code: str | None = None,
    district: str | None = None,
    limit: int = LIMIT,
) -> list[service.StoredWorkOrder]:
    """Work orders of ``kind`` not signed by their ``due_at`` (preventive: a visit missed; corrective: a
    repair past its SLA), urgent first, then the longest overdue; optionally of one maintenance unit and/or
    one district."""
    _require(actor)
    stmt = select(WorkOrder).where(
        WorkOrder.kind == kind.value,
        WorkOrder.state.in_(UNSIGNED),
        WorkOrder.due_at < now,
    )
    if unit_code:
        stmt = stmt.where(WorkOrder.unit_code == unit_code)
    if district:
        stmt = stmt.where(WorkOrder.registration_code.in_(registry_queries.code_subquery(district=district)))
    stmt = stmt.order_by(WorkOrder.urgent.desc(), WorkOrder.due_at, WorkOrder.id).limit(limit)
    return list(session.scalars(stmt))


def find_flags(
    session: Session,
    actor: Actor,
    state: str | None = None,
    kind: str | None = None,
    unit_code: str | None = None,
    limit: int = LIMIT,
) -> list[service.StoredFlag]:
    """Flags by state, kind and maintenance unit, newest first (``service.list_flags`` filters by state and
    elevator only)."""
    _require(actor)
    stmt = select(MaintenanceFlag)
    if state:
        if state not in service.FLAG_STATES:
            raise InvalidInput(FieldError("state", f"one of {', '.join(service.FLAG_STATES)}"))
        stmt = stmt.where(MaintenanceFlag.state == state)
    if kind:
        if kind not in {k.value for k in FakeKind}:
            raise InvalidInput(FieldError("kind", "a fake-maintenance kind"))
        stmt = stmt.where(MaintenanceFlag.kind == kind)
    if unit_code:
        stmt = stmt.where(MaintenanceFlag.unit_code == unit_code)
    return list(session.scalars(stmt.order_by(MaintenanceFlag.id.desc()).limit(limit)))


def visits_of(
    session: Session, actor: Actor, flags: Sequence[service.StoredFlag]
) -> dict[int, service.StoredRecord]:
    """The signed records (visits) the flags were found on, by record id, in one query."""
    _require(actor)
    ids = sorted({f.record_id for f in flags})
    if not ids:
        return {}
    rows = session.scalars(select(MaintenanceRecord).where(MaintenanceRecord.id.in_(ids)))
    return {r.id: r for r in rows}


@dataclass(frozen=True)
class UnitFlags:
    """A maintenance unit's flags by state: a first signal for its rating (issue 14), not a verdict."""

    unit_code: str
    open: int = 0
    confirmed: int = 0
    dismissed: int = 0


def flag_counts(session: Session, actor: Actor) -> list[UnitFlags]:
    """Flags per maintenance unit and state; the units with the most confirmed, then open, first."""
    _require(actor)
    stmt = select(MaintenanceFlag.unit_code, MaintenanceFlag.state, func.count()).group_by(
        MaintenanceFlag.unit_code, MaintenanceFlag.state
    )
    counts: dict[str, dict[str, int]] = {}
    for unit, state, n in session.execute(stmt):
        counts.setdefault(str(unit), {})[str(state)] = int(n)
    out = [
        UnitFlags(unit, by.get("open", 0), by.get("confirmed", 0), by.get("dismissed", 0))
        for unit, by in counts.items()
    ]
    return sorted(out, key=lambda u: (-u.confirmed, -u.open, u.unit_code))
