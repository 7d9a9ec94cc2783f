"""The rescue domain's only writer: incidents from report to completion, dispatch, three-level escalation
on durable timers. Every change is recorded (who, when, what) and lands on the elevator file.

Lifecycle: raised -> dispatched -> acknowledged -> arrived -> released -> completed, or false_alarm.
One entrapment gives one incident: a report about an elevator with an open incident joins it (the
``open_incidents`` primary key settles races), and an IoT fault is idempotent on its fault_id.
Escalation (三级响应): L1 is the contracted maintenance unit's nearest crew; no acknowledgement within
``ack_limit_s`` of dispatch, or a predicted or actual arrival past the area's limit, sends it to L2 (the
nearest public rescue station or another unit's crew); not arrived by the limit + ``l3_grace_min`` -> L3
(fire service). Deadlines are rows in ``rescue_timers``: a restarted process fires them on time.
Notices (raised, dispatched, no crew, escalated) are rows of ``notice_outbox`` written with the change;
the rescue worker delivers them after the commit (rescue.outbox). Settings are always passed in: the
edge (app start, the worker's ``from_settings``) reads them once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from liftwatch.accounts import service as accounts
from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.config import Settings, valid_timezone, zone
from liftwatch.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from liftwatch.registry import queries as registry_queries
from liftwatch.registry import service as registry
from liftwatch.rescue.domain import (
    OPEN_STATUSES,
    Cause,
    GeoPoint,
    IncidentRecord,
    IncidentStatus,
    Level,
    RoadFactorEstimator,
    Source,
    TravelEstimator,
)
from liftwatch.rescue.models import (
    Crew,
    Incident,
    IncidentEvent,
    NoticeOutbox,
    OpenIncidentLock,
    RescueTimer,
    TimerKind,
    on_duty,
)

OPERATORS = frozenset({Role.ADMIN, Role.RESCUE_OPERATOR})

# The records this service hands out. Callers (the web) name them from here in annotations and never import
# the tables' module (import contracts): what they may do with them is what these functions allow.
StoredIncident: TypeAlias = Incident
StoredCrew: TypeAlias = Crew


class RescueSettings(BaseSettings):
    """Read once at the edge (:meth:`for_city`) and passed to every service function."""

    model_config = SettingsConfigDict(env_prefix="LIFTWATCH_RESCUE_", extra="ignore")

    ack_limit_s: int = Field(default=300, gt=0, description="acknowledge within this after dispatch")
    webhook_url: str = Field(default="", description="POST rescue notices (JSON) here as well as to the log")
    webhook_timeout_s: float = Field(default=5.0, gt=0, description="one webhook delivery's time limit")
    notice_retry_s: float = Field(default=5.0, gt=0, description="first retry of a failed notice delivery")
    notice_retry_max_s: float = Field(default=600.0, gt=0, description="longest wait between retries")
    notice_alert_after: int = Field(
        default=3, ge=1, description="failed deliveries of a notice before its incident records the failure"
    )
    arrival_limit_min: int = Field(default=30, gt=0, description="municipalities and cities with districts")
    arrival_limit_other_min: int = Field(default=60, gt=0, description="elsewhere (TSG T5002)")
    other_districts: list[str] = Field(default_factory=list, description="districts with the 60-min limit")
    l3_grace_min: int = Field(default=10, ge=0, description="after the arrival limit, escalate to L3")
    surge_threshold: int = Field(default=20, gt=0, description="open incidents that turn on surge mode")
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


def get_incident(session: Session, actor: Actor, incident_id: int) -> Incident:
    inc = session.get(Incident, incident_id)
    if inc is None:
        raise NotFound(f"no incident {incident_id}")
    if actor.role in OPERATORS or actor.role is Role.REGULATOR:
        return inc
    crew = crew_of(session, actor)
    if crew is not None and inc.crew_id == crew.id:
        return inc
    raise NotFound(f"no incident {incident_id}")  # outside the actor's scope looks the same


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
        existing = session.scalar(select(Incident).where(Incident.fault_id == call.fault_id))
        if existing is not None:
            return Outcome(existing, created=False)
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
    event = _record(
        session, inc, actor.username, "raised", now, source=call.source.value, caller=call.caller_name
    )
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
    """A further report of an open incident: recorded on it, and its fault linked (so a redelivered
    fault is recognised)."""
    _record(
        session, inc, actor.username, "joined", now, source=call.source.value, caller=call.caller_name,
        phone=call.callback_phone, fault_id=call.fault_id,
    )  # fmt: skip
    if call.fault_id is not None and inc.fault_id is None:
        inc.fault_id = call.fault_id
    if call.persons_trapped is not None and not inc.persons_trapped:
        inc.persons_trapped = call.persons_trapped
    inc.updated_at = now
    session.flush()
    return Outcome(inc, created=False)


def _open_incident(session: Session, registration_code: str) -> Incident | None:
    lock = session.get(OpenIncidentLock, registration_code)
    return session.get(Incident, lock.incident_id) if lock is not None else None


# ---------------------------------------------------------------- dispatch and escalation


def _candidates(
    session: Session, level: Level, inc: Incident, now: datetime, settings: RescueSettings
) -> Sequence[Crew]:
    """Free crews on duty now: the contracted unit's for L1, everyone else's for L2."""
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
    """Send the incident to the nearest free crew for ``level``; set the deadlines that watch it."""
    place = registry_queries.places_of(session, [inc.registration_code]).get(inc.registration_code)
    located = place is not None and place.latitude is not None and place.longitude is not None
    best: tuple[float, Crew] | None = None
    for crew in _candidates(session, level, inc, now, settings):
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
    if inc.crew_id is not None:
        previous = session.get(Crew, inc.crew_id)
        if previous is not None and previous.busy_incident_id == inc.id:
            previous.busy_incident_id = None
    inc.level = level.value
    inc.status = IncidentStatus.DISPATCHED.value
    inc.dispatched_at = now
    inc.acknowledged_at = None
    inc.updated_at = now
    notices: list[Notice] = []
    if best is None:
        inc.crew_id = None
        inc.responder_unit = inc.maintenance_unit if level is Level.L1 else ""
        event = _record(session, inc, actor, "dispatched", now, level=level.value, crew=None, eta_s=None)
        notices.append(_notice(session, inc, event, "no_crew", level.value))
    else:
        eta, crew = best
        crew.busy_incident_id = inc.id
        inc.crew_id = crew.id
        inc.responder_unit = crew.unit
        eta_s = None if math.isnan(eta) else round(eta)
        event = _record(session, inc, actor, "dispatched", now, level=level.value, crew=crew.id, eta_s=eta_s)
        notices.append(
            _notice(session, inc, event, "dispatched", level.value, {"crew": crew.id, "eta_s": eta_s})
        )
    _cancel_timers(session, inc, TimerKind.ACK, TimerKind.ARRIVAL)
    _timer(session, inc, TimerKind.ACK, now + timedelta(seconds=settings.ack_limit_s))
    deadline = inc.alarm_at + timedelta(minutes=inc.arrival_limit_min)
    if level is Level.L1:
        predicted = now + timedelta(seconds=best[0]) if best is not None and not math.isnan(best[0]) else None
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
) -> list[Notice]:
    if level is Level.L2:
        inc.escalated_l2_at = now
        event = _record(session, inc, actor, "escalated", now, to=level.value, reason=reason)
        notices = [_notice(session, inc, event, "escalated", level.value, {"reason": reason})]
        return notices + _dispatch(
            session, inc, Level.L2, actor, now, settings, estimator or RoadFactorEstimator()
        )
    inc.level = Level.L3.value
    inc.escalated_l3_at = now
    inc.updated_at = now
    event = _record(session, inc, actor, "escalated", now, to=Level.L3.value, reason=reason)
    return [_notice(session, inc, event, "escalated", Level.L3.value, {"reason": reason, "call": "119"})]


def fire_due_timers(
    session: Session,
    clock: Clock,
    settings: RescueSettings,
    estimator: TravelEstimator | None = None,
) -> list[Notice]:
    """Fire every deadline that is due; the scheduler calls this every few seconds, in any process,
    after any restart (PostgreSQL: rows locked with SKIP LOCKED so two schedulers never fire one twice)."""
    now = clock.now()
    stmt = (
        select(RescueTimer)
        .where(RescueTimer.fired_at.is_(None), RescueTimer.cancelled.is_(False), RescueTimer.due_at <= now)
        .order_by(RescueTimer.due_at, RescueTimer.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    notices: list[Notice] = []
    for timer in session.scalars(stmt).all():
        timer.fired_at = now
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


# ---------------------------------------------------------------- crew actions


def _crew_incident(session: Session, actor: Actor, incident_id: int) -> tuple[Incident, Crew | None]:
    inc = get_incident(session, actor, incident_id)
    crew = crew_of(session, actor)
    if actor.role not in OPERATORS and (crew is None or inc.crew_id != crew.id):
        raise NotFound(f"no incident {incident_id}")
    return inc, crew


def acknowledge(session: Session, actor: Actor, incident_id: int, clock: Clock) -> Incident:
    inc, _ = _crew_incident(session, actor, incident_id)
    if inc.status != IncidentStatus.DISPATCHED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}, not dispatched")
    now = clock.now()
    inc.status = IncidentStatus.ACKNOWLEDGED.value
    inc.acknowledged_at = now
    inc.updated_at = now
    _cancel_timers(session, inc, TimerKind.ACK)
    _record(session, inc, actor.username, "acknowledged", now)
    session.flush()
    return inc


def arrive(session: Session, actor: Actor, incident_id: int, clock: Clock) -> Incident:
    inc, _ = _crew_incident(session, actor, incident_id)
    if inc.status not in (IncidentStatus.DISPATCHED.value, IncidentStatus.ACKNOWLEDGED.value):
        raise Conflict(f"incident {incident_id} is {inc.status}")
    now = clock.now()
    if inc.acknowledged_at is None:
        inc.acknowledged_at = now
    inc.status = IncidentStatus.ARRIVED.value
    inc.arrived_at = now
    inc.updated_at = now
    _cancel_timers(session, inc, TimerKind.ACK, TimerKind.ARRIVAL, TimerKind.L3)
    _record(session, inc, actor.username, "arrived", now)
    session.flush()
    return inc


def release(
    session: Session, actor: Actor, incident_id: int, clock: Clock, all_released: bool = True
) -> Incident:
    inc, _ = _crew_incident(session, actor, incident_id)
    if inc.status != IncidentStatus.ARRIVED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}, not arrived")
    now = clock.now()
    inc.status = IncidentStatus.RELEASED.value
    inc.released_at = now
    inc.all_released = all_released
    inc.updated_at = now
    _unlock(session, inc)
    _record(session, inc, actor.username, "released", now, all_released=all_released)
    session.flush()
    return inc


def complete(
    session: Session, actor: Actor, incident_id: int, clock: Clock, cause: Cause, detail: str = ""
) -> Incident:
    inc, _ = _crew_incident(session, actor, incident_id)
    if inc.status != IncidentStatus.RELEASED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}, not released")
    now = clock.now()
    inc.status = IncidentStatus.COMPLETED.value
    inc.completed_at = now
    inc.cause = cause.value
    inc.cause_detail = detail
    inc.updated_at = now
    _free_crew(session, inc)
    _record(session, inc, actor.username, "completed", now, cause=cause.value)
    session.flush()
    return inc


def false_alarm(session: Session, actor: Actor, incident_id: int, clock: Clock, note: str = "") -> Incident:
    if actor.role not in OPERATORS:
        raise Forbidden(f"role '{actor.role.value}' may not close incidents as false alarms")
    inc = get_incident(session, actor, incident_id)
    if inc.status not in _WATCHED and inc.status != IncidentStatus.ARRIVED.value:
        raise Conflict(f"incident {incident_id} is {inc.status}")
    now = clock.now()
    inc.status = IncidentStatus.FALSE_ALARM.value
    inc.closed_false_at = now
    inc.updated_at = now
    _cancel_timers(session, inc, TimerKind.ACK, TimerKind.ARRIVAL, TimerKind.L3)
    _unlock(session, inc)
    _free_crew(session, inc)
    _record(session, inc, actor.username, "false_alarm", now, note=note)
    session.flush()
    return inc


def call_back(session: Session, actor: Actor, incident_id: int, clock: Clock, note: str = "") -> Incident:
    """The operator's call-back (回访) after the rescue: recorded once with what the caller said."""
    if actor.role not in OPERATORS:
        raise Forbidden(f"role '{actor.role.value}' may not record call-backs")
    inc = get_incident(session, actor, incident_id)
    if inc.status not in (IncidentStatus.RELEASED.value, IncidentStatus.COMPLETED.value):
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


