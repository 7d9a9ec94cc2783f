"""The hazard domain's only writer: hidden dangers (隐患) from report to the regulator's verification, their
rectification deadlines on durable timers, escalation when overdue, supervised rectification (挂牌督办) and
the corrective work orders they open in maintenance.

Scope (outside it a hazard is *not found*): admins, regulators and inspectors read every hazard; maintenance
and use-unit staff those on the elevators their unit maintains or uses, and those their unit must rectify.
The 96333 operators and gateways: none (403); the public sees only the list of supervised rectifications
(``public_supervised``: no person, no free text). Reporting: the centre and inspectors on any elevator, unit
staff on their own elevators (another unit's elevator: 404). A forbidden move on a visible hazard is 403, a
move its state does not allow 409 (workflow.py).

A hazard is reported once per ``(source, source_ref)``: an inspection finding, a complaint or a monitoring
alarm reported again returns the hazard already there. Its escalation steps are rows of ``hazard_timers``
fired by ``fire_due_timers`` in any process, after any restart (SKIP LOCKED on PostgreSQL), as maintenance's
work-order deadlines are; the notices they send are rows of ``hazard_notices``, written with the change.
Each change is a ``hazard_events`` row, and the report, the fix, the verdict, overdue and supervision are
entries on the elevator file (一梯一档).

The emergency use of the repair fund (维修资金紧急使用, fund.py) for a hazard on a residential elevator: the
elevator's use unit asks (``request_fund``, idempotent on its request key; at most one open request per
hazard), the regulator or an admin approves an amount up to the one asked for or refuses with a reason
(``decide_fund``), the use unit records each disbursement within the approved amount (``record_payment``,
idempotent on the voucher) and the completion (``complete_fund``). Each move is on the hazard's trail; the
decision is a notice to the use unit. ``fund_city`` is the regulator's city-wide list and totals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core import deadlines
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.hazards import fund, workflow
from liftwatch.hazards.fund import Applicant, FundAction, FundState
from liftwatch.hazards.models import (
    Hazard,
    HazardEvent,
    HazardEvidence,
    HazardFundPayment,
    HazardFundRequest,
    HazardNotice,
    HazardTimer,
)
from liftwatch.hazards.workflow import (
    DEFAULT_RULE,
    Action,
    DeadlineRule,
    HazardLevel,
    HazardSource,
    HazardState,
    Recipient,
    Step,
)
from liftwatch.maintenance import service as maintenance
from liftwatch.maintenance.workflow import WorkOrderSource
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.domain import PlaceType

# The records this service hands out (callers name them from here; the tables' module is the domain's own).
StoredHazard: TypeAlias = Hazard
StoredEvent: TypeAlias = HazardEvent
StoredEvidence: TypeAlias = HazardEvidence
StoredFundRequest: TypeAlias = HazardFundRequest
StoredFundPayment: TypeAlias = HazardFundPayment

READ_ALL = frozenset({Role.ADMIN, Role.REGULATOR, Role.INSPECTOR})
REGULATOR = "regulator"  # the recipient of escalations
SCHEDULER = "scheduler"  # the actor of what the deadlines do


@dataclass
class Notice:
    """Something to tell someone, as written to ``hazard_notices``; ``key`` is its idempotency key."""

    hazard_id: int
    kind: str
    recipient: str
    registration_code: str
    details: dict[str, Any] = field(default_factory=dict)
    key: str = ""


@dataclass
class Outcome:
    hazard: Hazard
    created: bool


@dataclass(frozen=True)
class PublicSupervised:
    """One supervised rectification (挂牌督办) as the public list shows it: the elevator, where, who must fix
    it and by when; no person and no free text."""

    hazard_id: int
    registration_code: str
    district: str
    street: str
    responsible_unit: str  # its name
    level: str
    state: str
    deadline: datetime
    supervised_at: datetime | None
    overdue: bool


# ---------------------------------------------------------------- scope


def _scope(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """The condition that limits hazards to the actor's scope; None: no limit. Roles that read none: 403."""
    if actor.role in READ_ALL:
        return None
    if actor.role not in workflow.UNIT_STAFF:
        raise Forbidden(f"role '{actor.role.value}' may not read hazards")
    return registry_queries.own_rows(session, actor, Hazard.responsible_unit, Hazard.registration_code)


def _scoped(session: Session, actor: Actor, stmt: Select[Any]) -> Select[Any]:
    cond = _scope(session, actor)
    return stmt if cond is None else stmt.where(cond)


def _elevator(session: Session, actor: Actor, code: str) -> registry_queries.StoredElevator:
    """The elevator by its registration or rescue code, in the actor's scope (404 outside it)."""
    found = registry_queries.get_public_elevator(session, code)
    return registry_queries.get_elevator(session, actor, found.registration_code)


# ---------------------------------------------------------------- trail, file, notices, timers


def _record(
    session: Session, hazard: Hazard, actor: str, kind: str, at: datetime, /, **details: Any
) -> HazardEvent:
    event = HazardEvent(hazard_id=hazard.id, at=at, actor=actor, kind=kind, details=details)
    session.add(event)
    session.flush()
    return event


