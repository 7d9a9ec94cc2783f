"""Routes: operators open incidents (or join open ones), crews act on their own incidents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

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
    DispatchOut,
    EntrapmentRateOut,
    FalseAlarmIn,
    FireCallIn,
    FireTimeIn,
    IncidentEventOut,
    IncidentIn,
    IncidentOut,
    IncidentWithDispatches,
    KpisOut,
    MeanOut,
    PeriodOut,
    PositionIn,
    RatioOut,
    ReasonIn,
    ReleaseIn,
    ReportResult,
    SelfReleaseIn,
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


@router.get("/incidents/{incident_id}", response_model=IncidentWithDispatches)
def incident_detail(incident_id: DbId, actor: ActorDep, session: SessionDep) -> IncidentWithDispatches:
    """The incident, its audit trail and every dispatch (first first; L3 rows are 119 calls)."""
    inc = service.get_incident(session, actor, incident_id)
    events = service.incident_events(session, inc)
    return IncidentWithDispatches(
        **IncidentOut.model_validate(inc).model_dump(),
        events=[IncidentEventOut.model_validate(e) for e in events],
        dispatches=[DispatchOut.model_validate(d) for d in service.dispatches_of(session, actor, inc.id)],
    )


DispatchQ = Annotated[
    DbId | None, Query(description="the dispatch to act on (operators; a crew always acts on its own)")
]


@router.post("/incidents/{incident_id}/acknowledge", response_model=IncidentOut)
def acknowledge(
    incident_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep, dispatch: DispatchQ = None
) -> IncidentOut:
    inc = service.acknowledge(session, actor, incident_id, clock, dispatch_id=dispatch)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/arrive", response_model=IncidentOut)
def arrive(
    incident_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep, dispatch: DispatchQ = None
) -> IncidentOut:
    inc = service.arrive(session, actor, incident_id, clock, dispatch_id=dispatch)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/release", response_model=IncidentOut)
def release(
    incident_id: DbId,
    data: ReleaseIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    dispatch: DispatchQ = None,
) -> IncidentOut:
    inc = service.release(session, actor, incident_id, clock, data.all_released, dispatch_id=dispatch)
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


@router.post("/incidents/{incident_id}/self-released", response_model=IncidentOut)
def self_released(
    incident_id: DbId, data: SelfReleaseIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    """The passengers got out before any crew arrived (自行脱困): closed; crews on the way withdrawn."""
    inc = service.self_released(session, actor, incident_id, clock, data.note, data.at, data.cause)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/cancel", response_model=IncidentOut)
def cancel_call(
    incident_id: DbId, data: ReasonIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    """The caller cancelled before anyone arrived; the reason is required."""
    inc = service.cancel_call(session, actor, incident_id, clock, data.reason)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/dispatches/{dispatch_id}/withdraw", response_model=DispatchOut)
def withdraw(
    incident_id: DbId,
    dispatch_id: DbId,
    data: ReasonIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
) -> DispatchOut:
    """Take a crew off the job (the operator any, a crew its own), with the reason."""
    row = service.withdraw(session, actor, incident_id, dispatch_id, clock, data.reason)
    session.commit()
    return DispatchOut.model_validate(row)


@router.post("/incidents/{incident_id}/fire-call", response_model=DispatchOut, status_code=201)
def fire_call(
    incident_id: DbId, data: FireCallIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> DispatchOut:
    """L3: the operator called 119 (time, the operator, the fire service's reference)."""
    row = service.record_fire_call(session, actor, incident_id, clock, data.reference, data.at)
    session.commit()
    return DispatchOut.model_validate(row)


@router.post("/incidents/{incident_id}/fire-arrival", response_model=IncidentOut)
def fire_arrival(
    incident_id: DbId, data: FireTimeIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    """The fire service is on site."""
    inc = service.record_fire_arrival(session, actor, incident_id, clock, data.at)
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/fire-release", response_model=IncidentOut)
def fire_release(
    incident_id: DbId, data: FireTimeIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    """The fire service freed the trapped persons (the L1 unit still reports the cause)."""
    inc = service.record_fire_release(session, actor, incident_id, clock, data.all_released, data.at)
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


def _ratio(r: Ratio) -> RatioOut:
    return RatioOut(
        numerator=r.numerator,
        denominator=r.denominator,
        value=r.value,
        target=str(r.target) if r.target else None,
        met=r.met,
    )


def _mean(m: MeanDuration) -> MeanOut:
    return MeanOut(minutes=m.minutes, count=m.count, target=str(m.target) if m.target else None, met=m.met)


def kpis_out(k: Kpis) -> KpisOut:
    e = k.entrapment_rate
    return KpisOut(
        period=PeriodOut.model_validate({"from": k.period_start, "to": k.period_end}),
        unit=k.unit,
        elevators_in_service=k.elevators_in_service,
        incidents=k.incidents,
        false_alarms=k.false_alarms,
        cancelled=k.cancelled,
        rescues=k.rescues,
        self_released=k.self_released,
        response_rate=_ratio(k.response_rate),
        average_arrival=_mean(k.average_arrival),
        on_time_arrival=_ratio(k.on_time_arrival),
        average_on_site=_mean(k.average_on_site),
        entrapment_rate=EntrapmentRateOut(
            entrapments=e.entrapments,
            elevators=e.elevators,
            value=e.value,
            per_year=e.per_year,
            per_month=e.per_month,
            target=str(e.target) if e.target else None,
            met=e.met,
        ),
        rescue_success=_ratio(k.rescue_success),
        dispatch_rate=_ratio(k.dispatch_rate),
        callback_rate=_ratio(k.callback_rate),
        cause_reported=_ratio(k.cause_reported),
        by_level={str(level): _ratio(r) for level, r in k.by_level.items()},
        cause_mix={str(cause): _ratio(r) for cause, r in k.cause_mix.items()},
        cause_unreported=k.cause_unreported,
        pending=k.pending,
        by_source={str(src): n for src, n in k.by_source.items()},
        timestamp_anomalies=list(k.timestamp_anomalies),
    )


def kpis_json(k: Kpis) -> dict[str, Any]:
    """The KPI answer as JSON (the API's shape, ``KpisOut``)."""
    return kpis_out(k).model_dump(mode="json", by_alias=True, exclude_none=False)


def period_bound(value: str | None, name: str, tz: ZoneInfo, end: bool) -> datetime | None:
    """A period bound: a date is a day on the city's clock (``from`` its start; ``to`` its end, so the day
    is included); a date-time without an offset is city time too; with an offset it is that instant."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            local = datetime.combine(day + timedelta(days=1) if end else day, datetime.min.time(), tz)
            return local.astimezone(UTC)
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            FieldError(name, f"'{value}' is not a date (2026-03-01) or a date-time (2026-03-01T08:00+08:00)")
        ) from None
    return as_utc(at if at.tzinfo is not None else at.replace(tzinfo=tz))


_BOUND_HELP = (
    "a date (a day on the city's clock, LIFTWATCH_TIMEZONE: 'from' is its start, 'to' its end, so both "
    "days are included) or a date-time (without an offset: city time)"
)


@router.get("/kpis", response_model=KpisOut, response_model_by_alias=True)
def rescue_kpis(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
    from_: Annotated[
        str | None,
        Query(alias="from", max_length=40, description=f"default: 30 days before 'to'; {_BOUND_HELP}"),
    ] = None,
    to: Annotated[str | None, Query(max_length=40, description=f"default: now; {_BOUND_HELP}")] = None,
    district: QueryStr | None = None,
    unit: Annotated[
        QueryStr | None,
        Query(description="a unit's figures: its own dispatches; its contracted incidents (docs/KPIS.md)"),
    ] = None,
    group_by: Annotated[
        GroupKey | None, Query(description="also per district, street, maintenance_unit, place_type or month")
    ] = None,
) -> KpisOut:
    """Rescue KPIs (docs/KPIS.md) for a period, city-wide or for one district or unit, and optionally
    broken down by a key (months on the city's calendar, LIFTWATCH_TIMEZONE). Figures are as of now: an
    incident still within a deadline is pending, one past it is decided, so a past period is settled."""
    tz = settings.tz
    end = period_bound(to, "to", tz, end=True) or clock.now()
    start = period_bound(from_, "from", tz, end=False) or end - timedelta(days=30)
    if end <= start:
        raise InvalidInput(FieldError("to", "must be after 'from'"))
    records = service.incident_records(session, actor, start, end, district, unit)
    elevators = registry_queries.count_in_service(session, district, unit)
    as_of = clock.now()
    kpi_settings = service.kpi_settings(settings)
    out = kpis_out(compute_kpis(records, elevators, start, end, kpi_settings, as_of, unit))
    if group_by is not None:
        if group_by == "month":
            counts = dict.fromkeys(month_keys(start, end, kpi_settings), elevators)
        else:
            counts = registry_queries.count_in_service_by(session, group_by, district, unit)
        groups = kpis_by(records, group_by, counts, start, end, kpi_settings, as_of)
        out.groups = {k: kpis_out(v) for k, v in sorted(groups.items())}
    return out