def _free_crew(session: Session, inc: Incident) -> None:
    """The crew is done with ``inc``: it takes the next incident queued for it by a surge plan, if any."""
    if inc.crew_id is not None:
        crew = session.get(Crew, inc.crew_id)
        if crew is not None and crew.busy_incident_id == inc.id:
            queued = session.scalar(
                select(Incident.id)
                .where(
                    Incident.crew_id == crew.id,
                    Incident.id != inc.id,
                    Incident.status == IncidentStatus.DISPATCHED.value,
                )
                .order_by(Incident.dispatched_at, Incident.id)
            )
            crew.busy_incident_id = queued


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
) -> Crew:
    """Register a crew of a maintenance unit or rescue station (admin, regulator, or the unit's own staff)."""
    unit_row = registry_queries.get_unit(session, actor, unit)  # NotFound outside scope
    if actor.role not in (Role.ADMIN, Role.REGULATOR) and actor.unit_id != unit_row.id:
        raise Forbidden(f"role '{actor.role.value}' may not add crews to unit '{unit}'")
    if session.get(Crew, crew_id) is not None:
        raise Conflict(f"id: crew '{crew_id}' exists", [FieldError("id", "already exists")])
    if username is not None:
        _check_crew_user(session, unit, username)
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
    return crew


def incident_records(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    district: str | None = None,
    unit: str | None = None,
) -> list[IncidentRecord]:
    """Incidents with their alarm in [start, end) as the KPI formulas take them, optionally for one
    district and/or one contracted maintenance unit."""
    if actor.role not in (Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR):
        raise Forbidden(f"role '{actor.role.value}' may not read rescue statistics")
    stmt = select(Incident).where(Incident.alarm_at >= start, Incident.alarm_at < end)
    if unit:
        stmt = stmt.where(Incident.maintenance_unit == unit)
    incidents = session.scalars(stmt).all()
    places = registry_queries.places_of(session, sorted({i.registration_code for i in incidents}))
    out: list[IncidentRecord] = []
    for i in incidents:
        place = places.get(i.registration_code)
        if district and (place is None or place.district != district):
            continue
        out.append(
            IncidentRecord(
                id=i.id,
                registration_code=i.registration_code,
                district=place.district if place else "",
                street=place.street if place else "",
                maintenance_unit=i.maintenance_unit,
                place_type=place.place_type if place else "",
                source=Source(i.source),
                level=Level(i.level),
                alarm_at=i.alarm_at,
                dispatched_at=i.dispatched_at,
                acknowledged_at=i.acknowledged_at,
                arrived_at=i.arrived_at,
                released_at=i.released_at,
                completed_at=i.completed_at,
                false_alarm=i.status == IncidentStatus.FALSE_ALARM.value,
                all_released=i.all_released,
                arrival_limit_min=i.arrival_limit_min,
                cause=Cause(i.cause) if i.cause else None,
            )
        )
    return out