def _file_entry(
    session: Session, who: str, hazard: Hazard, kind: str, at: datetime, /, **details: Any
) -> None:
    """An entry on the elevator file (一梯一档), once per hazard and kind of change."""
    registry.append_system_entries(
        session,
        [
            registry.SystemEntry(
                hazard.registration_code,
                kind,
                at,
                kind,
                {"hazard_id": hazard.id, "level": hazard.level, **details},
                f"hazard:{hazard.id}:{kind}:{at.isoformat()}",
            )
        ],
        recorded_by=who,
    )


def _notice(session: Session, hazard: Hazard, event: HazardEvent, kind: str, recipient: str) -> Notice:
    """A notice in the outbox, in the transaction of ``event``: it leaves only if that commits."""
    key = f"hz{hazard.id}:{event.id}:{kind}:{recipient}"
    details = {
        "level": hazard.level,
        "deadline": as_utc(hazard.deadline).isoformat(),
        "state": hazard.state,
        "responsible_unit": hazard.responsible_unit,
        "supervised": hazard.supervised,
    }
    session.add(
        HazardNotice(
            key=key,
            hazard_id=hazard.id,
            kind=kind,
            recipient=recipient,
            registration_code=hazard.registration_code,
            details=details,
            created_at=event.at,
            delivered_at=None,
        )
    )
    return Notice(hazard.id, kind, recipient, hazard.registration_code, details, key)


def _cancel_timers(session: Session, hazard: Hazard) -> None:
    session.execute(
        update(HazardTimer)
        .where(HazardTimer.hazard_id == hazard.id, HazardTimer.fired_at.is_(None))
        .values(cancelled=True)
    )


def _arm(session: Session, hazard: Hazard, rule: DeadlineRule, now: datetime) -> None:
    """(Re)arm the escalation steps that have not happened yet, from the hazard's deadline; a step already
    past fires at the next run."""
    _cancel_timers(session, hazard)
    done = {Step.OVERDUE: hazard.overdue_at, Step.ESCALATION: hazard.escalated_at}
    for step, at in workflow.steps(HazardLevel(hazard.level), as_utc(hazard.deadline), rule):
        if done[step] is None:
            session.add(
                HazardTimer(hazard_id=hazard.id, kind=step.value, due_at=max(at, now), cancelled=False)
            )


# ---------------------------------------------------------------- reporting


def _by_source(session: Session, source: HazardSource, ref: str) -> Hazard | None:
    hazard: Hazard | None = session.scalars(
        select(Hazard).where(Hazard.source == source.value, Hazard.source_ref == ref)
    ).first()
    return hazard


def _responsible(session: Session, elevator: registry_queries.StoredElevator, given: str | None) -> str:
    """The unit that must rectify: the one named, else the elevator's use unit (使用单位, who answers for
    its safety), else its maintenance unit."""
    if given:
        if registry_queries.unit_by_code(session, given) is None:
            raise InvalidInput(FieldError("responsible_unit", f"no unit with code '{given}'"))
        return given
    for unit in (elevator.use_unit, elevator.maintenance_unit):
        if unit is not None:
            return str(unit.code)
    raise InvalidInput(
        FieldError("responsible_unit", f"elevator '{elevator.registration_code}' has no unit: name one")
    )


