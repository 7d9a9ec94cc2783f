"""The rescue domain's only writer: incidents from report to completion, dispatch, three-level escalation
on durable timers. Every change is recorded (who, when, what) and lands on the elevator file.

Lifecycle: raised -> dispatched -> acknowledged -> arrived -> released -> completed, or false_alarm.
One entrapment gives one incident: a report about an elevator with an open incident joins it (the
``open_incidents`` primary key settles races), and an IoT fault is idempotent on its fault_id.
Escalation (三级响应): L1 is the contracted maintenance unit's nearest crew; no acknowledgement within
``ack_limit_s`` of dispatch, or a predicted or actual arrival past the area's limit, sends it to L2 (the
nearest public rescue station or another unit's crew); not arrived by the limit + ``l3_grace_min`` -> L3
(fire service). Deadlines are rows in ``rescue_timers``: a restarted process fires them on time.
Notices (raised, dispatched, no crew, escalated, withdrawn) are rows of ``notice_outbox`` written with the
change; the rescue worker delivers them after the commit (rescue.outbox). Settings are always passed in:
the edge (app start, the worker's ``from_settings``) reads them once. A crew is freed in one place
(``_free_crew``), which also gives it an incident waiting for a crew. Reads for the pages, the API and the
KPIs are in rescue.queries.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts
from liftwatch.accounts.actor import Actor, Role
from liftwatch.core import deadlines
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.config import CITY_TIMEZONE, Settings, valid_timezone, zone
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.people import service as people
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.registry.domain import UnitType
from liftwatch.rescue import queries as incident_queries
from liftwatch.rescue.domain import (
    OPEN_STATUSES,
    Cause,
    GeoPoint,
    IncidentStatus,
    Level,
    RoadFactorEstimator,
    Source,
    TravelEstimator,
    normalise_phone,
)
from liftwatch.rescue.kpis import KpiSettings
from liftwatch.rescue.models import (
    Crew,
    Dispatch,
    Incident,
    IncidentEvent,
    IncidentFault,
    NoticeOutbox,
    OpenIncidentLock,
    RescueTimer,
    TimerKind,
    on_duty,
)

log = logging.getLogger(__name__)

OPERATORS = frozenset({Role.ADMIN, Role.RESCUE_OPERATOR})
FIRE_SERVICE = "119"  # the unit of an L3 dispatch row: the fire service, called by the operator

# The records this service hands out. Callers (the web) name them from here in annotations and never import
# the tables' module (import contracts): what they may do with them is what these functions allow.
StoredIncident: TypeAlias = Incident
StoredCrew: TypeAlias = Crew
StoredDispatch: TypeAlias = Dispatch


class RescueSettings(BaseSettings):
    """Read once at the edge (:meth:`for_city`) and passed to every service function."""

    # the same .env file as the core settings (core.config.ENV_FILE); the environment wins over it
    model_config = SettingsConfigDict(env_prefix="LIFTWATCH_RESCUE_", env_file=".env", extra="ignore")

    ack_limit_s: int = Field(
        default=300, gt=0, description="seconds a dispatched unit has to acknowledge before escalation to L2"
    )
    webhook_url: str = Field(default="", description="POST rescue notices (JSON) here as well as to the log")
    webhook_timeout_s: float = Field(default=5.0, gt=0, description="one webhook delivery's time limit")
    notice_retry_s: float = Field(default=5.0, gt=0, description="first retry of a failed notice delivery")
    notice_retry_max_s: float = Field(default=600.0, gt=0, description="longest wait between retries")
    notice_alert_after: int = Field(
        default=3, ge=1, description="failed deliveries of a notice before its incident records the failure"
    )
    arrival_limit_min: int = Field(
        default=30, gt=0, description="minutes a crew has to arrive in municipalities and districted cities"
    )
    arrival_limit_other_min: int = Field(
        default=60, gt=0, description="minutes to arrive in the other districts (TSG T5002)"
    )
    other_districts: list[str] = Field(
        default_factory=list,
        description='districts with the longer arrival limit, a JSON list, e.g. ["崇明区"]',
    )
    l3_grace_min: int = Field(
        default=10, ge=0, description="minutes after the arrival limit before escalation to L3 (119)"
    )
    surge_threshold: int = Field(default=20, gt=0, description="open incidents that turn on surge mode")
    close_limit_h: int = Field(
        default=24,
        gt=0,
        description="an incident not closed this long after its alarm counts as not successful (KPIs) and "
        "is flagged as stale on the console",
    )
    timezone: str = Field(
        default="Asia/Shanghai", description="the city's (LIFTWATCH_TIMEZONE, set by for_city): crew shifts"
    )

    _check_timezone = field_validator("timezone")(valid_timezone)

    @classmethod
    def for_city(cls, settings: Settings) -> RescueSettings:
        """The LIFTWATCH_RESCUE_ variables, on the city's one time zone."""
        return cls(timezone=settings.timezone)

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)


@dataclass(frozen=True)
class Report:
    """One call or alarm about an elevator: ``code`` is its registration or rescue code."""

    code: str
    source: Source
    persons_trapped: int | None = None
    caller_name: str = ""
    callback_phone: str = ""
    notes: str = ""
    fault_id: str | None = None  # an IoT fault's id: reporting it again changes nothing


@dataclass
class Notice:
    """Something to tell someone (log, webhook), as written to the outbox; ``key`` is its idempotency key."""

    incident_id: int
    kind: str
    level: str
    registration_code: str
    details: dict[str, Any] = field(default_factory=dict)
    key: str = ""


@dataclass
class Outcome:
    incident: Incident
    created: bool
    notices: list[Notice] = field(default_factory=list)


# ---------------------------------------------------------------- helpers


def _record(
    session: Session, inc: Incident, actor: str, kind: str, at: datetime, **details: Any
) -> IncidentEvent:
    event = IncidentEvent(incident_id=inc.id, at=at, actor=actor, kind=kind, details=details)
    session.add(event)
    session.flush()
    registry.append_system_entries(
        session,
        [
            registry.SystemEntry(
                registration_code=inc.registration_code,
                kind=f"incident_{kind}",
                occurred_at=at,
                summary=kind,
                details={"incident_id": inc.id, "level": inc.level, **details},
                dedupe_key=f"incident-event:{event.id}",
            )
        ],
        recorded_by=actor,
    )
    return event


def _notice(
    session: Session,
    inc: Incident,
    event: IncidentEvent,
    kind: str,
    level: str,
    details: dict[str, Any] | None = None,
) -> Notice:
    """Put a notice in the outbox, in the transaction of ``event``: it leaves only if that commits. The key
    names the event, so it is the same on every delivery attempt and different for every change."""
    notice = Notice(inc.id, kind, level, inc.registration_code, details or {}, f"{inc.id}:{event.id}:{kind}")
    session.add(
        NoticeOutbox(
            key=notice.key,
            incident_id=inc.id,
            kind=kind,
            level=level,
            registration_code=inc.registration_code,
            details=notice.details,
            created_at=event.at,
            attempts=0,
            next_attempt_at=event.at,
            delivered_at=None,
            last_error="",
        )
    )
    return notice


def _timer(session: Session, inc: Incident, kind: TimerKind, due: datetime) -> None:
    session.add(RescueTimer(incident_id=inc.id, kind=kind.value, due_at=due, fired_at=None, cancelled=False))


def _cancel_timers(session: Session, inc: Incident, *kinds: TimerKind) -> None:
    session.execute(
        update(RescueTimer)
        .where(
            RescueTimer.incident_id == inc.id,
            RescueTimer.kind.in_([k.value for k in kinds]),
            RescueTimer.fired_at.is_(None),
        )
        .values(cancelled=True)
    )


def _limit_min(settings: RescueSettings, district: str) -> int:
    return (
        settings.arrival_limit_other_min
        if district in settings.other_districts
        else settings.arrival_limit_min
    )


# one scoped lookup for the service and its callers (rescue.queries decides who reads which incident)
get_incident = incident_queries.get_incident


def crew_of(session: Session, actor: Actor) -> Crew | None:
    crew: Crew | None = session.scalar(select(Crew).where(Crew.username == actor.username))
    return crew


# ---------------------------------------------------------------- report and join


