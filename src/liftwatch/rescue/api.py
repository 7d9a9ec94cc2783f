"""Routes: operators open incidents (or join open ones), crews act on their own incidents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from liftwatch.core.clock import as_utc
from liftwatch.core.errors import FieldError, InvalidInput
from liftwatch.core.types import DbId, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep
from liftwatch.registry import queries as registry_queries
from liftwatch.rescue import service
from liftwatch.rescue.domain import GeoPoint
from liftwatch.rescue.kpis import (
    GroupKey,
    Kpis,
    KpiSettings,
    MeanDuration,
    Ratio,
    compute_kpis,
    kpis_by,
    month_keys,
)
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


def rescue_settings(request: Request) -> service.RescueSettings:
    """The rescue settings the app read at its start (``app.state.rescue_settings``)."""
    settings: service.RescueSettings = request.app.state.rescue_settings
    return settings


RescueSettingsDep = Annotated[service.RescueSettings, Depends(rescue_settings)]


@router.post("/incidents", response_model=ReportResult)
def open_incident(
    data: IncidentIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> ReportResult:
    """Take a call: by rescue code or registration code. 201 when a new incident opens, 200 when the
    elevator already has an open one and this report joins it. Its notices (raised, dispatched) are
    committed with it to the outbox; the rescue worker delivers them."""
    call = service.Report(
        data.code,
        data.source,
        persons_trapped=data.persons_trapped,
        caller_name=data.caller_name,
        callback_phone=data.callback_phone,
        notes=data.notes,
    )
    out = service.report(session, actor, call, clock, settings)
    session.commit()
    response.status_code = 201 if out.created else 200
    return ReportResult(created=out.created, incident=IncidentOut.model_validate(out.incident))


@router.get("/incidents", response_model=list[IncidentOut])
def list_incidents(actor: ActorDep, session: SessionDep, open: bool = True) -> list[IncidentOut]:
    return [IncidentOut.model_validate(i) for i in service.visible_incidents(session, actor, open)]


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
def incident_detail(incident_id: DbId, actor: ActorDep, session: SessionDep) -> IncidentDetail:
    inc = service.get_incident(session, actor, incident_id)
    events = service.incident_events(session, inc)
    return IncidentDetail(
        **IncidentOut.model_validate(inc).model_dump(),
        events=[IncidentEventOut.model_validate(e) for e in events],
    )


@router.post("/incidents/{incident_id}/acknowledge", response_model=IncidentOut)
def acknowledge(incident_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep) -> IncidentOut:
    inc = service.acknowledge(session, actor, incident_id, clock)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/arrive", response_model=IncidentOut)
def arrive(incident_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep) -> IncidentOut:
    inc = service.arrive(session, actor, incident_id, clock)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/release", response_model=IncidentOut)
def release(
    incident_id: DbId, data: ReleaseIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    inc = service.release(session, actor, incident_id, clock, data.all_released)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/complete", response_model=IncidentOut)
def complete(
    incident_id: DbId, data: CompleteIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    inc = service.complete(session, actor, incident_id, clock, data.cause, data.detail)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/false-alarm", response_model=IncidentOut)
def false_alarm(
    incident_id: DbId, data: FalseAlarmIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    inc = service.false_alarm(session, actor, incident_id, clock, data.note)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/call-back", response_model=IncidentOut)
def call_back(
    incident_id: DbId, data: FalseAlarmIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    """The operator called the caller back after the rescue (回访); ``note`` is what they said."""
    inc = service.call_back(session, actor, incident_id, clock, data.note)
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
        shift=(data.shift_start, data.shift_end) if data.shift_start and data.shift_end else None,
    )
    session.commit()
    return CrewOut.model_validate(crew)


def _ratio(r: Ratio) -> dict[str, Any]:
    return {
        "numerator": r.numerator,
        "denominator": r.denominator,
        "value": r.value,
        "target": str(r.target) if r.target else None,
        "met": r.met,
    }


def _mean(m: MeanDuration) -> dict[str, Any]:
    return {
        "minutes": m.minutes,
        "count": m.count,
        "target": str(m.target) if m.target else None,
        "met": m.met,
    }


def kpis_json(k: Kpis) -> dict[str, Any]:
    e = k.entrapment_rate
    return {
        "period": {"from": k.period_start.isoformat(), "to": k.period_end.isoformat()},
        "elevators_in_service": k.elevators_in_service,
        "incidents": k.incidents,
        "false_alarms": k.false_alarms,
        "rescues": k.rescues,
        "response_rate": _ratio(k.response_rate),
        "average_arrival": _mean(k.average_arrival),
        "on_time_arrival": _ratio(k.on_time_arrival),
        "average_on_site": _mean(k.average_on_site),
        "entrapment_rate": {
            "entrapments": e.entrapments,
            "elevators": e.elevators,
            "value": e.value,
            "per_year": e.per_year,
            "per_month": e.per_month,
            "target": str(e.target) if e.target else None,
            "met": e.met,
        },
        "rescue_success": _ratio(k.rescue_success),
        "dispatch_rate": _ratio(k.dispatch_rate),
        "by_level": {str(level): _ratio(r) for level, r in k.by_level.items()},
        "cause_mix": {str(cause): _ratio(r) for cause, r in k.cause_mix.items()},
        "cause_unreported": k.cause_unreported,
        "pending": k.pending,
        "by_source": {str(src): n for src, n in k.by_source.items()},
    }


@router.get("/kpis")
def rescue_kpis(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
    from_: Annotated[datetime | None, Query(alias="from", description="default: 30 days before 'to'")] = None,
    to: Annotated[datetime | None, Query(description="default: now")] = None,
    district: QueryStr | None = None,
    unit: Annotated[QueryStr | None, Query(description="contracted maintenance unit code")] = None,
    group_by: Annotated[
        GroupKey | None, Query(description="also per district, street, maintenance_unit, place_type or month")
    ] = None,
) -> dict[str, Any]:
    """Rescue KPIs (docs/KPIS.md) for a period, city-wide or for one district or maintenance unit, and
    optionally broken down by a key (months on the city's calendar, LIFTWATCH_TIMEZONE)."""
    end = as_utc(to) if to else clock.now()
    start = as_utc(from_) if from_ else end - timedelta(days=30)
    if end <= start:
        raise InvalidInput(FieldError("to", "must be after 'from'"))
    records = service.incident_records(session, actor, start, end, district, unit)
    elevators = registry_queries.count_in_service(session, district, unit)
    as_of = min(end, clock.now())
    kpi_settings = KpiSettings(timezone=settings.timezone)
    out = kpis_json(compute_kpis(records, elevators, start, end, kpi_settings, as_of))
    if group_by is not None:
        if group_by == "month":
            counts = dict.fromkeys(month_keys(start, end, kpi_settings), elevators)
        else:
            counts = registry_queries.count_in_service_by(session, group_by, district, unit)
        groups = kpis_by(records, group_by, counts, start, end, kpi_settings, as_of)
        out["groups"] = {k: kpis_json(v) for k, v in sorted(groups.items())}
    return out