# ---------------------------------------------------------------- surge mode


def open_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
        )
        or 0
    )


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
    if open_count(session) < settings.surge_threshold:
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
        OpenIncident(str(i.id), located[i.id], (i.alarm_at - now).total_seconds(), i.maintenance_unit)
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
        inc.crew_id = crew.id
        inc.responder_unit = crew.unit
        inc.status = IncidentStatus.DISPATCHED.value
        inc.level = (Level.L1 if crew.unit == inc.maintenance_unit else Level.L2).value
        if inc.dispatched_at is None or changed:
            inc.dispatched_at = now
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


def open_incidents(session: Session, limit: int = 500) -> list[Incident]:
    """Every open incident (raised, dispatched, acknowledged, arrived), oldest alarm first."""
    stmt = (
        select(Incident)
        .where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
        .order_by(Incident.alarm_at, Incident.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def incident_events(session: Session, incident: Incident) -> list[IncidentEvent]:
    """The incident's audit trail, oldest first."""
    return list(
        session.scalars(
            select(IncidentEvent).where(IncidentEvent.incident_id == incident.id).order_by(IncidentEvent.id)
        )
    )


def undelivered_notices(session: Session, incident: Incident) -> list[NoticeOutbox]:
    """The incident's notices the outbox has not delivered yet, with their attempts and last error (for
    its page: a notice that keeps failing is also an event ``notice_failed`` on the audit trail)."""
    return list(
        session.scalars(
            select(NoticeOutbox)
            .where(NoticeOutbox.incident_id == incident.id, NoticeOutbox.delivered_at.is_(None))
            .order_by(NoticeOutbox.id)
        )
    )


def crews_by_id(session: Session, ids: Sequence[str]) -> dict[str, Crew]:
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Crew).where(Crew.id.in_(list(ids))))}