def report(
    session: Session,
    actor: Actor,
    call: Report,
    clock: Clock,
    settings: RescueSettings,
    estimator: TravelEstimator | None = None,
) -> Outcome:
    """Open an incident, or join the open one of this elevator. Idempotent on ``call.fault_id``."""
    if actor.role not in OPERATORS:
        raise Forbidden(f"role '{actor.role.value}' may not open rescue incidents")
    now = clock.now()
    if call.fault_id is not None:
        existing = _incident_of_fault(session, call.fault_id)
        if existing is not None:
            return Outcome(existing, created=False)
    try:  # the centre must be able to dial it back: a number, in one form (13800000000, 021-55551234)
        call = replace(call, callback_phone=normalise_phone(call.callback_phone))
    except ValueError as exc:
        raise InvalidInput(FieldError("callback_phone", str(exc))) from None
    elevator = registry_queries.get_public_elevator(session, call.code)
    joined = _open_incident(session, elevator.registration_code)
    if joined is not None:
        return _join(session, joined, actor, call, now)
    inc = Incident(
        registration_code=elevator.registration_code,
        source=call.source.value,
        status=IncidentStatus.RAISED.value,
        level=Level.L1.value,
        persons_trapped=call.persons_trapped,
        caller_name=call.caller_name,
        callback_phone=call.callback_phone,
        notes=call.notes,
        fault_id=call.fault_id,
        maintenance_unit=elevator.maintenance_unit.code if elevator.maintenance_unit else "",
        arrival_limit_min=_limit_min(settings, elevator.district),
        alarm_at=now,
        all_released=False,
        created_at=now,
        updated_at=now,
    )
    session.add(inc)
    session.flush()
    try:
        with session.begin_nested():
            session.add(OpenIncidentLock(registration_code=inc.registration_code, incident_id=inc.id))
    except IntegrityError:
        # Another report opened one at the same moment: this one joins it instead.
        session.delete(inc)
        session.flush()
        other = _open_incident(session, elevator.registration_code)
        if other is None:
            raise
        return _join(session, other, actor, call, now)
    if call.fault_id is not None:
        session.add(IncidentFault(fault_id=call.fault_id, incident_id=inc.id, at=now))
    event = _record(
        session, inc, actor.username, "raised", now, source=call.source.value, caller=call.caller_name,
        phone=call.callback_phone, note=call.notes, persons=call.persons_trapped,
    )  # fmt: skip
    notices = [_notice(session, inc, event, "raised", inc.level, {"source": call.source.value})]
    notices += _dispatch(session, inc, Level.L1, "system", now, settings, estimator or RoadFactorEstimator())
    _timer(
        session,
        inc,
        TimerKind.L3,
        inc.alarm_at + timedelta(minutes=inc.arrival_limit_min + settings.l3_grace_min),
    )
    session.flush()
    return Outcome(inc, created=True, notices=notices)


def _join(session: Session, inc: Incident, actor: Actor, call: Report, now: datetime) -> Outcome:
    """A further report of an open incident: recorded on it with everything the caller said (who, the
    number to call back, the note, how many are trapped), and its fault linked (so a redelivered fault is
    recognised). The incident's caller and call-back number stay the first caller's (after an alarm with
    nobody on the line, the first person who calls); :func:`calls_of` lists every call."""
    if call.fault_id is not None:
        try:
            with session.begin_nested():
                session.add(IncidentFault(fault_id=call.fault_id, incident_id=inc.id, at=now))
        except IntegrityError:  # the same fault, delivered twice at the same moment: taken in once
            taken = _incident_of_fault(session, call.fault_id)
            if taken is None:
                raise
            return Outcome(taken, created=False)
    _record(
        session, inc, actor.username, "joined", now, source=call.source.value, caller=call.caller_name,
        phone=call.callback_phone, note=call.notes, persons=call.persons_trapped, fault_id=call.fault_id,
    )  # fmt: skip
    if call.fault_id is not None and inc.fault_id is None:
        inc.fault_id = call.fault_id
    if not inc.caller_name and not inc.callback_phone:  # an alarm first, then a person calls: call them back
        inc.caller_name, inc.callback_phone = call.caller_name, call.callback_phone
    if call.persons_trapped is not None and not inc.persons_trapped:
        inc.persons_trapped = call.persons_trapped
    inc.updated_at = now
    session.flush()
    return Outcome(inc, created=False)


def _incident_of_fault(session: Session, fault_id: str) -> Incident | None:
    """The incident that took in this IoT fault, opening or joining it; None if none did. Incidents a
    release before 0012 opened name their fault only on the incident (a rolling upgrade: both are read)."""
    taken = session.get(IncidentFault, fault_id)
    if taken is not None:
        return session.get(Incident, taken.incident_id)
    return session.scalar(select(Incident).where(Incident.fault_id == fault_id))


def _open_incident(session: Session, registration_code: str) -> Incident | None:
    lock = session.get(OpenIncidentLock, registration_code)
    return session.get(Incident, lock.incident_id) if lock is not None else None


# ---------------------------------------------------------------- dispatch and escalation


def _dispatches(session: Session, inc: Incident) -> list[Dispatch]:
    """The incident's dispatches, first first."""
    return list(
        session.scalars(
            select(Dispatch)
            .where(Dispatch.incident_id == inc.id)
            .order_by(Dispatch.dispatched_at, Dispatch.id)
        )
    )


def _derive(session: Session, inc: Incident) -> None:
    """The incident's stage times and current responder, derived from its dispatches: dispatched = the
    first dispatch, acknowledged = the first answer, arrived = the first arrival (of any crew, or the fire
    service); the crew shown is the latest one still on the job. An open incident's status follows."""
    session.flush()
    rows = _dispatches(session, inc)
    inc.dispatched_at = rows[0].dispatched_at if rows else None
    inc.acknowledged_at = min((d.acknowledged_at for d in rows if d.acknowledged_at), default=None)
    inc.arrived_at = min((d.arrived_at for d in rows if d.arrived_at), default=None)
    active = [d for d in rows if d.withdrawn_at is None]
    crewed = [d for d in active if d.crew_id is not None]
    inc.crew_id = crewed[-1].crew_id if crewed else None
    inc.responder_unit = (crewed or active or rows)[-1].unit if rows else ""
    if inc.status in _OPEN:
        if inc.arrived_at is not None:
            inc.status = IncidentStatus.ARRIVED.value
        elif any(d.acknowledged_at is not None for d in active):
            inc.status = IncidentStatus.ACKNOWLEDGED.value
        elif active:
            inc.status = IncidentStatus.DISPATCHED.value
        else:
            inc.status = IncidentStatus.RAISED.value


def _add_dispatch(
    session: Session,
    inc: Incident,
    level: Level,
    unit: str,
    crew: Crew | None,
    actor: str,
    at: datetime,
    eta_s: int | None = None,
    reference: str = "",
) -> Dispatch:
    """A new dispatch row; earlier ones are left as they are (their crews stay on the job)."""
    row = Dispatch(
        incident_id=inc.id,
        level=level.value,
        unit=unit,
        crew_id=crew.id if crew is not None else None,
        dispatched_at=at,
        dispatched_by=actor,
        eta_s=eta_s,
        reference=reference,
        acknowledged_at=None,
        arrived_at=None,
        released_at=None,
        withdrawn_at=None,
        withdrawn_by="",
        withdraw_reason="",
    )
    session.add(row)
    _derive(session, inc)
    return row


def _candidates(
    session: Session, level: Level, inc: Incident, now: datetime, settings: RescueSettings
) -> Sequence[Crew]:
    """Free crews on duty now: the contracted unit's for L1; for L2 every rescue station's and every other
    unit's (never the contracted unit's: it is the one that could not make it)."""
    stmt = select(Crew).where(Crew.on_shift.is_(True), Crew.busy_incident_id.is_(None))
    if level is Level.L1:
        stmt = stmt.where(Crew.unit == inc.maintenance_unit)
    else:
        stmt = stmt.where(Crew.unit != inc.maintenance_unit)
    return [c for c in session.scalars(stmt.order_by(Crew.id)) if on_duty(c, now, settings.tz)]


