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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias

from sqlalchemy import ColumnElement, Select, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import SYSTEM_ACTOR, Actor, Role
from liftwatch.core import deadlines
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import Settings, zone
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.hazards import workflow
from liftwatch.hazards.models import Hazard, HazardEvent, HazardEvidence, HazardNotice, HazardTimer
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

# The records this service hands out (callers name them from here; the tables' module is the domain's own).
StoredHazard: TypeAlias = Hazard
StoredEvent: TypeAlias = HazardEvent
StoredEvidence: TypeAlias = HazardEvidence

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


def _unit_code(session: Session, actor: Actor) -> str | None:
    if actor.unit_id is None:
        return None
    return registry_queries.unit_codes(session, [actor.unit_id]).get(actor.unit_id)


def _scope(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """The condition that limits hazards to the actor's scope; None: no limit. Roles that read none: 403."""
    if actor.role in READ_ALL:
        return None
    if actor.role not in workflow.UNIT_STAFF:
        raise Forbidden(f"role '{actor.role.value}' may not read hazards")
    unit = _unit_code(session, actor)
    if unit is None:
        return false()
    codes = registry_queries.scoped_codes(session, actor) or set()
    result: ColumnElement[bool] = or_(
        Hazard.responsible_unit == unit, Hazard.registration_code.in_(sorted(codes))
    )
    return result


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
        and _unit_code(session, actor) != hazard.responsible_unit
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
    unit = _unit_code(session, actor) if actor.role in workflow.UNIT_STAFF else None
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