def report(
    session: Session,
    actor: Actor,
    code: str,
    source: HazardSource,
    source_ref: str,
    level: HazardLevel,
    description: str,
    clock: Clock,
    settings: Settings,
    responsible_unit: str | None = None,
    deadline_date: date | None = None,
    rule: DeadlineRule = DEFAULT_RULE,
) -> Outcome:
    """Report a hazard on the elevator with this registration or rescue code. Idempotent on ``(source,
    source_ref)``: a redelivered report returns the hazard already there (``created`` False). The deadline
    is the level's default unless a regulator sets a date (workflow.deadline)."""
    if actor.role not in workflow.REPORTERS:
        raise Forbidden(f"role '{actor.role.value}' may not report hazards")
    if not source_ref:
        raise InvalidInput(FieldError("source_ref", f"a hazard from a {source.value} names its reference"))
    if deadline_date is not None and actor.role not in workflow.REGULATORS:
        raise Forbidden("only the regulator sets a rectification deadline other than the level's")
    elevator = _elevator(session, actor, code)
    existing = _by_source(session, source, source_ref)
    if existing is not None:
        return Outcome(existing, created=False)
    now = clock.now()
    tz = zone(settings.timezone)
    if deadline_date is not None and workflow.end_of_day(deadline_date, tz) <= now:
        raise InvalidInput(FieldError("deadline", f"{deadline_date.isoformat()} has passed"))
    hazard = Hazard(
        registration_code=elevator.registration_code,
        source=source.value,
        source_ref=source_ref,
        level=level.value,
        description=description,
        responsible_unit=_responsible(session, elevator, responsible_unit),
        deadline=workflow.deadline(level, now, tz, rule, deadline_date),
        deadline_set_by=actor.username if deadline_date is not None else "",
        state=HazardState.REPORTED.value,
        supervised=False,
        reported_by=actor.username,
        reported_at=now,
        verified_by="",
        close_reason="",
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(hazard)
            session.flush()
    except IntegrityError:
        # the same reference was reported at the same moment by another request: that one stands
        other = _by_source(session, source, source_ref)
        if other is None:
            raise
        return Outcome(other, created=False)
    _arm(session, hazard, rule, now)
    _record(
        session,
        hazard,
        actor.username,
        "reported",
        now,
        source=source.value,
        source_ref=source_ref,
        level=level.value,
        responsible_unit=hazard.responsible_unit,
        deadline=as_utc(hazard.deadline).isoformat(),
    )
    _file_entry(session, actor.username, hazard, "hazard_reported", now, source=source.value)
    return Outcome(hazard, created=True)


# ---------------------------------------------------------------- reading


def get_hazard(session: Session, actor: Actor, hazard_id: int) -> Hazard:
    hazard: Hazard | None = session.scalars(
        _scoped(session, actor, select(Hazard).where(Hazard.id == hazard_id))
    ).first()
    if hazard is None:
        raise NotFound(f"no hazard {hazard_id}")
    return hazard


def list_hazards(
    session: Session,
    actor: Actor,
    registration_code: str | None = None,
    states: Sequence[HazardState] = (),
    supervised: bool | None = None,
    limit: int = 500,
) -> list[Hazard]:
    """The hazards in the actor's scope, newest first."""
    stmt = _scoped(session, actor, select(Hazard))
    if registration_code:
        stmt = stmt.where(Hazard.registration_code == registration_code)
    if states:
        stmt = stmt.where(Hazard.state.in_([s.value for s in states]))
    if supervised is not None:
        stmt = stmt.where(Hazard.supervised.is_(supervised))
    return list(session.scalars(stmt.order_by(Hazard.id.desc()).limit(limit)))


def events_of(session: Session, hazard: Hazard) -> list[HazardEvent]:
    """The trail of a hazard the caller already holds (so already in scope), oldest first."""
    return list(
        session.scalars(
            select(HazardEvent).where(HazardEvent.hazard_id == hazard.id).order_by(HazardEvent.id)
        )
    )


def evidence_of(session: Session, hazard: Hazard) -> list[HazardEvidence]:
    return list(
        session.scalars(
            select(HazardEvidence).where(HazardEvidence.hazard_id == hazard.id).order_by(HazardEvidence.id)
        )
    )


def notices_of(session: Session, hazard: Hazard) -> list[Notice]:
    rows = session.scalars(
        select(HazardNotice).where(HazardNotice.hazard_id == hazard.id).order_by(HazardNotice.id)
    )
    return [Notice(r.hazard_id, r.kind, r.recipient, r.registration_code, r.details, r.key) for r in rows]


def is_overdue(hazard: Hazard, now: datetime) -> bool:
    return workflow.is_overdue(HazardState(hazard.state), as_utc(hazard.deadline), now)


def open_counts(session: Session) -> dict[str, int]:
    """How many hazards are open (not verified or closed) per elevator, whoever asks (the caller decides
    who may): a factor of risk grading."""
    rows = session.execute(
        select(Hazard.registration_code, func.count(Hazard.id))
        .where(Hazard.state.not_in([s.value for s in workflow.FINISHED]))
        .group_by(Hazard.registration_code)
    )
    return {code: int(n) for code, n in rows}


def public_supervised(
    session: Session, now: datetime, include_finished: bool = False
) -> list[PublicSupervised]:
    """The public list of supervised rectifications (挂牌督办), newest first: open ones, and with
    ``include_finished`` the verified and closed ones too (销号). Anyone may read it."""
    stmt = select(Hazard).where(Hazard.supervised.is_(True))
    if not include_finished:
        stmt = stmt.where(Hazard.state.not_in([s.value for s in workflow.FINISHED]))
    rows = list(session.scalars(stmt.order_by(Hazard.supervised_at.desc(), Hazard.id.desc()).limit(1000)))
    places = registry_queries.places_of(session, [h.registration_code for h in rows])
    names = registry_queries.unit_names(session, [h.responsible_unit for h in rows])
    out = []
    for h in rows:
        place = places.get(h.registration_code)
        out.append(
            PublicSupervised(
                hazard_id=h.id,
                registration_code=h.registration_code,
                district=place.district if place else "",
                street=place.street if place else "",
                responsible_unit=names.get(h.responsible_unit, h.responsible_unit),
                level=h.level,
                state=h.state,
                deadline=as_utc(h.deadline),
                supervised_at=as_utc(h.supervised_at) if h.supervised_at else None,
                overdue=is_overdue(h, now),
            )
        )
    return out


# ---------------------------------------------------------------- the moves


def _acting(session: Session, actor: Actor, hazard_id: int, action: Action) -> Hazard:
    """The hazard, if the actor may make this move on it: 404 outside scope, 403 for a role (or a unit other
    than the responsible one) that may not, 409 when its state does not allow it."""
    hazard = get_hazard(session, actor, hazard_id)
    if not workflow.may(actor.role, action):
        raise Forbidden(f"role '{actor.role.value}' may not {action.value.replace('_', ' ')} a hazard")
    if (
        workflow.needs_responsible_unit(actor.role, action)
        and registry_queries.actor_unit_code(session, actor) != hazard.responsible_unit
    ):
        raise Forbidden(f"hazard {hazard.id} is for unit '{hazard.responsible_unit}' to rectify, not yours")
    if not workflow.allowed(HazardState(hazard.state), action):
        raise Conflict(
            f"hazard {hazard.id} is {hazard.state}: it cannot be {action.value.replace('_', ' ')} now"
        )
    return hazard


def _move(hazard: Hazard, action: Action, now: datetime) -> None:
    nxt = workflow.NEXT.get(action)
    if nxt is not None:
        hazard.state = nxt.value
    hazard.updated_at = now


def start(session: Session, actor: Actor, hazard_id: int, clock: Clock) -> Hazard:
    """The responsible unit begins the rectification (整改中)."""
    hazard = _acting(session, actor, hazard_id, Action.START)
    now = clock.now()
    _move(hazard, Action.START, now)
    _record(session, hazard, actor.username, "started", now)
    return hazard


def set_deadline(
    session: Session,
    actor: Actor,
    hazard_id: int,
    day: date,
    clock: Clock,
    settings: Settings,
    rule: DeadlineRule = DEFAULT_RULE,
) -> Hazard:
    """The regulator sets the rectification deadline to the end of ``day`` (city clock). The escalation
    starts again from it (a later deadline lifts the overdue mark); supervision, once ordered, stays."""
    hazard = _acting(session, actor, hazard_id, Action.SET_DEADLINE)
    now = clock.now()
    new = workflow.end_of_day(day, zone(settings.timezone))
    if new <= now:
        raise InvalidInput(FieldError("deadline", f"{day.isoformat()} has passed"))
    old = as_utc(hazard.deadline)
    hazard.deadline = new
    hazard.deadline_set_by = actor.username
    hazard.overdue_at = None
    hazard.escalated_at = None
    _move(hazard, Action.SET_DEADLINE, now)
    _arm(session, hazard, rule, now)
    _record(
        session, hazard, actor.username, "deadline_set", now, before=old.isoformat(), after=new.isoformat()
    )
    return hazard


def _check_attachment(session: Session, hazard: Hazard, attachment_id: int) -> None:
    """A photo of the fix is one attached to the hazard's own corrective work order (maintenance keeps the
    files)."""
    if hazard.work_order_id is None:
        raise InvalidInput(FieldError("attachment_id", f"hazard {hazard.id} has no work order to attach to"))
    order = maintenance.get_work_order(session, SYSTEM_ACTOR, hazard.work_order_id)
    if attachment_id not in {a.id for a in maintenance.attachments_of(session, order)}:
        raise InvalidInput(
            FieldError("attachment_id", f"attachment {attachment_id} is not of work order {order.id}")
        )


def submit_evidence(
    session: Session, actor: Actor, hazard_id: int, text: str, clock: Clock, attachment_id: int | None = None
) -> HazardEvidence:
    """The responsible unit submits evidence of the fix (整改材料): the hazard is rectified and waits for the
    regulator; its deadline stops running."""
    hazard = _acting(session, actor, hazard_id, Action.EVIDENCE)
    if not text.strip():
        raise InvalidInput(FieldError("text", "say what was done"))
    if attachment_id is not None:
        _check_attachment(session, hazard, attachment_id)
    now = clock.now()
    row = HazardEvidence(
        hazard_id=hazard.id,
        text=text,
        attachment_id=attachment_id,
        submitted_by=actor.username,
        submitted_at=now,
        decision="",
        decided_by="",
        note="",
    )
    session.add(row)
    session.flush()
    _move(hazard, Action.EVIDENCE, now)
    hazard.rectified_at = now
    _cancel_timers(session, hazard)
    _record(
        session, hazard, actor.username, "rectified", now, evidence_id=row.id, attachment_id=attachment_id
    )
    _file_entry(session, actor.username, hazard, "hazard_rectified", now, evidence_id=row.id)
    return row


def _latest_evidence(session: Session, hazard: Hazard) -> HazardEvidence:
    row = session.scalars(
        select(HazardEvidence).where(HazardEvidence.hazard_id == hazard.id).order_by(HazardEvidence.id.desc())
    ).first()
    if row is None:  # a rectified hazard always has one
        raise Conflict(f"hazard {hazard.id} has no evidence to decide on")
    return row


def verify(session: Session, actor: Actor, hazard_id: int, clock: Clock, note: str = "") -> Hazard:
    """The regulator accepts the fix: the hazard is verified and closed (销号), off the supervised list."""
    hazard = _acting(session, actor, hazard_id, Action.VERIFY)
    now = clock.now()
    evidence = _latest_evidence(session, hazard)
    evidence.decision, evidence.decided_by, evidence.decided_at, evidence.note = (
        "verified",
        actor.username,
        now,
        note,
    )
    _move(hazard, Action.VERIFY, now)
    hazard.verified_at, hazard.verified_by = now, actor.username
    _cancel_timers(session, hazard)
    _record(session, hazard, actor.username, "verified", now, evidence_id=evidence.id)
    _file_entry(session, actor.username, hazard, "hazard_verified", now)
    return hazard


def reject(
    session: Session,
    actor: Actor,
    hazard_id: int,
    note: str,
    clock: Clock,
    rule: DeadlineRule = DEFAULT_RULE,
) -> Hazard:
    """The regulator rejects the fix (the reason in ``note``): back to rectifying, the responsible unit is
    told, and the escalation steps not yet taken run again from the deadline (at once if it has passed)."""
    hazard = _acting(session, actor, hazard_id, Action.REJECT)
    if not note.strip():
        raise InvalidInput(FieldError("note", "say why the fix is not accepted"))
    now = clock.now()
    evidence = _latest_evidence(session, hazard)
    evidence.decision, evidence.decided_by, evidence.decided_at, evidence.note = (
        "rejected",
        actor.username,
        now,
        note,
    )
    _move(hazard, Action.REJECT, now)
    hazard.rectified_at = None
    _arm(session, hazard, rule, now)
    event = _record(session, hazard, actor.username, "rejected", now, evidence_id=evidence.id, note=note)
    _notice(session, hazard, event, "rejected", hazard.responsible_unit)
    return hazard


def close(session: Session, actor: Actor, hazard_id: int, reason: str, clock: Clock) -> Hazard:
    """The regulator closes a hazard without a fix (a duplicate, a wrong report), with the reason."""
    hazard = _acting(session, actor, hazard_id, Action.CLOSE)
    if not reason.strip():
        raise InvalidInput(FieldError("reason", "say why the hazard is closed"))
    now = clock.now()
    _move(hazard, Action.CLOSE, now)
    hazard.closed_at, hazard.close_reason = now, reason
    _cancel_timers(session, hazard)
    _record(session, hazard, actor.username, "closed", now, reason=reason)
    _file_entry(session, actor.username, hazard, "hazard_closed", now)
    return hazard


def open_work_order(
    session: Session, actor: Actor, hazard_id: int, clock: Clock, settings: Settings
) -> tuple[Hazard, int, bool]:
    """Open the hazard's corrective work order (维修工单) in maintenance, once: source "hazard", the hazard id
    as reference, due by the hazard's deadline; urgent for a major hazard. Returns the hazard, the work
    order id and whether it was opened now."""
    hazard = _acting(session, actor, hazard_id, Action.WORK_ORDER)
    if hazard.work_order_id is not None:
        return hazard, hazard.work_order_id, False
    tz = zone(settings.timezone)
    last_day = (as_utc(hazard.deadline) - timedelta(microseconds=1)).astimezone(tz).date()
    outcome = maintenance.open_corrective(
        session,
        actor,
        hazard.registration_code,
        WorkOrderSource.HAZARD,
        str(hazard.id),
        hazard.description,
        clock,
        settings,
        urgent=hazard.level == HazardLevel.MAJOR.value,
        due_by=last_day,
    )
    now = clock.now()
    hazard.work_order_id = outcome.work_order.id
    hazard.updated_at = now
    _record(session, hazard, actor.username, "work_order", now, work_order_id=outcome.work_order.id)
    return hazard, outcome.work_order.id, outcome.created


# ---------------------------------------------------------------- deadlines


def fire_due_timers(session: Session, clock: Clock) -> list[Notice]:
    """Fire every due escalation step; a worker loop calls this every few seconds, in any process, after any
    restart (PostgreSQL: rows locked with SKIP LOCKED so two schedulers never fire one twice). A step of a
    hazard no longer running (rectified, verified, closed) does nothing; a rejection arms it again. The
    caller commits."""
    now = clock.now()
    notices: list[Notice] = []
    for timer in deadlines.fire_due(session, HazardTimer, now):
        hazard = session.get(Hazard, timer.hazard_id)
        if hazard is None or HazardState(hazard.state) not in workflow.RUNNING:
            continue
        step, at = Step(timer.kind), as_utc(timer.due_at)
        effect = workflow.effect(step, HazardLevel(hazard.level))
        deadline = as_utc(hazard.deadline).isoformat()
        if step is Step.OVERDUE:
            hazard.overdue_at = at
            event = _record(session, hazard, SCHEDULER, "overdue", at, deadline=deadline)
            _file_entry(session, SCHEDULER, hazard, "hazard_overdue", at)
        else:
            hazard.escalated_at = at
            event = _record(session, hazard, SCHEDULER, "escalated", at, deadline=deadline)
        # what the regulator is told: supervision ordered now, else the step itself
        regulator_kind = "escalated" if step is Step.ESCALATION else "overdue"
        if effect.supervise and not hazard.supervised:
            hazard.supervised, hazard.supervised_at = True, at
            event = _record(session, hazard, SCHEDULER, "supervised", at)
            _file_entry(session, SCHEDULER, hazard, "hazard_supervised", at)
            regulator_kind = "supervised"
        for recipient in effect.recipients:
            if recipient is Recipient.RESPONSIBLE:
                notices.append(_notice(session, hazard, event, "overdue", hazard.responsible_unit))
            else:
                notices.append(_notice(session, hazard, event, regulator_kind, REGULATOR))
        hazard.updated_at = now
    session.flush()
    return notices


def open_counts_by_level(session: Session) -> dict[str, dict[str, int]]:
    """Open hazards (not verified or closed) per elevator and level, whoever asks (the caller decides who
    may): risk grading weighs a major hazard (重大隐患) more than a general one."""
    rows = session.execute(
        select(Hazard.registration_code, Hazard.level, func.count(Hazard.id))
        .where(Hazard.state.not_in([s.value for s in workflow.FINISHED]))
        .group_by(Hazard.registration_code, Hazard.level)
    )
    out: dict[str, dict[str, int]] = {}
    for code, level, n in rows:
        out.setdefault(code, {})[level] = int(n)
    return out


def moves_for(session: Session, actor: Actor, hazard: Hazard) -> frozenset[Action]:
    """The moves this actor may make on this hazard now (the ones ``_acting`` would let through), so a
    screen offers only those forms."""
    unit = registry_queries.actor_unit_code(session, actor) if actor.role in workflow.UNIT_STAFF else None
    state = HazardState(hazard.state)
    return frozenset(
        a
        for a in Action
        if workflow.may(actor.role, a)
        and workflow.allowed(state, a)
        and not (workflow.needs_responsible_unit(actor.role, a) and unit != hazard.responsible_unit)
    )


def codes_changed_since(session: Session, since: datetime) -> set[str]:
    """The elevators with a hazard changed after ``since`` (what the risk worker rescores)."""
    stmt = select(Hazard.registration_code).where(Hazard.updated_at > since).distinct()
    return set(session.scalars(stmt))


# ---------------------------------------------------------------- the repair fund (维修资金紧急使用)


@dataclass
class FundOutcome:
    request: HazardFundRequest
    created: bool


@dataclass(frozen=True)
class FundLine:
    """A request with its disbursements, oldest first (the hazard's ledger)."""

    request: HazardFundRequest
    payments: list[HazardFundPayment]


@dataclass(frozen=True)
class DistrictTotals:
    district: str
    requests: int
    requested_fen: int
    approved_fen: int
    paid_fen: int


@dataclass(frozen=True)
class FundCity:
    """The city-wide list (newest first) and the totals by district of the requests listed."""

    requests: list[HazardFundRequest]
    by_district: list[DistrictTotals]


def _fund_request_by_key(session: Session, key: str) -> HazardFundRequest | None:
    row: HazardFundRequest | None = session.scalars(
        select(HazardFundRequest).where(HazardFundRequest.request_key == key)
    ).first()
    return row


def _open_request(session: Session, hazard: Hazard, lock: bool = False) -> HazardFundRequest | None:
    stmt = select(HazardFundRequest).where(HazardFundRequest.open_hazard_id == hazard.id)
    if lock:
        stmt = stmt.with_for_update()
    row: HazardFundRequest | None = session.scalars(stmt).first()
    return row


def _fund_hazard(session: Session, actor: Actor, hazard_id: int, action: FundAction) -> Hazard:
    """The hazard, if the actor's role may make this fund move: 404 outside scope, 403 for a role that may
    not."""
    hazard = get_hazard(session, actor, hazard_id)
    if not fund.may(actor.role, action):
        raise Forbidden(f"role '{actor.role.value}' may not {action.value} the repair fund's emergency use")
    return hazard


def _check_use_unit(session: Session, actor: Actor, use_unit: str, hazard: Hazard) -> None:
    """Use-unit staff act only for the elevator's own use unit (an admin stands in for any)."""
    if actor.role is Role.USE_UNIT and registry_queries.actor_unit_code(session, actor) != use_unit:
        raise Forbidden(
            f"the elevator of hazard {hazard.id} is used by unit '{use_unit}': only its staff ask and pay out"
        )


def _open_in(session: Session, hazard: Hazard, action: FundAction, lock: bool = False) -> HazardFundRequest:
    """The hazard's open request if its state allows the move, else 409 naming what is there."""
    request = _open_request(session, hazard, lock)
    if request is None:
        raise Conflict(f"hazard {hazard.id} has no open request for the repair fund")
    if not fund.allowed(FundState(request.state), action):
        raise Conflict(
            f"the repair-fund request {request.id} is {request.state}: it cannot be {action.value}d now"
        )
    return request


def _required(name: str, value: str, what: str) -> None:
    if not value.strip():
        raise InvalidInput(FieldError(name, what))


def request_fund(
    session: Session,
    actor: Actor,
    hazard_id: int,
    request_key: str,
    applicant: Applicant,
    amount_fen: int,
    quote: str,
    purpose: str,
    clock: Clock,
) -> FundOutcome:
    """Ask for the emergency use of the repair fund for this hazard (维修资金紧急使用申请): the elevator's use
    unit (or the owners' committee through it), with the amount in fen, the contractor's quote and the
    purpose. Only for a residential elevator's open hazard, one open request at a time. Idempotent on
    ``request_key``: sent again, the request already there (``created`` False)."""
    hazard = _fund_hazard(session, actor, hazard_id, FundAction.REQUEST)
    _required("request_key", request_key, "name the request (its idempotency key)")
    existing = _fund_request_by_key(session, request_key)
    if existing is not None:
        if existing.hazard_id != hazard.id:
            raise Conflict(f"request key '{request_key}' is hazard {existing.hazard_id}'s request")
        return FundOutcome(existing, created=False)
    elevator = registry_queries.get_elevator(session, SYSTEM_ACTOR, hazard.registration_code)
    if elevator.place_type != PlaceType.RESIDENTIAL.value:
        raise InvalidInput(
            FieldError(
                "place_type",
                f"the repair fund is for residential elevators: {elevator.registration_code} is "
                f"'{elevator.place_type}'",
            )
        )
    if elevator.use_unit is None:
        raise InvalidInput(
            FieldError(
                "use_unit", f"elevator {elevator.registration_code} has no use unit to ask and pay out"
            )
        )
    use_unit = str(elevator.use_unit.code)
    _check_use_unit(session, actor, use_unit, hazard)
    if HazardState(hazard.state) in workflow.FINISHED:
        raise Conflict(f"hazard {hazard.id} is {hazard.state}: the repair fund is for an open hazard")
    if (err := fund.amount_error(amount_fen)) is not None:
        raise InvalidInput(FieldError("amount_fen", err))
    _required("quote", quote, "give the contractor's quote (报价)")
    _required("purpose", purpose, "say what the money fixes")
    if (other := _open_request(session, hazard)) is not None:
        raise Conflict(f"hazard {hazard.id} has an open repair-fund request {other.id} ({other.state})")
    now = clock.now()
    place = registry_queries.places_of(session, [hazard.registration_code]).get(hazard.registration_code)
    row = HazardFundRequest(
        hazard_id=hazard.id,
        open_hazard_id=hazard.id,
        request_key=request_key,
        registration_code=hazard.registration_code,
        district=place.district if place else "",
        use_unit=use_unit,
        applicant=applicant.value,
        amount_fen=amount_fen,
        quote=quote,
        purpose=purpose,
        state=FundState.REQUESTED.value,
        requested_by=actor.username,
        requested_at=now,
        decided_by="",
        decision_note="",
        paid_fen=0,
        completed_by="",
        completion_note="",
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # the same key, or another open request, committed meanwhile by another request
        again = _fund_request_by_key(session, request_key)
        if again is not None and again.hazard_id == hazard.id:
            return FundOutcome(again, created=False)
        raise Conflict(f"hazard {hazard.id} has an open repair-fund request") from None
    hazard.updated_at = now
    _record(
        session,
        hazard,
        actor.username,
        "fund_requested",
        now,
        request_id=row.id,
        amount_fen=amount_fen,
        applicant=applicant.value,
    )
    return FundOutcome(row, created=True)


def decide_fund(
    session: Session,
    actor: Actor,
    hazard_id: int,
    approve: bool,
    clock: Clock,
    approved_fen: int | None = None,
    note: str = "",
) -> HazardFundRequest:
    """The housing authority's decision (the regulator or an admin stands in): approve the amount asked for
    or a lower one, or refuse with the reason in ``note``. The use unit is told."""
    action = FundAction.APPROVE if approve else FundAction.REFUSE
    hazard = _fund_hazard(session, actor, hazard_id, action)
    request = _open_in(session, hazard, action)
    now = clock.now()
    if approve:
        amount = request.amount_fen if approved_fen is None else approved_fen
        if (err := fund.approval_error(request.amount_fen, amount)) is not None:
            raise InvalidInput(FieldError("approved_fen", err))
        request.approved_fen = amount
        kind = "fund_approved"
    else:
        _required("reason", note, "say why the request is refused")
        request.open_hazard_id = None
        kind = "fund_refused"
    request.state = fund.NEXT[action].value
    request.decided_by, request.decided_at, request.decision_note = actor.username, now, note
    request.updated_at = hazard.updated_at = now
    event = _record(
        session,
        hazard,
        actor.username,
        kind,
        now,
        request_id=request.id,
        approved_fen=request.approved_fen,
        note=note,
    )
    _notice(session, hazard, event, kind, request.use_unit)
    return request


def record_payment(
    session: Session,
    actor: Actor,
    hazard_id: int,
    amount_fen: int,
    paid_on: date,
    voucher: str,
    clock: Clock,
    settings: Settings,
    note: str = "",
) -> tuple[HazardFundPayment, bool]:
    """The use unit records a disbursement (支付) of the approved request: the amount, the day (not after the
    city's today) and the voucher (凭证号). The total paid never exceeds the approved amount. Idempotent on
    the voucher: recorded again with the same amount, the payment already there (False)."""
    hazard = _fund_hazard(session, actor, hazard_id, FundAction.DISBURSE)
    request = _open_in(session, hazard, FundAction.DISBURSE, lock=True)
    _check_use_unit(session, actor, request.use_unit, hazard)
    _required("voucher", voucher, "give the payment's voucher number (凭证号)")
    existing = session.scalars(
        select(HazardFundPayment).where(
            HazardFundPayment.request_id == request.id, HazardFundPayment.voucher == voucher
        )
    ).first()
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise Conflict(f"voucher '{voucher}' was recorded with {existing.amount_fen} fen")
        return existing, False
    if (err := fund.disbursement_error(request.approved_fen or 0, request.paid_fen, amount_fen)) is not None:
        raise InvalidInput(FieldError("amount_fen", err))
    now = clock.now()
    if paid_on > now.astimezone(zone(settings.timezone)).date():
        raise InvalidInput(FieldError("paid_on", f"{paid_on.isoformat()} is in the future"))
    row = HazardFundPayment(
        request_id=request.id,
        amount_fen=amount_fen,
        paid_on=paid_on,
        voucher=voucher,
        note=note,
        recorded_by=actor.username,
        recorded_at=now,
    )
    session.add(row)
    request.paid_fen += amount_fen
    request.updated_at = hazard.updated_at = now
    session.flush()
    _record(
        session,
        hazard,
        actor.username,
        "fund_paid",
        now,
        request_id=request.id,
        payment_id=row.id,
        amount_fen=amount_fen,
        voucher=voucher,
    )
    return row, True


def complete_fund(
    session: Session, actor: Actor, hazard_id: int, clock: Clock, note: str = ""
) -> HazardFundRequest:
    """The use unit closes the approved request once the work is done and paid (at least one disbursement):
    the ledger is final and a new request may follow."""
    hazard = _fund_hazard(session, actor, hazard_id, FundAction.COMPLETE)
    request = _open_in(session, hazard, FundAction.COMPLETE)
    _check_use_unit(session, actor, request.use_unit, hazard)
    if (err := fund.completion_error(request.paid_fen)) is not None:
        raise InvalidInput(FieldError("payments", err))
    now = clock.now()
    request.state = FundState.COMPLETED.value
    request.open_hazard_id = None
    request.completed_by, request.completed_at, request.completion_note = actor.username, now, note
    request.updated_at = hazard.updated_at = now
    _record(
        session,
        hazard,
        actor.username,
        "fund_completed",
        now,
        request_id=request.id,
        paid_fen=request.paid_fen,
    )
    return request


def fund_ledger(session: Session, actor: Actor, hazard_id: int) -> list[FundLine]:
    """The hazard's repair-fund requests, newest first, each with its disbursements (404 outside scope)."""
    hazard = get_hazard(session, actor, hazard_id)
    return fund_lines(session, hazard)


def fund_lines(session: Session, hazard: Hazard) -> list[FundLine]:
    """The ledger of a hazard the caller already holds (so already in scope)."""
    requests = list(
        session.scalars(
            select(HazardFundRequest)
            .where(HazardFundRequest.hazard_id == hazard.id)
            .order_by(HazardFundRequest.id.desc())
        )
    )
    payments: dict[int, list[HazardFundPayment]] = {r.id: [] for r in requests}
    if requests:
        for p in session.scalars(
            select(HazardFundPayment)
            .where(HazardFundPayment.request_id.in_(list(payments)))
            .order_by(HazardFundPayment.id)
        ):
            payments[p.request_id].append(p)
    return [FundLine(r, payments[r.id]) for r in requests]


def fund_moves_for(session: Session, actor: Actor, hazard: Hazard) -> frozenset[FundAction]:
    """The fund moves this actor may make on this hazard now, so a screen offers only those forms."""
    open_request = _open_request(session, hazard)
    moves: set[FundAction] = set()
    if open_request is None:
        if fund.may(actor.role, FundAction.REQUEST) and HazardState(hazard.state) not in workflow.FINISHED:
            place = registry_queries.places_of(session, [hazard.registration_code]).get(
                hazard.registration_code
            )
            if place is not None and place.place_type == PlaceType.RESIDENTIAL.value:
                moves.add(FundAction.REQUEST)
    else:
        state = FundState(open_request.state)
        moves |= {a for a in FundAction if fund.may(actor.role, a) and fund.allowed(state, a)}
    if actor.role is Role.USE_UNIT:
        unit = registry_queries.actor_unit_code(session, actor)
        mine = (
            open_request.use_unit == unit
            if open_request is not None
            else _elevator_use_unit(session, hazard.registration_code) == unit
        )
        if not mine:
            moves -= {FundAction.REQUEST, FundAction.DISBURSE, FundAction.COMPLETE}
    return frozenset(moves)


def _elevator_use_unit(session: Session, code: str) -> str | None:
    elevator = registry_queries.get_elevator(session, SYSTEM_ACTOR, code)
    return str(elevator.use_unit.code) if elevator.use_unit is not None else None


def fund_city(
    session: Session,
    actor: Actor,
    district: str | None = None,
    states: Sequence[FundState] = (),
    limit: int = 1000,
) -> FundCity:
    """The city's repair-fund requests (the regulator's list), newest first, with the totals by district
    (requested, approved, paid) of those listed. The regulator and admins only (others 403)."""
    if actor.role not in fund.AUTHORITY:
        raise Forbidden(f"role '{actor.role.value}' may not read the city's repair-fund requests")
    stmt = select(HazardFundRequest)
    if district:
        stmt = stmt.where(HazardFundRequest.district == district)
    if states:
        stmt = stmt.where(HazardFundRequest.state.in_([s.value for s in states]))
    rows = list(session.scalars(stmt.order_by(HazardFundRequest.id.desc()).limit(limit)))
    totals: dict[str, list[int]] = {}
    for r in rows:
        t = totals.setdefault(r.district, [0, 0, 0, 0])
        t[0] += 1
        t[1] += r.amount_fen
        t[2] += r.approved_fen or 0
        t[3] += r.paid_fen
    by_district = [DistrictTotals(d, *t) for d, t in sorted(totals.items())]
    return FundCity(rows, by_district)