def _dispatch(
    session: Session,
    inc: Incident,
    level: Level,
    actor: str,
    now: datetime,
    settings: RescueSettings,
    estimator: TravelEstimator,
) -> list[Notice]:
    """Add a dispatch for ``level`` to the free crew with the soonest predicted arrival (all candidates
    are free now, so the shortest travel); set the deadlines that watch it. Earlier dispatches stay. At L2,
    when no candidate can arrive by the deadline, the incident records it and a notice says so."""
    place = registry_queries.places_of(session, [inc.registration_code]).get(inc.registration_code)
    located = place is not None and place.latitude is not None and place.longitude is not None
    on_job = {d.crew_id for d in _dispatches(session, inc) if d.withdrawn_at is None}
    best: tuple[float, Crew] | None = None
    for crew in _candidates(session, level, inc, now, settings):
        if crew.id in on_job:
            continue
        if not located:
            # No coordinates on file: no travel estimate; the unit's first free crew, no prediction.
            best = best or (math.nan, crew)
            continue
        assert place is not None and place.latitude is not None and place.longitude is not None
        eta = estimator.seconds(
            GeoPoint(crew.latitude, crew.longitude), GeoPoint(place.latitude, place.longitude)
        )
        if best is None or (eta, crew.id) < (best[0], best[1].id):
            best = (eta, crew)
    inc.level = level.value
    inc.updated_at = now
    notices: list[Notice] = []
    deadline = inc.alarm_at + timedelta(minutes=inc.arrival_limit_min)
    predicted: datetime | None = None
    if best is None:
        if level is Level.L1:  # the contracted unit is told, with no crew free: its dispatch is on record
            _add_dispatch(session, inc, level, inc.maintenance_unit, None, actor, now)
        event = _record(session, inc, actor, "dispatched", now, level=level.value, crew=None, eta_s=None)
        notices.append(_notice(session, inc, event, "no_crew", level.value))
    else:
        eta, crew = best
        crew.busy_incident_id = inc.id
        eta_s = None if math.isnan(eta) else round(eta)
        predicted = None if eta_s is None else now + timedelta(seconds=eta)
        _add_dispatch(session, inc, level, crew.unit, crew, actor, now, eta_s)
        event = _record(session, inc, actor, "dispatched", now, level=level.value, crew=crew.id, eta_s=eta_s)
        notices.append(
            _notice(session, inc, event, "dispatched", level.value, {"crew": crew.id, "eta_s": eta_s})
        )
        if level is Level.L2 and predicted is not None and predicted > deadline:
            late = _record(
                session, inc, actor, "no_crew_in_time", now, crew=crew.id,
                predicted_arrival=predicted.isoformat(), deadline=deadline.isoformat(),
            )  # fmt: skip
            notices.append(
                _notice(
                    session,
                    inc,
                    late,
                    "no_crew_in_time",
                    level.value,
                    {
                        "crew": crew.id,
                        "predicted_arrival": predicted.isoformat(),
                        "deadline": deadline.isoformat(),
                    },
                )
            )
    _cancel_timers(session, inc, TimerKind.ACK, TimerKind.ARRIVAL)
    _timer(session, inc, TimerKind.ACK, now + timedelta(seconds=settings.ack_limit_s))
    if level is Level.L1:
        if predicted is not None and predicted > deadline:
            # The contracted unit cannot make it in time: send the nearest other crew now (DOMAIN.md §5).
            session.flush()
            return notices + escalate(
                session, inc, Level.L2, "predicted_late", actor, now, settings, estimator
            )
        _timer(session, inc, TimerKind.ARRIVAL, deadline)
    return notices


def escalate(
    session: Session,
    inc: Incident,
    level: Level,
    reason: str,
    actor: str,
    now: datetime,
    settings: RescueSettings,
    estimator: TravelEstimator | None = None,
    note: str = "",
) -> list[Notice]:
    """Escalate: L2 adds a dispatch (the L1 crew stays on the job); L3 tells the operator to call 119, which
    is then recorded with :func:`record_fire_call`. ``reason`` is a code (no_acknowledgement, late_arrival,
    not_arrived, predicted_late, operator); ``note`` the operator's own words when done by hand."""
    extra = {"note": note} if note else {}
    if level is Level.L2:
        inc.escalated_l2_at = now
        event = _record(session, inc, actor, "escalated", now, to=level.value, reason=reason, **extra)
        notices = [_notice(session, inc, event, "escalated", level.value, {"reason": reason, **extra})]
        return notices + _dispatch(
            session, inc, Level.L2, actor, now, settings, estimator or RoadFactorEstimator()
        )
    inc.level = Level.L3.value
    inc.escalated_l3_at = now
    inc.updated_at = now
    event = _record(session, inc, actor, "escalated", now, to=Level.L3.value, reason=reason, **extra)
    return [
        _notice(session, inc, event, "escalated", Level.L3.value, {"reason": reason, "call": "119", **extra})
    ]


def fire_due_timers(
    session: Session,
    clock: Clock,
    settings: RescueSettings,
    estimator: TravelEstimator | None = None,
) -> list[Notice]:
    """Fire every deadline that is due; the scheduler calls this every few seconds, in any process,
    after any restart (PostgreSQL: rows locked with SKIP LOCKED so two schedulers never fire one twice)."""
    notices: list[Notice] = []
    for timer in deadlines.fire_due(session, RescueTimer, clock.now()):
        inc = session.get(Incident, timer.incident_id)
        if inc is None or inc.status not in _WATCHED:
            continue
        kind = TimerKind(timer.kind)
        if kind is TimerKind.ACK and inc.acknowledged_at is None and inc.level == Level.L1.value:
            notices += escalate(
                session, inc, Level.L2, "no_acknowledgement", "scheduler", timer.due_at, settings, estimator
            )
        elif kind is TimerKind.ARRIVAL and inc.arrived_at is None and inc.level == Level.L1.value:
            notices += escalate(
                session, inc, Level.L2, "late_arrival", "scheduler", timer.due_at, settings, estimator
            )
        elif kind is TimerKind.L3 and inc.arrived_at is None and inc.level != Level.L3.value:
            notices += escalate(
                session, inc, Level.L3, "not_arrived", "scheduler", timer.due_at, settings, estimator
            )
    session.flush()
    return notices


_WATCHED = frozenset(
    {IncidentStatus.RAISED.value, IncidentStatus.DISPATCHED.value, IncidentStatus.ACKNOWLEDGED.value}
)
_OPEN = frozenset(s.value for s in OPEN_STATUSES)


# ---------------------------------------------------------------- crew actions


def _own_dispatch(
    session: Session, actor: Actor, inc: Incident, dispatch_id: int | None, withdrawn_ok: bool = False
) -> Dispatch:
    """The dispatch ``actor`` acts on: a crew only its own (another crew's is not found); an operator any
    (``dispatch_id``), by default the latest one still on the job."""
    rows = _dispatches(session, inc)
    crew = crew_of(session, actor)
    operator = actor.role in OPERATORS
    if dispatch_id is not None:
        row = next((d for d in rows if d.id == dispatch_id), None)
        if row is None or (not operator and (crew is None or row.crew_id != crew.id)):
            raise NotFound(f"no dispatch {dispatch_id} of incident {inc.id}")
    else:
        mine = [d for d in rows if crew is not None and d.crew_id == crew.id]
        active = [d for d in (mine or (rows if operator else [])) if d.withdrawn_at is None]
        if active:
            row = active[-1]
        elif mine:
            row = mine[-1]
        elif operator:
            raise Conflict(f"incident {inc.id} has no dispatch to act on")
        else:
            raise NotFound(f"no incident {inc.id}")
    if row.withdrawn_at is not None and not withdrawn_ok:
        raise Conflict(
            f"dispatch {row.id} of incident {inc.id} was withdrawn at {row.withdrawn_at.isoformat()}"
        )
    return row


def acknowledge(
    session: Session, actor: Actor, incident_id: int, clock: Clock, dispatch_id: int | None = None
) -> Incident:
    """The crew answers its own dispatch. Another crew's answer never counts for it (docs/KPIS.md)."""
    inc = get_incident(session, actor, incident_id)
    row = _own_dispatch(session, actor, inc, dispatch_id)
    if inc.status not in _OPEN:
        raise Conflict(f"incident {incident_id} is {inc.status}")
    if row.acknowledged_at is not None or row.arrived_at is not None:
        raise Conflict(f"dispatch {row.id} of incident {incident_id} was already answered")
    now = clock.now()
    row.acknowledged_at = now
    inc.updated_at = now
    _derive(session, inc)
    _cancel_timers(session, inc, TimerKind.ACK)
    _record(
        session, inc, actor.username, "acknowledged", now, dispatch=row.id, crew=row.crew_id, level=row.level
    )
    session.flush()
    return inc


def arrive(
    session: Session, actor: Actor, incident_id: int, clock: Clock, dispatch_id: int | None = None
) -> Incident:
    """The crew is on site. An earlier crew that arrives after a later one is recorded too (it came; its
    arrival counts for its own unit). The first arrival stops the deadlines."""
    inc = get_incident(session, actor, incident_id)
    row = _own_dispatch(session, actor, inc, dispatch_id)
    if inc.status not in _OPEN and inc.status != IncidentStatus.RELEASED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}")
    if row.arrived_at is not None:
        raise Conflict(f"dispatch {row.id} of incident {incident_id} arrived at {row.arrived_at.isoformat()}")
    now = clock.now()
    row.arrived_at = now
    inc.updated_at = now
    _derive(session, inc)
    _cancel_timers(session, inc, TimerKind.ACK, TimerKind.ARRIVAL, TimerKind.L3)
    _record(session, inc, actor.username, "arrived", now, dispatch=row.id, crew=row.crew_id, level=row.level)
    session.flush()
    return inc


def _released(session: Session, inc: Incident, row: Dispatch, at: datetime, all_released: bool) -> None:
    row.released_at = at
    inc.status = IncidentStatus.RELEASED.value
    inc.released_at = at
    inc.all_released = all_released
    inc.updated_at = at
    _unlock(session, inc)


