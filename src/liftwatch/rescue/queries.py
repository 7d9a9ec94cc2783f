"""The rescue domain's reads for lists, queues and exports: which incidents an actor may read (decided here,
once, for the API, the pages and the service's ``get_incident`` / ``visible_incidents``), the incident
search with its filters and pages, and the queues the 96333 operator works through.

Scope (outside it an incident is *not found*, so its existence does not leak):

- the centre (admin, 96333 operator, regulator): every incident;
- a crew (a user bound to a crew): the incidents it was sent to, also after it was withdrawn;
- a use unit (使用单位): the incidents on the elevators it uses (read-only: it has no dispatch, so every
  crew action is refused; the operators' actions are 403);
- maintenance or rescue-station staff who are not a crew: the incidents their unit is contracted for or
  was sent to (the same set the KPIs' ``unit`` filter takes, docs/KPIS.md);
- anyone else (inspector, gateway, public): none.

It also holds the pure reads the pages, the API and the KPIs use (the board, the calls of an incident,
its trail, the stale incidents, the incident records the KPI formulas take). No writes here:
``rescue/service.py`` is the only writer.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.registry import queries as registry_queries
from liftwatch.rescue.domain import (
    OPEN_STATUSES,
    Cause,
    DispatchRecord,
    GeoPoint,
    IncidentRecord,
    IncidentStatus,
    Level,
    RoadFactorEstimator,
    Source,
    TravelEstimator,
    Urgency,
)
from liftwatch.rescue.models import (
    Crew,
    Dispatch,
    Incident,
    IncidentEvent,
    NoticeOutbox,
    OpenIncidentLock,
    on_duty,
)

if TYPE_CHECKING:  # the settings are the service's (read once at the edge); a read only takes them
    from liftwatch.rescue.service import RescueSettings

#: The 96333 centre and the regulator read every incident.
READ_ALL = frozenset({Role.ADMIN, Role.RESCUE_OPERATOR, Role.REGULATOR})
#: Who sees the operators' queues (call-backs due, causes missing, stale incidents): the operators work
#: through them, the regulator reads them.
QUEUE_READERS = READ_ALL
#: Statuses after the trapped persons were out: the operator calls back, the L1 unit reports the cause.
AFTER_RELEASE = (
    IncidentStatus.RELEASED.value,
    IncidentStatus.COMPLETED.value,
    IncidentStatus.SELF_RELEASED.value,
)


def _crew_id(session: Session, actor: Actor) -> str | None:
    crew_id: str | None = session.scalar(select(Crew.id).where(Crew.username == actor.username))
    return crew_id


def scope(session: Session, actor: Actor) -> ColumnElement[bool] | None:
    """The condition on ``incidents`` rows the actor may read; ``None`` for every incident. A role that
    reads no incident at all is refused (403)."""
    if actor.role in READ_ALL:
        return None
    crew_id = _crew_id(session, actor)
    if crew_id is not None:
        return Incident.id.in_(select(Dispatch.incident_id).where(Dispatch.crew_id == crew_id))
    if actor.role is Role.USE_UNIT and actor.unit_id is not None:
        codes = registry_queries.code_subquery(use_unit_id=actor.unit_id)
        return Incident.registration_code.in_(codes)
    if actor.role is Role.MAINTENANCE and actor.unit_id is not None:
        code = registry_queries.unit_codes(session, [actor.unit_id]).get(actor.unit_id)
        if code is None:
            return false()
        return _of_unit(code)
    raise Forbidden(f"role '{actor.role.value}' sees no rescue incidents")


def _of_unit(unit: str) -> ColumnElement[bool]:
    """Incidents a unit is contracted for (L1) or was sent to (any level), as the KPIs' unit filter."""
    return (Incident.maintenance_unit == unit) | Incident.id.in_(
        select(Dispatch.incident_id).where(Dispatch.unit == unit)
    )


