"""The work order's (工单) rules, pure: its kinds, sources, states and the moves between them, the result of
a maintenance item, and when a work order is due (its SLA). No SQL, no HTTP: the service applies these.

Life of a work order: open -> assigned -> in_progress (the worker checked in on site) -> completed (checked
out and signed by the worker) -> confirmed (the use unit signed it off); open, assigned and in_progress may
be cancelled. The SLA is met when the worker signs by ``due_at``: a preventive order by the end of its
planned day on the city's clock (TSG T5002: the visit is due on its planned date), a corrective one within
``corrective_sla_h`` of being opened (``urgent_sla_h`` when urgent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum


class WorkOrderKind(StrEnum):
    PREVENTIVE = "preventive"  # 维保: a planned visit
    CORRECTIVE = "corrective"  # 维修: a repair after a fault, a rescue, an inspection finding, ...


class WorkOrderSource(StrEnum):
    """Why the work order exists; with ``source_ref`` it is the idempotency key (one order per reference)."""

    PLAN = "plan"
    FAULT = "fault"
    RESCUE = "rescue"
    INSPECTION = "inspection"
    COMPLAINT = "complaint"
    HAZARD = "hazard"
    RECALL = "recall"  # a manufacturer's recall of a part (parts.service)
    MANUAL = "manual"


class WorkOrderState(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class ItemResult(StrEnum):
    """What the worker found on one catalogue item."""

    OK = "ok"  # 正常
    FIXED = "fixed"  # 已调整/修复
    NOT_OK = "not_ok"  # 异常, not fixed on this visit
    NOT_APPLICABLE = "not_applicable"  # 无此项


class TimerKind(StrEnum):
    SLA = "sla"  # not signed by due_at: overdue, the units are told
    ESCALATION = "escalation"  # still not signed escalation_h later: the regulator is told
    # a signed visit's telemetry window closed (check-out + mode slack; fired
    # LIFTWATCH_MAINTENANCE_TELEMETRY_LAG_MIN later): judge its telemetry kinds of fake maintenance
    TELEMETRY = "telemetry"


# state -> the actions allowed in it (the service refuses the others with 409, naming the state)
MOVES: dict[WorkOrderState, frozenset[str]] = {
    WorkOrderState.OPEN: frozenset({"assign", "cancel"}),
    WorkOrderState.ASSIGNED: frozenset({"assign", "check_in", "cancel"}),
    WorkOrderState.IN_PROGRESS: frozenset({"results", "check_out", "sign", "cancel"}),
    WorkOrderState.COMPLETED: frozenset({"confirm", "amend"}),
    WorkOrderState.CONFIRMED: frozenset({"amend"}),
    WorkOrderState.CANCELLED: frozenset(),
}

FINISHED = frozenset({WorkOrderState.COMPLETED, WorkOrderState.CONFIRMED, WorkOrderState.CANCELLED})


def allowed(state: WorkOrderState, action: str) -> bool:
    return action in MOVES[state]


@dataclass(frozen=True)
class SlaRule:
    corrective_sla_h: float
    urgent_sla_h: float
    escalation_h: float


def due_at(
    kind: WorkOrderKind,
    opened_at: datetime,
    rule: SlaRule,
    tz: tzinfo,
    planned_date: date | None = None,
    urgent: bool = False,
    due_by: date | None = None,
) -> datetime:
    """When the work order must be signed. Preventive: the end of the planned day in the city (midnight
    after it, local time; the opening day when no date is given). Corrective: the end of ``due_by`` when
    its source set a deadline (an inspection's rectification period), else ``urgent_sla_h`` or
    ``corrective_sla_h`` after opening."""
    last_day = planned_date if kind is WorkOrderKind.PREVENTIVE else due_by
    if kind is WorkOrderKind.PREVENTIVE or last_day is not None:
        day = last_day or opened_at.astimezone(tz).date()
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz).astimezone(UTC)
    hours = rule.urgent_sla_h if urgent else rule.corrective_sla_h
    return opened_at + timedelta(hours=hours)


def escalation_at(due: datetime, rule: SlaRule) -> datetime:
    return due + timedelta(hours=rule.escalation_h)