def release(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    all_released: bool = True,
    dispatch_id: int | None = None,
) -> Incident:
    """The trapped persons are out, freed by this crew (it must be on site)."""
    inc = get_incident(session, actor, incident_id)
    row = _own_dispatch(session, actor, inc, dispatch_id)
    if inc.status != IncidentStatus.ARRIVED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}, not arrived")
    if row.arrived_at is None:
        raise Conflict(f"dispatch {row.id} of incident {incident_id} has not arrived")
    now = clock.now()
    _released(session, inc, row, now, all_released)
    _record(session, inc, actor.username, "released", now, all_released=all_released, dispatch=row.id)
    session.flush()
    return inc


def complete(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    settings: RescueSettings,
    cause: Cause,
    detail: str = "",
    dispatch_id: int | None = None,
) -> Incident:
    """Close the case with the cause (the L1 unit reports it); every crew still on it is free again and
    takes an incident waiting for a crew at once (:func:`_free_crew`)."""
    inc = get_incident(session, actor, incident_id)
    _own_dispatch(session, actor, inc, dispatch_id, withdrawn_ok=True)
    if inc.status != IncidentStatus.RELEASED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}, not released")
    now = clock.now()
    inc.status = IncidentStatus.COMPLETED.value
    inc.completed_at = now
    inc.cause = cause.value
    inc.cause_detail = detail
    inc.updated_at = now
    _record(session, inc, actor.username, "completed", now, cause=cause.value)
    _free_crew(session, inc, clock, settings)
    return inc


def _required(name: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(FieldError(name, "required: say why"))
    return value


def _time_given(inc: Incident, at: datetime | None, now: datetime, name: str = "at") -> datetime:
    """A time the operator gives (what the fire service or the caller said): between the alarm and now."""
    if at is None:
        return now
    at = as_utc(at)
    if at < inc.alarm_at or at > now:
        raise InvalidInput(
            FieldError(name, f"{at.isoformat()} is not between the alarm {inc.alarm_at.isoformat()} and now")
        )
    return at


def _operator_incident(session: Session, actor: Actor, incident_id: int, what: str) -> Incident:
    if actor.role not in OPERATORS:
        raise Forbidden(f"role '{actor.role.value}' may not {what}")
    return get_incident(session, actor, incident_id)


def _close(
    session: Session,
    inc: Incident,
    actor: Actor,
    status: IncidentStatus,
    reason: str,
    now: datetime,
    clock: Clock,
    settings: RescueSettings,
    kind: str,
    **details: Any,
) -> Incident:
    """End an open incident without a rescue on site: deadlines off, the elevator unlocked, every crew not
    yet arrived withdrawn and told so (a crew on the road turns back; the reason is the closing status),
    the change recorded as ``kind`` with ``details``, and every crew freed (:func:`_free_crew`)."""
    inc.status = status.value
    inc.close_reason = reason
    inc.updated_at = now
    _cancel_timers(session, inc, TimerKind.ACK, TimerKind.ARRIVAL, TimerKind.L3)
    _unlock(session, inc)
    for row in _dispatches(session, inc):
        if row.withdrawn_at is None and row.arrived_at is None:
            _take_off(session, inc, row, actor.username, status.value, now)
    _record(session, inc, actor.username, kind, now, **details)  # the closing entry ends the trail
    _free_crew(session, inc, clock, settings)
    return inc


def false_alarm(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    settings: RescueSettings,
    note: str = "",
) -> Incident:
    """Nobody was trapped (误报); the reason is required. Freed crews as :func:`complete`."""
    inc = _operator_incident(session, actor, incident_id, "close incidents as false alarms")
    if inc.status not in _OPEN:
        raise Conflict(f"incident {incident_id} is {inc.status}")
    reason = _required("note", note)
    now = clock.now()
    inc.closed_false_at = now
    return _close(
        session, inc, actor, IncidentStatus.FALSE_ALARM, reason, now, clock, settings, "false_alarm",
        note=reason,
    )  # fmt: skip


def self_released(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    settings: RescueSettings,
    note: str = "",
    at: datetime | None = None,
    cause: Cause | None = None,
) -> Incident:
    """The passengers got out before any crew arrived (自行脱困), at ``at`` (default now): a rescue, closed,
    everyone out. Crews on the way are withdrawn (and freed as :func:`complete`)."""
    inc = _operator_incident(session, actor, incident_id, "record a self-release")
    if inc.status not in _WATCHED:
        raise Conflict(f"incident {incident_id} is {inc.status}: self-release is before any arrival")
    now = clock.now()
    out_at = _time_given(inc, at, now)
    inc.released_at = out_at
    inc.all_released = True
    inc.completed_at = now
    if cause is not None:
        inc.cause = cause.value
    return _close(
        session, inc, actor, IncidentStatus.SELF_RELEASED, note.strip(), now, clock, settings,
        "self_released", out_at=out_at.isoformat(), note=note.strip(),
    )  # fmt: skip


def cancel_call(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    settings: RescueSettings,
    reason: str,
) -> Incident:
    """The caller cancelled before anyone arrived (报警取消); the reason is required. Freed crews as
    :func:`complete`."""
    inc = _operator_incident(session, actor, incident_id, "cancel calls")
    if inc.status not in _WATCHED:
        raise Conflict(f"incident {incident_id} is {inc.status}: only a call nobody has reached is cancelled")
    why = _required("reason", reason)
    now = clock.now()
    inc.cancelled_at = now
    return _close(
        session, inc, actor, IncidentStatus.CANCELLED, why, now, clock, settings, "cancelled", note=why
    )


def withdraw(
    session: Session,
    actor: Actor,
    incident_id: int,
    dispatch_id: int,
    clock: Clock,
    settings: RescueSettings,
    reason: str,
) -> Dispatch:
    """Take a crew off the job: the operator any dispatch, a crew its own; the reason is required. The
    crew is told when the centre took it off (:func:`_take_off`), and once free takes an incident waiting
    for a crew at once (:func:`_free_crew`; never this one again unasked)."""
    inc = get_incident(session, actor, incident_id)
    row = _own_dispatch(session, actor, inc, dispatch_id)
    if inc.status not in _OPEN and inc.status != IncidentStatus.RELEASED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}: its crews are free already")
    why = _required("reason", reason)
    now = clock.now()
    inc.updated_at = now
    # the centre took the crew off: tell it (a crew that withdrew itself knows)
    _take_off(session, inc, row, actor.username, why, now, tell=actor.role in OPERATORS)
    _derive(session, inc)
    _free_crew(session, inc, clock, settings, [row])
    return row


def dispatches_of(session: Session, actor: Actor, incident_id: int) -> list[Dispatch]:
    """The incident's dispatches, first first (scope as :func:`get_incident`)."""
    return _dispatches(session, get_incident(session, actor, incident_id))


# ---------------------------------------------------------------- by the operator's hand

REPEAT_WINDOW = timedelta(seconds=60)  # the same re-dispatch again within this: a double submit


def _level_order(level: str) -> int:
    return [lv.value for lv in Level].index(level)


def _take_off(
    session: Session, inc: Incident, row: Dispatch, actor: str, why: str, now: datetime, tell: bool = True
) -> None:
    """Withdraw one dispatch, recorded as ``withdrawn``; with ``tell`` its crew (or its unit, a dispatch
    without a crew) gets a ``withdrawn`` notice: by hand, by a re-dispatch that replaces it, or by a surge
    re-plan, whoever took it off. Its crew is freed by the caller (:func:`_free_crew`)."""
    row.withdrawn_at, row.withdrawn_by, row.withdraw_reason = now, actor, why
    event = _record(session, inc, actor, "withdrawn", now, dispatch=row.id, crew=row.crew_id, reason=why)
    if tell:
        details = {"dispatch": row.id, "unit": row.unit, "crew": row.crew_id, "reason": why}
        _notice(session, inc, event, "withdrawn", row.level, details)


