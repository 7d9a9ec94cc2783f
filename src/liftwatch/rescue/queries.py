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

No writes here: ``rescue/service.py`` is the only writer.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import ColumnElement, Select, false, func, select
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.errors import Forbidden
from liftwatch.registry import queries as registry_queries
from liftwatch.rescue.domain import OPEN_STATUSES, IncidentStatus, Level
from liftwatch.rescue.models import Crew, Dispatch, Incident

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