#: What identifies the person who called (their name and number): the centre and the crews call them
#: back; a use unit reads its elevators' incidents without them (personal information, least necessary).
CALLER_FIELDS = ("caller_name", "callback_phone")
CALLER_DETAIL_KEYS = frozenset({"caller", "phone"})


def sees_callers(actor: Actor) -> bool:
    """Whether the actor may read who called (a use unit may not)."""
    return actor.role is not Role.USE_UNIT


def readable(session: Session, actor: Actor, incident_id: int) -> bool:
    """Whether the actor may read this incident (False also for a role that reads none)."""
    try:
        condition = scope(session, actor)
    except Forbidden:
        return False
    stmt = select(Incident.id).where(Incident.id == incident_id)
    if condition is not None:
        stmt = stmt.where(condition)
    return session.scalar(stmt) is not None


def get_incident(session: Session, actor: Actor, incident_id: int) -> Incident:
    """One incident in the actor's scope (:func:`scope`); outside it, or none: not found (404)."""
    inc = session.get(Incident, incident_id)
    if inc is None:
        raise NotFound(f"no incident {incident_id}")
    if actor.role in READ_ALL:
        return inc
    # a crew sees every incident it was sent to (also after it was withdrawn), a use unit those on its
    # elevators (read-only: it has no dispatch to act on), other unit staff their unit's (:func:`scope`)
    if readable(session, actor, inc.id):
        return inc
    raise NotFound(f"no incident {incident_id}")  # outside the actor's scope looks the same


# ---------------------------------------------------------------- the search


@dataclass(frozen=True)
class IncidentFilter:
    """What the incident search narrows by; every field optional. ``start``/``end`` bound the alarm time,
    half-open ``[start, end)`` like the KPIs' period; ``unit`` is the contracted unit or one sent
    (as the KPIs' unit filter); ``level`` the highest level reached; ``statuses`` any of them;
    ``open_only`` the open statuses (raised to arrived)."""

    start: datetime | None = None
    end: datetime | None = None
    district: str | None = None
    unit: str | None = None
    level: Level | None = None
    statuses: tuple[IncidentStatus, ...] = ()
    open_only: bool = False
    code: str | None = None  # registration code


@dataclass(frozen=True)
class IncidentPage:
    """One page of a search: its incidents, the total over every page, the page number and size."""

    items: list[Incident]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))


def _filtered(session: Session, actor: Actor, flt: IncidentFilter) -> Select[Incident]:
    stmt = select(Incident)
    condition = scope(session, actor)
    if condition is not None:
        stmt = stmt.where(condition)
    if flt.start is not None:
        stmt = stmt.where(Incident.alarm_at >= flt.start)
    if flt.end is not None:
        stmt = stmt.where(Incident.alarm_at < flt.end)
    if flt.district:
        stmt = stmt.where(Incident.registration_code.in_(registry_queries.code_subquery(flt.district)))
    if flt.unit:
        stmt = stmt.where(_of_unit(flt.unit))
    if flt.level is not None:
        stmt = stmt.where(Incident.level == flt.level.value)
    if flt.statuses:
        stmt = stmt.where(Incident.status.in_([s.value for s in flt.statuses]))
    if flt.open_only:
        stmt = stmt.where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
    if flt.code:
        stmt = stmt.where(Incident.registration_code == flt.code)
    return stmt


