"""Routes: operators open incidents (or join open ones), crews act on their own incidents."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from liftwatch.accounts.models import Actor, Role
from liftwatch.core.errors import Forbidden
from liftwatch.deps import ActorDep, ClockDep, SessionDep
from liftwatch.rescue import service
from liftwatch.rescue.domain import GeoPoint
from liftwatch.rescue.models import OPEN_STATUSES, Incident, IncidentEvent
from liftwatch.rescue.notify import LogNotifier
from liftwatch.rescue.schemas import (
    CompleteIn,
    CrewIn,
    CrewOut,
    FalseAlarmIn,
    IncidentDetail,
    IncidentEventOut,
    IncidentIn,
    IncidentOut,
    PositionIn,
    ReleaseIn,
    ReportResult,
)

router = APIRouter(prefix="/api/v1/rescue", tags=["rescue"])
_log_notifier = LogNotifier()


def _notify(request: Request, notices: Sequence[service.Notice]) -> None:
    pipeline = getattr(request.app.state, "pipeline", None)
    worker = getattr(pipeline, "rescue", None)
    (worker.notifier if worker is not None else _log_notifier).send(notices)


@router.post("/incidents", response_model=ReportResult)
def open_incident(
    data: IncidentIn,
    request: Request,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
) -> ReportResult:
    """Take a call: by rescue code or registration code. 201 when a new incident opens, 200 when the
    elevator already has an open one and this report joins it."""
    out = service.report(
        session,
        actor,
        data.code,
        data.source,
        clock,
        persons_trapped=data.persons_trapped,
        caller_name=data.caller_name,
        callback_phone=data.callback_phone,
        notes=data.notes,
    )
    session.commit()
    _notify(request, out.notices)
    response.status_code = 201 if out.created else 200
    return ReportResult(created=out.created, incident=IncidentOut.model_validate(out.incident))


def _visible(session: Session, actor: Actor, open_only: bool) -> list[Incident]:
    stmt = select(Incident)
    if open_only:
        stmt = stmt.where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
    if actor.role not in (Role.ADMIN, Role.RESCUE_OPERATOR, Role.REGULATOR):
        crew = service.crew_of(session, actor)
        if crew is None:
            raise Forbidden(f"role '{actor.role.value}' sees rescue incidents only as a crew")
        stmt = stmt.where(Incident.crew_id == crew.id)
    return list(session.scalars(stmt.order_by(Incident.alarm_at.desc()).limit(500)))


@router.get("/incidents", response_model=list[IncidentOut])
def list_incidents(actor: ActorDep, session: SessionDep, open: bool = True) -> list[IncidentOut]:
    return [IncidentOut.model_validate(i) for i in _visible(session, actor, open)]


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
def incident_detail(incident_id: int, actor: ActorDep, session: SessionDep) -> IncidentDetail:
    inc = service.get_incident(session, actor, incident_id)
    events = session.scalars(
        select(IncidentEvent).where(IncidentEvent.incident_id == inc.id).order_by(IncidentEvent.id)
    )
    return IncidentDetail(
        **IncidentOut.model_validate(inc).model_dump(),
        events=[IncidentEventOut.model_validate(e) for e in events],
    )


@router.post("/incidents/{incident_id}/acknowledge", response_model=IncidentOut)
def acknowledge(incident_id: int, actor: ActorDep, session: SessionDep, clock: ClockDep) -> IncidentOut:
    inc = service.acknowledge(session, actor, incident_id, clock)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/arrive", response_model=IncidentOut)
def arrive(incident_id: int, actor: ActorDep, session: SessionDep, clock: ClockDep) -> IncidentOut:
    inc = service.arrive(session, actor, incident_id, clock)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/release", response_model=IncidentOut)
def release(
    incident_id: int, data: ReleaseIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    inc = service.release(session, actor, incident_id, clock, data.all_released)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/complete", response_model=IncidentOut)
def complete(
    incident_id: int, data: CompleteIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    inc = service.complete(session, actor, incident_id, clock, data.cause, data.detail)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/false-alarm", response_model=IncidentOut)
def false_alarm(
    incident_id: int, data: FalseAlarmIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    inc = service.false_alarm(session, actor, incident_id, clock, data.note)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/crews/me/position", response_model=CrewOut)
def report_position(data: PositionIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> CrewOut:
    crew = service.report_position(session, actor, data.latitude, data.longitude, clock)
    session.commit()
    return CrewOut.model_validate(crew)


@router.post("/crews", response_model=CrewOut, status_code=201)
def add_crew(data: CrewIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> CrewOut:
    crew = service.add_crew(
        session,
        actor,
        data.id,
        data.unit,
        data.name,
        GeoPoint(data.latitude, data.longitude),
        clock,
        phone=data.phone,
        username=data.username,
    )
    session.commit()
    return CrewOut.model_validate(crew)