def redispatch(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    settings: RescueSettings,
    reason: str,
    crew_id: str | None = None,
    unit: str | None = None,
    replace_earlier: bool = False,
    estimator: TravelEstimator | None = None,
) -> tuple[Dispatch, bool]:
    """Send a crew by hand (改派 / 加派), with the reason: the chosen crew, or the chosen unit's free crew
    on duty with the soonest predicted arrival that was not sent to this incident before (none: the unit
    itself is told, a dispatch without a crew). The dispatch is L1 for the contracted unit, else L2 (the
    incident's level never goes down). The earlier crews stay on the job unless ``replace_earlier``: then
    every dispatch not yet on site is withdrawn with the same reason. Safe to submit twice: a crew already
    on the job, or the same request again within :data:`REPEAT_WINDOW`, returns the dispatch on record
    (``created`` False)."""
    inc = _operator_incident(session, actor, incident_id, "re-dispatch incidents")
    if inc.status not in _OPEN:
        raise Conflict(f"incident {incident_id} is {inc.status}: only an open incident is re-dispatched")
    why = _required("reason", reason)
    if not crew_id and not unit:
        raise InvalidInput(FieldError("crew_id", "required: the crew (or the unit) to send"))
    estimator = estimator or RoadFactorEstimator()
    now = clock.now()
    site = incident_queries.site_of(session, inc)
    rows = _dispatches(session, inc)
    active = [d for d in rows if d.withdrawn_at is None]
    crew: Crew | None = None
    if crew_id:
        crew = session.get(Crew, crew_id)
        if crew is None:
            raise InvalidInput(FieldError("crew_id", f"no crew '{crew_id}'"))
        if unit and crew.unit != unit:
            raise InvalidInput(FieldError("unit", f"crew '{crew_id}' is of unit '{crew.unit}', not '{unit}'"))
        if not crew.on_shift:
            raise InvalidInput(FieldError("crew_id", f"crew '{crew_id}' is off shift"))
        target = crew.unit
        mine = next((d for d in active if d.crew_id == crew.id), None)
        if mine is not None:
            return mine, False
    else:
        assert unit is not None
        if registry_queries.unit_by_code(session, unit) is None:
            raise InvalidInput(FieldError("unit", f"no unit '{unit}'"))
        target = unit
        repeat = _repeated_redispatch(session, inc, actor, target, why, now, active)
        if repeat is not None:
            return repeat, False
        sent = {d.crew_id for d in rows}  # a crew taken off this incident is not sent back unasked
        free = [
            c
            for c in session.scalars(
                select(Crew)
                .where(Crew.unit == target, Crew.on_shift.is_(True), Crew.busy_incident_id.is_(None))
                .order_by(Crew.id)
            )
            if c.id not in sent and on_duty(c, now, settings.tz)
        ]
        timed = [(incident_queries.eta_s(site, c, estimator), c) for c in free]
        timed.sort(key=lambda ec: (ec[0] is None, ec[0] or 0, ec[1].id))
        crew = timed[0][1] if timed else None
    level = Level.L1 if target == inc.maintenance_unit else Level.L2
    taken_off = [d for d in active if replace_earlier and d.arrived_at is None and d.level != Level.L3.value]
    for d in taken_off:
        _take_off(session, inc, d, actor.username, why, now)
    eta_s = incident_queries.eta_s(site, crew, estimator) if crew is not None else None
    if crew is not None and crew.busy_incident_id is None:
        crew.busy_incident_id = inc.id  # a busy crew keeps its job; this one waits in its queue
    row = _add_dispatch(session, inc, level, target, crew, actor.username, now, eta_s)
    if _level_order(level.value) > _level_order(inc.level):
        inc.level = level.value
        inc.escalated_l2_at = inc.escalated_l2_at or now
    inc.updated_at = now
    _cancel_timers(session, inc, TimerKind.ACK)
    _timer(session, inc, TimerKind.ACK, now + timedelta(seconds=settings.ack_limit_s))
    event = _record(
        session, inc, actor.username, "redispatched", now, dispatch=row.id, level=level.value, unit=target,
        crew=crew.id if crew else None, eta_s=eta_s, reason=why, withdrawn=[d.id for d in taken_off],
    )  # fmt: skip
    details = {
        "crew": crew.id if crew else None,
        "eta_s": eta_s,
        "unit": target,
        "by_hand": True,
        "reason": why,
    }
    _notice(session, inc, event, "dispatched" if crew else "no_crew", level.value, details)
    if taken_off:
        _free_crew(session, inc, clock, settings, taken_off, estimator)
    session.flush()
    return row, True


def _repeated_redispatch(
    session: Session,
    inc: Incident,
    actor: Actor,
    unit: str,
    why: str,
    now: datetime,
    active: Sequence[Dispatch],
) -> Dispatch | None:
    """The dispatch of the same re-dispatch (same operator, unit and reason) made moments ago and still on."""
    since = now - REPEAT_WINDOW
    by_id = {d.id: d for d in active}
    for event in reversed(incident_queries.incident_events(session, inc)):
        if event.at < since:
            break
        d = event.details
        if (
            event.kind == "redispatched"
            and event.actor == actor.username
            and d.get("unit") == unit
            and d.get("reason") == why
            and d.get("dispatch") in by_id
        ):
            return by_id[d["dispatch"]]
    return None


def escalate_by_hand(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    settings: RescueSettings,
    reason: str,
    from_level: Level | None = None,
    estimator: TravelEstimator | None = None,
) -> tuple[Incident, bool]:
    """The operator escalates to the next level, with the reason: L1 -> L2 adds a dispatch to the crew
    with the soonest arrival (the earlier crews stay), L2 -> L3 asks for 119 (recorded with
    :func:`record_fire_call`). ``from_level`` is the level the operator saw: when the incident is already
    past it (a double submit, or the scheduler was first) nothing changes (``escalated`` False)."""
    inc = _operator_incident(session, actor, incident_id, "escalate incidents")
    if inc.status not in _OPEN:
        raise Conflict(f"incident {incident_id} is {inc.status}: only an open incident is escalated")
    why = _required("reason", reason)
    if from_level is not None and _level_order(inc.level) > _level_order(from_level.value):
        return inc, False
    if inc.level == Level.L3.value:
        raise Conflict(f"incident {incident_id} is at L3 already: record the 119 call")
    nxt = Level.L2 if inc.level == Level.L1.value else Level.L3
    escalate(session, inc, nxt, "operator", actor.username, clock.now(), settings, estimator, note=why)
    session.flush()
    return inc, True


# ---------------------------------------------------------------- L3: the fire service (119)


def _fire_row(session: Session, inc: Incident) -> Dispatch | None:
    rows = [d for d in _dispatches(session, inc) if d.level == Level.L3.value and d.withdrawn_at is None]
    return rows[-1] if rows else None


def record_fire_call(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    reference: str = "",
    at: datetime | None = None,
) -> Dispatch:
    """The operator called 119 (L3): the call's time (default now), who called and the fire service's
    reference are an L3 dispatch row (unit ``119``). Escalates to L3 if the incident was not there yet."""
    inc = _operator_incident(session, actor, incident_id, "record 119 calls")
    if inc.status not in _OPEN:
        raise Conflict(f"incident {incident_id} is {inc.status}")
    if _fire_row(session, inc) is not None:
        raise Conflict(f"incident {incident_id}: 119 was already called")
    now = clock.now()
    called = _time_given(inc, at, now)
    if inc.level != Level.L3.value:
        inc.level = Level.L3.value
        inc.escalated_l3_at = called
        event = _record(
            session, inc, actor.username, "escalated", called, to=Level.L3.value, reason="operator"
        )
        _notice(session, inc, event, "escalated", Level.L3.value, {"reason": "operator", "call": "119"})
    row = _add_dispatch(
        session, inc, Level.L3, FIRE_SERVICE, None, actor.username, called, reference=reference
    )
    inc.updated_at = now
    _record(session, inc, actor.username, "fire_called", called, dispatch=row.id, reference=reference)
    session.flush()
    return row


def record_fire_arrival(
    session: Session, actor: Actor, incident_id: int, clock: Clock, at: datetime | None = None
) -> Incident:
    """The fire service is on site (its arrival is the incident's if it came first)."""
    inc = _operator_incident(session, actor, incident_id, "record the fire service's arrival")
    row = _fire_row(session, inc)
    if row is None:
        raise Conflict(f"incident {incident_id}: no 119 call on record")
    if row.arrived_at is not None:
        raise Conflict(f"incident {incident_id}: the fire service arrived at {row.arrived_at.isoformat()}")
    if inc.status not in _OPEN and inc.status != IncidentStatus.RELEASED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}")
    now = clock.now()
    row.arrived_at = _time_given(inc, at, now)
    inc.updated_at = now
    _derive(session, inc)
    _cancel_timers(session, inc, TimerKind.ACK, TimerKind.ARRIVAL, TimerKind.L3)
    _record(session, inc, actor.username, "fire_arrived", row.arrived_at, dispatch=row.id)
    session.flush()
    return inc


def record_fire_release(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    all_released: bool = True,
    at: datetime | None = None,
) -> Incident:
    """The fire service freed the trapped persons; the L1 unit still reports the cause (complete)."""
    inc = _operator_incident(session, actor, incident_id, "record the fire service's release")
    row = _fire_row(session, inc)
    if row is None or row.arrived_at is None:
        raise Conflict(f"incident {incident_id}: the fire service has not arrived")
    if inc.status != IncidentStatus.ARRIVED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}, not arrived")
    now = clock.now()
    out_at = _time_given(inc, at, now)
    _released(session, inc, row, out_at, all_released)
    inc.updated_at = now
    _record(session, inc, actor.username, "fire_released", out_at, dispatch=row.id, all_released=all_released)
    session.flush()
    return inc