def _page(session: Session, stmt: Select[Incident], page: int, size: int) -> IncidentPage:
    total = int(session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
    items = list(session.scalars(stmt.offset((page - 1) * size).limit(size)))
    return IncidentPage(items, total, page, size)


def search(
    session: Session, actor: Actor, flt: IncidentFilter, page: int = 1, size: int = 50
) -> IncidentPage:
    """The incidents in the actor's scope that match ``flt``, newest alarm first, one page of ``size``;
    ``total`` counts every page, so a client pages through all of them (no row limit)."""
    if page < 1 or size < 1:
        raise ValueError(f"page {page} and size {size} must be at least 1")
    stmt = _filtered(session, actor, flt).order_by(Incident.alarm_at.desc(), Incident.id.desc())
    return _page(session, stmt, page, size)


def latest(session: Session, actor: Actor, flt: IncidentFilter, limit: int) -> list[Incident]:
    """The newest ``limit`` incidents of the search, without counting the rest (lists that poll)."""
    stmt = _filtered(session, actor, flt).order_by(Incident.alarm_at.desc(), Incident.id.desc())
    return list(session.scalars(stmt.limit(limit)))


def all_matching(session: Session, actor: Actor, flt: IncidentFilter) -> list[Incident]:
    """Every incident of the search, oldest alarm first (for exports: no page, no row limit)."""
    stmt = _filtered(session, actor, flt).order_by(Incident.alarm_at, Incident.id)
    return list(session.scalars(stmt))


def dispatches_by_incident(session: Session, incident_ids: Sequence[int]) -> dict[int, list[Dispatch]]:
    """The dispatches of many incidents (already in the caller's scope), first first, in chunks."""
    out: dict[int, list[Dispatch]] = {}
    ids = list(incident_ids)
    for chunk in range(0, len(ids), 1000):
        for row in session.scalars(
            select(Dispatch)
            .where(Dispatch.incident_id.in_(ids[chunk : chunk + 1000]))
            .order_by(Dispatch.incident_id, Dispatch.dispatched_at, Dispatch.id)
        ):
            out.setdefault(row.incident_id, []).append(row)
    return out


def crew_names(session: Session, crew_ids: Collection[str]) -> dict[str, str]:
    """Crew names by id (for exports and lists)."""
    if not crew_ids:
        return {}
    rows = session.execute(select(Crew.id, Crew.name).where(Crew.id.in_(sorted(crew_ids))))
    return {cid: name for cid, name in rows}


# ---------------------------------------------------------------- the operator's queues


def require_queue_reader(actor: Actor) -> None:
    if actor.role not in QUEUE_READERS:
        raise Forbidden(f"role '{actor.role.value}' has no rescue work queues")


def callbacks_due(session: Session, actor: Actor, page: int = 1, size: int = 50) -> IncidentPage:
    """Call-backs due (待回访): rescues whose trapped persons are out (released, completed or
    self-released) and whose caller the operator has not called back yet, longest waiting first. These
    are the call-back rate's misses (docs/KPIS.md), so an IoT alarm without a caller's number is here too
    (the operator calls the use unit)."""
    require_queue_reader(actor)
    stmt = (
        select(Incident)
        .where(Incident.status.in_(AFTER_RELEASE), Incident.callback_at.is_(None))
        .order_by(Incident.released_at, Incident.id)
    )
    return _page(session, stmt, page, size)


def causes_missing(session: Session, actor: Actor, page: int = 1, size: int = 50) -> IncidentPage:
    """Causes missing (待报原因): rescues released or closed without a reported cause (the L1 unit
    reports it when it completes the case), longest waiting first: the cause-reported rate's misses."""
    require_queue_reader(actor)
    stmt = (
        select(Incident)
        .where(Incident.status.in_(AFTER_RELEASE), Incident.cause.is_(None))
        .order_by(Incident.released_at, Incident.id)
    )
    return _page(session, stmt, page, size)


def day_period(first: date | None, last: date | None, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
    """The alarm period of whole days on the city's clock, ``last`` included (as the API reads dates):
    from ``first`` 00:00 to the day after ``last`` 00:00 there, in UTC; a missing day leaves its end open."""
    start = datetime.combine(first, time.min, tz).astimezone(UTC) if first else None
    end = datetime.combine(last + timedelta(days=1), time.min, tz).astimezone(UTC) if last else None
    return start, end


# ---------------------------------------------------------------- reads for pages, the API and the KPIs


@dataclass(frozen=True)
class Call:
    """One call or alarm about an incident: the one that opened it and every one that joined it."""

    at: datetime
    source: str
    caller: str
    phone: str
    note: str
    persons: int | None
    taken_by: str
    first: bool


def calls_of(session: Session, inc: Incident) -> list[Call]:
    """Every call of the incident, first first (from its trail; the first call's number and note come
    from the incident when the trail predates them)."""
    out: list[Call] = []
    for e in incident_events(session, inc):
        if e.kind not in ("raised", "joined"):
            continue
        d, first = e.details, e.kind == "raised"
        out.append(
            Call(
                at=e.at,
                source=str(d.get("source") or inc.source),
                caller=str(d.get("caller") or ""),
                phone=str(d.get("phone") or (inc.callback_phone if first and "phone" not in d else "")),
                note=str(d.get("note") or (inc.notes if first and "note" not in d else "")),
                persons=d.get("persons", inc.persons_trapped if first else None),
                taken_by=e.actor,
                first=first,
            )
        )
    return out


def board_incidents(session: Session, limit: int = 500) -> list[Incident]:
    """What the console's board shows: every open incident and every released one still awaiting its
    cause report (it must not drop off before it is closed); newest alarm first."""
    statuses = [s.value for s in OPEN_STATUSES] + [IncidentStatus.RELEASED.value]
    stmt = (
        select(Incident)
        .where(Incident.status.in_(statuses))
        .order_by(Incident.alarm_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class StaleIncident:
    """An incident the console flags: still open past its arrival deadline (``overdue``), or not closed
    past the closing limit (``unsettled``: the KPIs already count it as not successful)."""

    incident: Incident
    overdue: bool
    unsettled: bool
    minutes_past: int  # past the arrival deadline


def urgency_of(inc: Incident, now: datetime, settings: RescueSettings) -> Urgency:
    """The board's view of one incident (rescue.domain.most_urgent_first): someone still trapped; a
    deadline passed (an unanswered dispatch past ``ack_limit_s``, no arrival past the arrival limit) or
    the incident is open past the closing limit (stale, as :func:`stale_open_incidents`)."""
    released = inc.status not in {st.value for st in OPEN_STATUSES}
    trapped = not released and inc.persons_trapped != 0
    overdue = False
    if not released:
        if inc.arrived_at is None and now > inc.alarm_at + timedelta(minutes=inc.arrival_limit_min):
            overdue = True
        if (
            inc.acknowledged_at is None
            and inc.dispatched_at is not None
            and now > inc.dispatched_at + timedelta(seconds=settings.ack_limit_s)
        ):
            overdue = True
    if now > inc.alarm_at + timedelta(hours=settings.close_limit_h):
        overdue = True
    return Urgency(trapped=trapped, overdue=overdue, alarm_at=inc.alarm_at)


def open_count(session: Session) -> int:
    """How many incidents are open (surge mode starts at ``surge_threshold``)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
        )
        or 0
    )


def stale_open_incidents(session: Session, clock: Clock, settings: RescueSettings) -> list[StaleIncident]:
    """Open or released-but-not-closed incidents that are past their arrival deadline without an arrival,
    or past ``close_limit_h`` without being closed; oldest alarm first."""
    now = clock.now()
    statuses = [s.value for s in OPEN_STATUSES] + [IncidentStatus.RELEASED.value]
    out: list[StaleIncident] = []
    for inc in session.scalars(
        select(Incident).where(Incident.status.in_(statuses)).order_by(Incident.alarm_at, Incident.id)
    ):
        deadline = inc.alarm_at + timedelta(minutes=inc.arrival_limit_min)
        overdue = inc.arrived_at is None and now > deadline
        unsettled = now > inc.alarm_at + timedelta(hours=settings.close_limit_h)
        if overdue or unsettled:
            past = max(0, int((now - deadline).total_seconds() // 60))
            out.append(StaleIncident(inc, overdue, unsettled, past))
    return out


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


def open_incident_of(session: Session, registration_code: str) -> Incident | None:
    """The elevator's open incident, if it has one."""
    lock = session.get(OpenIncidentLock, registration_code)
    return session.get(Incident, lock.incident_id) if lock is not None else None


def incident_records(
    session: Session,
    actor: Actor,
    start: datetime,
    end: datetime,
    district: str | None = None,
    unit: str | None = None,
) -> list[IncidentRecord]:
    """Incidents with their alarm in [start, end) as the KPI formulas take them, with every dispatch,
    optionally for one district and/or one unit: the incidents it is contracted for and those it was sent
    to (the formulas then count only its own dispatches, docs/KPIS.md)."""
    if actor.role not in (Role.ADMIN, Role.REGULATOR, Role.RESCUE_OPERATOR):
        raise Forbidden(f"role '{actor.role.value}' may not read rescue statistics")
    stmt = select(Incident).where(Incident.alarm_at >= start, Incident.alarm_at < end)
    if unit:
        stmt = stmt.where(
            (Incident.maintenance_unit == unit)
            | Incident.id.in_(select(Dispatch.incident_id).where(Dispatch.unit == unit))
        )
    incidents = session.scalars(stmt.order_by(Incident.id)).all()
    places = registry_queries.places_of(session, sorted({i.registration_code for i in incidents}))
    dispatches: dict[int, list[Dispatch]] = {}
    ids = [i.id for i in incidents]
    for chunk in range(0, len(ids), 1000):
        for row in session.scalars(
            select(Dispatch)
            .where(Dispatch.incident_id.in_(ids[chunk : chunk + 1000]))
            .order_by(Dispatch.dispatched_at, Dispatch.id)
        ):
            dispatches.setdefault(row.incident_id, []).append(row)
    crew_ids = sorted({d.crew_id for rows in dispatches.values() for d in rows if d.crew_id})
    login_rows = session.execute(select(Crew.id, Crew.username).where(Crew.id.in_(crew_ids)))
    logins = {cid: login for cid, login in login_rows}
    out: list[IncidentRecord] = []
    for i in incidents:
        place = places.get(i.registration_code)
        if district and (place is None or place.district != district):
            continue
        out.append(_as_record(i, place, dispatches.get(i.id, []), logins))
    return out


def _as_record(
    i: Incident, place: Any, rows: Sequence[Dispatch], logins: dict[str, str | None]
) -> IncidentRecord:
    status = IncidentStatus(i.status)
    closed_at = {
        IncidentStatus.COMPLETED: i.completed_at,
        IncidentStatus.SELF_RELEASED: i.completed_at,
        IncidentStatus.FALSE_ALARM: i.closed_false_at,
        IncidentStatus.CANCELLED: i.cancelled_at,
    }.get(status)
    return IncidentRecord(
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
        false_alarm=status is IncidentStatus.FALSE_ALARM,
        all_released=i.all_released,
        arrival_limit_min=i.arrival_limit_min,
        cause=Cause(i.cause) if i.cause else None,
        dispatches=tuple(
            DispatchRecord(
                level=Level(d.level),
                unit=d.unit,
                dispatched_at=d.dispatched_at,
                acknowledged_at=d.acknowledged_at,
                arrived_at=d.arrived_at,
                withdrawn_at=d.withdrawn_at,
                # taken back by the operator or the system, not given up by the crew itself
                withdrawn_by_centre=d.withdrawn_at is not None
                and (d.crew_id is None or d.withdrawn_by != logins.get(d.crew_id)),
            )
            for d in rows
        ),
        closed_at=closed_at,
        cancelled=status is IncidentStatus.CANCELLED,
        self_released=status is IncidentStatus.SELF_RELEASED,
        callback_at=i.callback_at,
    )


# ---------------------------------------------------------------- the re-dispatch form


def site_of(session: Session, inc: Incident) -> GeoPoint | None:
    """Where the incident's elevator is, if its file has coordinates."""
    place = registry_queries.places_of(session, [inc.registration_code]).get(inc.registration_code)
    if place is None or place.latitude is None or place.longitude is None:
        return None
    return GeoPoint(place.latitude, place.longitude)


def eta_s(site: GeoPoint | None, crew: Crew, estimator: TravelEstimator) -> int | None:
    """The crew's predicted travel to ``site`` in seconds (None without coordinates)."""
    if site is None:
        return None
    return round(estimator.seconds(GeoPoint(crew.latitude, crew.longitude), site))


@dataclass(frozen=True)
class CrewOption:
    """A crew the operator may send: its predicted travel, whether it is busy elsewhere or already on this
    incident, and whether its shift covers now."""

    crew: Crew
    eta_s: int | None
    busy_incident_id: int | None
    on_job: bool
    on_duty: bool


def redispatch_options(
    session: Session,
    actor: Actor,
    incident_id: int,
    clock: Clock,
    settings: RescueSettings,
    limit: int = 15,
    estimator: TravelEstimator | None = None,
) -> list[CrewOption]:
    """Crews for the re-dispatch form: the contracted unit's and the ``limit`` nearest others on shift,
    soonest arrival first (by id when the elevator's file has no coordinates)."""
    inc = get_incident(session, actor, incident_id)
    estimator = estimator or RoadFactorEstimator()
    now = clock.now()
    site = site_of(session, inc)
    on_job = set(
        session.scalars(
            select(Dispatch.crew_id).where(Dispatch.incident_id == inc.id, Dispatch.withdrawn_at.is_(None))
        )
    )
    out = [
        CrewOption(c, eta_s(site, c, estimator), c.busy_incident_id, c.id in on_job,
                   on_duty(c, now, settings.tz))
        for c in session.scalars(select(Crew).where(Crew.on_shift.is_(True)).order_by(Crew.id))
    ]  # fmt: skip
    out.sort(key=lambda o: (o.eta_s is None, o.eta_s or 0, o.crew.id))
    own = [o for o in out if o.crew.unit == inc.maintenance_unit]
    others = [o for o in out if o.crew.unit != inc.maintenance_unit][:limit]
    return sorted(own + others, key=lambda o: (o.eta_s is None, o.eta_s or 0, o.crew.id))


def count_incidents_since(session: Session, registration_code: str, since: datetime) -> int:
    """How many incidents (entrapments, alarm calls) the elevator had from ``since`` on (maintenance's
    on-demand rule counts them since the last visit)."""
    stmt = select(func.count(Incident.id)).where(
        Incident.registration_code == registration_code, Incident.alarm_at >= since
    )
    return int(session.scalar(stmt) or 0)


def entrapment_counts(
    session: Session, since: datetime, codes: Collection[str] | None = None
) -> dict[str, int]:
    """Entrapments (困人) per elevator from ``since`` on, in one GROUP BY (``codes`` None: the whole city):
    incidents by their alarm time, false alarms and cancelled calls left out as the KPIs leave them out
    (docs/KPIS.md). For risk grading; the caller decides who may read it."""
    stmt = select(Incident.registration_code, func.count(Incident.id)).where(
        Incident.alarm_at >= since, Incident.closed_false_at.is_(None), Incident.cancelled_at.is_(None)
    )
    if codes is not None:
        stmt = stmt.where(Incident.registration_code.in_(list(codes)))
    return {code: int(n) for code, n in session.execute(stmt.group_by(Incident.registration_code))}


def codes_changed_since(session: Session, since: datetime) -> set[str]:
    """The elevators with an incident changed after ``since`` (what the risk worker rescores)."""
    stmt = select(Incident.registration_code).where(Incident.updated_at > since).distinct()
    return set(session.scalars(stmt))