def visible_incidents(session: Session, actor: Actor, open_only: bool, limit: int = 500) -> list[Incident]:
    """Operators and regulators see every incident; a crew its own; anyone else none (403)."""
    stmt = select(Incident)
    if open_only:
        stmt = stmt.where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
    if actor.role not in (Role.ADMIN, Role.RESCUE_OPERATOR, Role.REGULATOR):
        crew = crew_of(session, actor)
        if crew is None:
            raise Forbidden(f"role '{actor.role.value}' sees rescue incidents only as a crew")
        stmt = stmt.where(Incident.crew_id == crew.id)
    return list(session.scalars(stmt.order_by(Incident.alarm_at.desc()).limit(limit)))


def open_incident_of(session: Session, registration_code: str) -> Incident | None:
    """The elevator's open incident, if it has one."""
    return _open_incident(session, registration_code)


def incidents_for_crews(session: Session) -> list[Incident]:
    """Incidents a crew still has to act on: dispatched to a crew and open, or released and awaiting the
    cause report (the simulated crews' work list)."""
    statuses = [s.value for s in OPEN_STATUSES] + [IncidentStatus.RELEASED.value]
    stmt = select(Incident).where(Incident.status.in_(statuses), Incident.crew_id.is_not(None))
    return list(session.scalars(stmt.order_by(Incident.id)))


def crew_count(session: Session) -> int:
    """How many crews are on the roll (the demo seeds them once)."""
    return int(session.scalar(select(func.count()).select_from(Crew)) or 0)