def call_back(session: Session, actor: Actor, incident_id: int, clock: Clock, note: str = "") -> Incident:
    """The operator's call-back (回访) after the rescue: recorded once with what the caller said."""
    if actor.role not in OPERATORS:
        raise Forbidden(f"role '{actor.role.value}' may not record call-backs")
    inc = get_incident(session, actor, incident_id)
    if inc.status not in (
        IncidentStatus.RELEASED.value,
        IncidentStatus.COMPLETED.value,
        IncidentStatus.SELF_RELEASED.value,
    ):
        raise Conflict(f"incident {incident_id} is {inc.status}: call back after the release")
    if inc.callback_at is not None:
        raise Conflict(f"incident {incident_id} was called back at {inc.callback_at.isoformat()}")
    now = clock.now()
    inc.callback_at = now
    inc.updated_at = now
    _record(session, inc, actor.username, "called_back", now, note=note)
    session.flush()
    return inc


def _unlock(session: Session, inc: Incident) -> None:
    lock = session.get(OpenIncidentLock, inc.registration_code)
    if lock is not None and lock.incident_id == inc.id:
        session.delete(lock)


def _next_job(session: Session, crew: Crew, done: Incident) -> int | None:
    """The incident queued next for ``crew`` by a surge plan (its earliest dispatch still waiting)."""
    queued: int | None = session.scalar(
        select(Dispatch.incident_id)
        .join(Incident, Incident.id == Dispatch.incident_id)
        .where(
            Dispatch.crew_id == crew.id,
            Dispatch.withdrawn_at.is_(None),
            Dispatch.acknowledged_at.is_(None),
            Dispatch.incident_id != done.id,
            Incident.status == IncidentStatus.DISPATCHED.value,
        )
        .order_by(Dispatch.dispatched_at, Dispatch.id)
    )
    return queued


def _free_crew(
    session: Session,
    inc: Incident,
    clock: Clock,
    settings: RescueSettings,
    rows: Sequence[Dispatch] | None = None,
    estimator: TravelEstimator | None = None,
) -> None:
    """The one place a crew is freed: every crew busy with ``inc`` (or only the crews of ``rows``, taken
    off it) is done with it and takes the next incident queued for it by a surge plan; a crew left free
    takes an incident waiting for a crew at once (:func:`dispatch_waiting`), in this transaction. Called
    last, once ``inc`` stands as it will be committed (it must not look like it waits itself)."""
    stmt = select(Crew).where(Crew.busy_incident_id == inc.id)
    if rows is not None:
        stmt = stmt.where(Crew.id.in_([d.crew_id for d in rows if d.crew_id is not None]))
    for crew in session.scalars(stmt).all():
        crew.busy_incident_id = _next_job(session, crew, inc)
    session.flush()
    dispatch_waiting(session, clock, settings, estimator)


def report_position(session: Session, actor: Actor, lat: float, lon: float, clock: Clock) -> Crew:
    crew = crew_of(session, actor)
    if crew is None:
        raise Forbidden(f"user '{actor.username}' is not a crew")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInput([FieldError("latitude", "out of range"), FieldError("longitude", "out of range")])
    crew.latitude, crew.longitude, crew.position_at = lat, lon, clock.now()
    session.flush()
    return crew


def _check_crew_user(session: Session, unit: str, username: str) -> None:
    """A crew's login must be a user of the crew's own unit (a rescue station is a unit too): whoever logs
    in as the crew sees and acts on the crew's incidents, so binding another company's user would hand
    them to it. No role may bind across units, not even an admin."""
    account = accounts.account_of(session, username)
    if account is None:
        raise InvalidInput(FieldError("username", f"no account '{username}'"))
    if account.unit != unit:
        where = f"unit '{account.unit}'" if account.unit else "no unit"
        raise InvalidInput(
            FieldError(
                "username",
                f"'{username}' belongs to {where}; a crew of '{unit}' may only be bound to a user "
                f"of '{unit}'",
            )
        )


CREW_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
_SHIFT = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def parse_shift(text: str) -> tuple[time, time] | None:
    """A daily shift as an operator types it, ``08:00-20:00`` on the city's clock (an end before the start
    runs past midnight: ``20:00-08:00``); empty: round the clock. Refused with the field ``shift``."""
    value = text.strip().replace(" ", "")
    if not value:
        return None
    m = _SHIFT.fullmatch(value)
    if m is None:
        raise InvalidInput(FieldError("shift", f"'{text}' is not HH:MM-HH:MM (e.g. 08:00-20:00)"))
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise InvalidInput(FieldError("shift", f"'{text}': hours 00-23, minutes 00-59")) from None
    if start == end:
        raise InvalidInput(
            FieldError("shift", "start and end are the same: leave the shift empty for round the clock")
        )
    return start, end


def format_shift(crew: Crew) -> str:
    """The crew's shift as :func:`parse_shift` reads it; empty: round the clock."""
    if crew.shift_start is None or crew.shift_end is None:
        return ""
    return f"{crew.shift_start:%H:%M}-{crew.shift_end:%H:%M}"


def _crew_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput(FieldError("name", "required"))
    if len(name) > 64 or any(ord(ch) < 32 for ch in name):
        raise InvalidInput(FieldError("name", "one line of at most 64 characters"))
    return name


def _crew_phone(phone: str) -> str:
    """The number the centre calls the crew on, in one form (rescue.domain.normalise_phone)."""
    try:
        return normalise_phone(phone)
    except ValueError as exc:
        raise InvalidInput(FieldError("phone", str(exc))) from None


def _crew_position(position: GeoPoint) -> GeoPoint:
    errors = []
    if not (math.isfinite(position.lat) and -90 <= position.lat <= 90):
        errors.append(FieldError("latitude", "out of range (-90..90)"))
    if not (math.isfinite(position.lon) and -180 <= position.lon <= 180):
        errors.append(FieldError("longitude", "out of range (-180..180)"))
    if errors:
        raise InvalidInput(errors)
    return position


def _crew_login(session: Session, unit: str, username: str, crew_id: str, on: date) -> None:
    """``username`` may log in as this crew: a user of the crew's unit, not bound to another crew; a
    maintenance unit's worker holding a valid elevator repair certificate (T) on ``on`` (409 naming why
    not; a rescue station's staff are no elevator workers)."""
    _check_crew_user(session, unit, username)
    crew_unit = registry_queries.unit_by_code(session, unit)
    if crew_unit is not None and crew_unit.unit_type == UnitType.MAINTENANCE.value:
        people.require_certified(session, username, on)
    other = session.scalar(select(Crew).where(Crew.username == username, Crew.id != crew_id))
    if other is not None:
        raise Conflict(
            f"username: '{username}' is the login of crew '{other.id}'",
            [FieldError("username", f"already the login of crew '{other.id}'")],
        )


def _may_manage(session: Session, actor: Actor, unit: str, verb: str) -> None:
    """Crews of ``unit`` are managed by the admin, the regulator and the unit's own staff: the unit outside
    the actor's scope is not found (404), another role is refused (403)."""
    unit_row = registry_queries.get_unit(session, actor, unit)  # NotFound outside scope
    if actor.role not in (Role.ADMIN, Role.REGULATOR) and actor.unit_id != unit_row.id:
        raise Forbidden(f"role '{actor.role.value}' may not {verb} crews of unit '{unit}'")


def may_manage_crews(session: Session, actor: Actor, unit: str) -> bool:
    """Whether ``actor`` may add and change crews of ``unit`` (:func:`add_crew`): the screens show their
    forms by this, the service still decides on each change."""
    try:
        _may_manage(session, actor, unit, "manage")
    except (Forbidden, NotFound):
        return False
    return True


def crew_on_duty(crew: Crew, clock: Clock, settings: RescueSettings) -> bool:
    """The crew may be sent now: not stood down and within its shift on the city's clock."""
    return on_duty(crew, clock.now(), settings.tz)


def add_crew(
    session: Session,
    actor: Actor,
    crew_id: str,
    unit: str,
    name: str,
    position: GeoPoint,
    clock: Clock,
    phone: str = "",
    username: str | None = None,
    shift: tuple[time, time] | None = None,
    settings: RescueSettings | None = None,
    estimator: TravelEstimator | None = None,
) -> Crew:
    """Register a crew of a maintenance unit or rescue station (admin, regulator, or the unit's own staff).
    With ``settings`` (the API, the command), incidents waiting for a crew are dispatched at once
    (:func:`dispatch_waiting`), in this transaction."""
    _may_manage(session, actor, unit, "add")
    if not CREW_ID.fullmatch(crew_id):
        raise InvalidInput(FieldError("id", "1 to 40 letters, digits, '_', '.' or '-'"))
    if session.get(Crew, crew_id) is not None:
        raise Conflict(f"id: crew '{crew_id}' exists", [FieldError("id", "already exists")])
    name, phone, position = _crew_name(name), _crew_phone(phone), _crew_position(position)
    if username is not None:
        tz = settings.tz if settings is not None else zone(CITY_TIMEZONE)
        _crew_login(session, unit, username, crew_id, clock.now().astimezone(tz).date())
    if shift is not None and shift[0] == shift[1]:
        raise InvalidInput(FieldError("shift", "start and end are the same"))
    crew = Crew(
        id=crew_id,
        unit=unit,
        name=name,
        phone=phone,
        username=username,
        latitude=position.lat,
        longitude=position.lon,
        position_at=clock.now(),
        on_shift=True,
        shift_start=shift[0] if shift else None,
        shift_end=shift[1] if shift else None,
        busy_incident_id=None,
    )
    session.add(crew)
    session.flush()
    log.info(
        "crew %s added to unit %s by %s (shift %s, login %s)",
        crew_id, unit, actor.username, format_shift(crew) or "round the clock", username or "none",
    )  # fmt: skip
    if settings is not None:
        dispatch_waiting(session, clock, settings, estimator)
    return crew


@dataclass(frozen=True)
class CrewChange:
    """What to change on a crew; None leaves a field as it is. ``username`` "" unbinds the login,
    ``shift`` "" makes it round the clock (else ``HH:MM-HH:MM``), ``on_shift`` False stands it down."""

    name: str | None = None
    phone: str | None = None
    unit: str | None = None
    position: GeoPoint | None = None
    username: str | None = None
    shift: str | None = None
    on_shift: bool | None = None


def get_crew(session: Session, actor: Actor, crew_id: str) -> Crew:
    """One crew: the centre (admin, regulator, operators) reads every crew, unit staff their unit's; any
    other crew is not found."""
    crew = session.get(Crew, crew_id)
    if crew is None or not _crew_readable(session, actor, crew.unit):
        raise NotFound(f"no crew '{crew_id}'")
    return crew


def _crew_readable(session: Session, actor: Actor, unit: str) -> bool:
    if actor.role in (Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR):
        return True
    if actor.unit_scoped and actor.unit_id is not None:
        row = registry_queries.unit_by_code(session, unit)
        return row is not None and row.id == actor.unit_id
    raise Forbidden(f"role '{actor.role.value}' may not read crews")


def list_crews(session: Session, actor: Actor, unit: str | None = None) -> list[Crew]:
    """The crews the actor may read (:func:`get_crew`), by id; ``unit`` narrows to one unit (a unit outside
    the actor's scope is not found)."""
    if unit is not None and not _crew_readable(session, actor, unit):
        raise NotFound(f"no unit with code '{unit}'")
    stmt = select(Crew).order_by(Crew.id)
    if unit is not None:
        stmt = stmt.where(Crew.unit == unit)
    elif actor.role not in (Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR):
        _crew_readable(session, actor, "")  # refuses a role that reads no crews
        own = registry_queries.unit_codes(session, [actor.unit_id])
        stmt = stmt.where(Crew.unit.in_(list(own.values())))
    return list(session.scalars(stmt))


def update_crew(
    session: Session,
    actor: Actor,
    crew_id: str,
    change: CrewChange,
    clock: Clock,
    settings: RescueSettings,
    estimator: TravelEstimator | None = None,
) -> Crew:
    """Change a crew (scope as :func:`add_crew`; unit staff cannot move a crew to another unit). A crew
    stood down keeps the job it has, and gets no new one. Afterwards incidents waiting for a crew are
    dispatched at once (:func:`dispatch_waiting`), in this transaction."""
    crew = get_crew(session, actor, crew_id)
    _may_manage(session, actor, crew.unit, "change")
    before = {
        "unit": crew.unit, "name": crew.name, "phone": crew.phone, "username": crew.username,
        "shift": format_shift(crew), "on_shift": crew.on_shift,
        "position": (crew.latitude, crew.longitude),
    }  # fmt: skip
    unit = crew.unit
    if change.unit is not None and change.unit != crew.unit:
        _may_manage(session, actor, change.unit, "move")
        unit = change.unit
    username = crew.username if change.username is None else (change.username.strip() or None)
    if username is not None and (username != crew.username or unit != crew.unit):
        _crew_login(session, unit, username, crew.id, clock.now().astimezone(settings.tz).date())
    if change.name is not None:
        crew.name = _crew_name(change.name)
    if change.phone is not None:
        crew.phone = _crew_phone(change.phone)
    if change.position is not None:
        where = _crew_position(change.position)
        crew.latitude, crew.longitude, crew.position_at = where.lat, where.lon, clock.now()
    if change.shift is not None:
        shift = parse_shift(change.shift)
        crew.shift_start, crew.shift_end = shift if shift else (None, None)
    if change.on_shift is not None:
        crew.on_shift = change.on_shift
    crew.unit, crew.username = unit, username
    session.flush()
    after = {
        "unit": crew.unit, "name": crew.name, "phone": crew.phone, "username": crew.username,
        "shift": format_shift(crew), "on_shift": crew.on_shift,
        "position": (crew.latitude, crew.longitude),
    }  # fmt: skip
    changed = {k: f"{before[k]!r} -> {after[k]!r}" for k in after if after[k] != before[k]}
    log.info("crew %s changed by %s: %s", crew.id, actor.username, changed or "nothing")
    dispatch_waiting(session, clock, settings, estimator)
    return crew


def set_crew_on_shift(
    session: Session,
    actor: Actor,
    crew_id: str,
    on_shift: bool,
    clock: Clock,
    settings: RescueSettings,
    estimator: TravelEstimator | None = None,
) -> Crew:
    """Stand a crew down (on leave, vehicle out of service) or bring it back; see :func:`update_crew`."""
    return update_crew(session, actor, crew_id, CrewChange(on_shift=on_shift), clock, settings, estimator)


# ---------------------------------------------------------------- incidents waiting for a crew

_WAITING_LOCK = 0x6C77_6477  # one transaction at a time dispatches waiting incidents (PostgreSQL)
_WAITING = (IncidentStatus.RAISED.value, IncidentStatus.DISPATCHED.value)


def dispatch_waiting(
    session: Session,
    clock: Clock,
    settings: RescueSettings,
    estimator: TravelEstimator | None = None,
) -> list[Notice]:
    """Give every incident that waits for a crew one, as soon as one is free: an open incident not yet
    answered, nobody arrived, with no crew on the job (its unit was told with nobody sendable, or its crew
    withdrew). At L1 the contracted unit's free crews on duty, at L2 and L3 every other unit's (as L2
    picks); the soonest predicted arrival; oldest alarm first. Called in the transaction that adds, changes
    or frees a crew, and every few seconds by the rescue worker (shifts that start).

    The unit's dispatch without a crew (L1, or a unit an operator chose) is **filled** with the crew, not
    replaced: the unit was told then, so its response is still measured from that dispatch and its
    acknowledgement deadline stands (docs/KPIS.md: a crew found late is the unit's delay, not a fresh five
    minutes). Where no such row exists (L2, or the crew withdrew) a dispatch row is added, watched as
    any. A crew once taken off the incident is not sent back unasked. Idempotent: an incident with a crew
    on the job is not waiting. On PostgreSQL one transaction at a time does this (an advisory lock; a
    second one skips, and the worker's next run catches up)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and not session.scalar(select(func.pg_try_advisory_xact_lock(_WAITING_LOCK))):
        return []
    session.flush()
    now = clock.now()
    fresh = {"populate_existing": True}  # rows another transaction changed before the lock: read anew
    crewed = (
        select(Dispatch.id)
        .where(
            Dispatch.incident_id == Incident.id,
            Dispatch.withdrawn_at.is_(None),
            Dispatch.crew_id.is_not(None),
        )
        .exists()
    )
    waiting = session.scalars(
        select(Incident)
        .where(Incident.status.in_(_WAITING), Incident.arrived_at.is_(None), ~crewed)
        .order_by(Incident.alarm_at, Incident.id)
        .execution_options(**fresh)
    ).all()
    if not waiting:  # the usual case: the worker's every-2-s run stops here
        return []
    free = [
        c
        for c in session.scalars(
            select(Crew)
            .where(Crew.on_shift.is_(True), Crew.busy_incident_id.is_(None))
            .order_by(Crew.id)
            .execution_options(**fresh)
        )
        if on_duty(c, now, settings.tz)
    ]
    estimator = estimator or RoadFactorEstimator()
    notices: list[Notice] = []
    for inc in waiting:
        rows = list(
            session.scalars(
                select(Dispatch)
                .where(Dispatch.incident_id == inc.id)
                .order_by(Dispatch.dispatched_at, Dispatch.id)
                .execution_options(**fresh)
            )
        )
        sent = {d.crew_id for d in rows if d.crew_id is not None}
        own = inc.level == Level.L1.value
        pool = [
            c
            for c in free
            if c.busy_incident_id is None and c.id not in sent and (c.unit == inc.maintenance_unit) == own
        ]
        if not pool:
            continue
        site = incident_queries.site_of(session, inc)
        timed = sorted(
            ((incident_queries.eta_s(site, c, estimator), c) for c in pool),
            key=lambda ec: (ec[0] is None, ec[0] or 0, ec[1].id),
        )
        eta_s, crew = timed[0]
        notices += _send_waiting(session, inc, rows, crew, eta_s, now, settings, estimator)
    session.flush()
    if notices:
        log.info("dispatched %d waiting incident(s) to crews that became free", len(notices))
    return notices


def _send_waiting(
    session: Session,
    inc: Incident,
    rows: Sequence[Dispatch],
    crew: Crew,
    eta_s: int | None,
    now: datetime,
    settings: RescueSettings,
    estimator: TravelEstimator,
) -> list[Notice]:
    """Send ``crew`` to the waiting ``inc`` (:func:`dispatch_waiting`)."""
    told = next(
        (
            d
            for d in rows
            if d.withdrawn_at is None
            and d.crew_id is None
            and d.unit == crew.unit
            and d.level != Level.L3.value
        ),
        None,
    )
    crew.busy_incident_id = inc.id
    if told is not None:  # the unit's dispatch gets its crew: its time and deadline stand
        told.crew_id, told.eta_s = crew.id, eta_s
        row = told
        _derive(session, inc)
    else:
        level = Level.L1 if crew.unit == inc.maintenance_unit else Level.L2
        row = _add_dispatch(session, inc, level, crew.unit, crew, "system", now, eta_s)
        _cancel_timers(session, inc, TimerKind.ACK)
        _timer(session, inc, TimerKind.ACK, now + timedelta(seconds=settings.ack_limit_s))
    inc.updated_at = now
    event = _record(
        session, inc, "system", "dispatched", now, level=row.level, unit=crew.unit, crew=crew.id,
        eta_s=eta_s, dispatch=row.id,
    )  # fmt: skip
    details = {"crew": crew.id, "eta_s": eta_s, "unit": crew.unit, "dispatch": row.id}
    notices = [_notice(session, inc, event, "dispatched", row.level, details)]
    deadline = inc.alarm_at + timedelta(minutes=inc.arrival_limit_min)
    predicted = None if eta_s is None else now + timedelta(seconds=eta_s)
    if predicted is None or predicted <= deadline:
        return notices
    if inc.level == Level.L1.value:  # the contracted unit's crew cannot make it: the nearest other too
        session.flush()
        return notices + escalate(
            session, inc, Level.L2, "predicted_late", "system", now, settings, estimator
        )
    late = _record(
        session, inc, "system", "no_crew_in_time", now, crew=crew.id,
        predicted_arrival=predicted.isoformat(), deadline=deadline.isoformat(),
    )  # fmt: skip
    late_details = {
        "crew": crew.id,
        "predicted_arrival": predicted.isoformat(),
        "deadline": deadline.isoformat(),
    }
    notices.append(_notice(session, inc, late, "no_crew_in_time", row.level, late_details))
    return notices


def kpi_settings(settings: RescueSettings) -> KpiSettings:
    """The KPI formulas' limits, all from the rescue settings (docs/KPIS.md): the acknowledgement limit,
    the closing limit and the city's calendar."""
    return KpiSettings(
        response_limit_s=settings.ack_limit_s,
        close_limit=timedelta(hours=settings.close_limit_h),
        timezone=settings.timezone,
    )


# ---------------------------------------------------------------- surge mode


def replan_surge(
    session: Session,
    clock: Clock,
    settings: RescueSettings,
    estimator: TravelEstimator | None = None,
    on_site_s: float = 300.0,
    busy_for_s: float = 1200.0,
) -> list[Notice]:
    """Surge mode (a power cut, a storm): when ``surge_threshold`` or more incidents are open, every one
    not yet answered is planned together (rescue.surge.plan_surge) instead of one by one. A crew may get a
    queue: the first is its current job, the others wait for it (their acknowledgement deadlines count from
    the planned start). Crews busy with answered incidents are counted free after ``busy_for_s``."""
    from liftwatch.rescue.domain import CrewState, OpenIncident
    from liftwatch.rescue.surge import plan_surge

    estimator = estimator or RoadFactorEstimator()
    if incident_queries.open_count(session) < settings.surge_threshold:
        return []
    pending = session.scalars(
        select(Incident)
        .where(
            Incident.status.in_([IncidentStatus.RAISED.value, IncidentStatus.DISPATCHED.value]),
            Incident.acknowledged_at.is_(None),
        )
        .order_by(Incident.alarm_at, Incident.id)
    ).all()
    places = registry_queries.places_of(session, sorted({i.registration_code for i in pending}))
    located = {
        i.id: GeoPoint(p.latitude, p.longitude)
        for i in pending
        if (p := places.get(i.registration_code)) is not None
        and p.latitude is not None
        and p.longitude is not None
    }
    plannable = [i for i in pending if i.id in located]
    crews = [
        c
        for c in session.scalars(select(Crew).where(Crew.on_shift.is_(True)).order_by(Crew.id))
        if on_duty(c, clock.now(), settings.tz)
    ]
    if not plannable or not crews:
        return []
    now = clock.now()
    ids = {i.id for i in plannable}
    states = [
        CrewState(
            c.id,
            c.unit,
            GeoPoint(c.latitude, c.longitude),
            0.0 if c.busy_incident_id is None or c.busy_incident_id in ids else busy_for_s,
        )
        for c in crews
    ]
    opens = [
        OpenIncident(
            str(i.id),
            located[i.id],
            (i.alarm_at - now).total_seconds(),
            i.maintenance_unit,
            arrival_limit_s=i.arrival_limit_min * 60.0,
        )
        for i in plannable
    ]
    plan = plan_surge(opens, states, estimator, on_site_s=on_site_s, now_s=0.0)
    by_id = {i.id: i for i in plannable}
    crew_by_id = {c.id: c for c in crews}
    for c in crews:
        if c.busy_incident_id in ids:
            c.busy_incident_id = None
    notices: list[Notice] = []
    for a in sorted(plan, key=lambda a: (a.crew_id, a.start_s)):
        inc = by_id[int(a.incident_id)]
        crew = crew_by_id[a.crew_id]
        if crew.busy_incident_id is None:
            crew.busy_incident_id = inc.id
        changed = inc.crew_id != crew.id
        level = Level.L1 if crew.unit == inc.maintenance_unit else Level.L2
        if changed:  # the unanswered dispatches it replaces are withdrawn by the plan, a new one is added
            for row in _dispatches(session, inc):
                if row.withdrawn_at is None and row.acknowledged_at is None and row.arrived_at is None:
                    _take_off(session, inc, row, "surge", "replanned", now)
            _add_dispatch(session, inc, level, crew.unit, crew, "surge", now)
        inc.level = level.value
        inc.updated_at = now
        start = now + timedelta(seconds=a.start_s)
        arrival = now + timedelta(seconds=a.arrival_s)
        _cancel_timers(session, inc, TimerKind.ACK)
        _timer(session, inc, TimerKind.ACK, start + timedelta(seconds=settings.ack_limit_s))
        if changed:
            event = _record(
                session, inc, "surge", "dispatched", now, level=inc.level, crew=crew.id, surge=True,
                planned_start=start.isoformat(), planned_arrival=arrival.isoformat(),
            )  # fmt: skip
            notices.append(
                _notice(session, inc, event, "dispatched", inc.level, {"crew": crew.id, "surge": True})
            )
    session.flush()
    return notices


# ---------------------------------------------------------------- reads for pages and the API


def crews_by_id(session: Session, ids: Sequence[str]) -> dict[str, Crew]:
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Crew).where(Crew.id.in_(list(ids))))}


def visible_incidents(session: Session, actor: Actor, open_only: bool, limit: int = 500) -> list[Incident]:
    """The latest incidents the actor may read, newest alarm first (scope: rescue.queries.scope; a role
    that reads none is refused, 403). The search with filters and pages is rescue.queries.search."""
    flt = incident_queries.IncidentFilter(open_only=open_only)
    return incident_queries.latest(session, actor, flt, limit)


def incidents_for_crews(session: Session) -> list[Incident]:
    """Incidents a crew still has to act on: dispatched to a crew and open, or released and awaiting the
    cause report (the simulated crews' work list)."""
    statuses = [s.value for s in OPEN_STATUSES] + [IncidentStatus.RELEASED.value]
    stmt = select(Incident).where(Incident.status.in_(statuses), Incident.crew_id.is_not(None))
    return list(session.scalars(stmt.order_by(Incident.id)))


def crew_count(session: Session) -> int:
    """How many crews are on the roll (the demo seeds them once)."""
    return int(session.scalar(select(func.count()).select_from(Crew)) or 0)
