"""Routes: operators open incidents (or join open ones), crews act on their own incidents."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.errors import FieldError, InvalidInput
from liftwatch.core.types import DbId, PageNo, PageSize, QueryStr
from liftwatch.deps import ActorDep, ClockDep, SessionDep, SettingsDep
from liftwatch.rescue import exports, queries, schemas, service
from liftwatch.rescue.domain import GeoPoint, IncidentStatus, Level
from liftwatch.rescue.kpis import (
    GroupKey,
    Kpis,
    MeanDuration,
    Ratio,
)
from liftwatch.rescue.schemas import (
    CompleteIn,
    CrewIn,
    CrewOut,
    DispatchOut,
    EntrapmentRateOut,
    EscalateIn,
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
    RedispatchIn,
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


_PERIOD_HELP = (
    "the alarm's period: a date (a day on the city's clock, LIFTWATCH_TIMEZONE: 'from' is its start, 'to' "
    "its end, so both days are included) or a date-time (without an offset: city time; 'to' exclusive)"
)


def incident_filter(
    settings: RescueSettingsDep,
    from_: Annotated[str | None, Query(alias="from", max_length=40, description=_PERIOD_HELP)] = None,
    to: Annotated[str | None, Query(max_length=40, description=_PERIOD_HELP)] = None,
    district: QueryStr | None = None,
    unit: Annotated[
        QueryStr | None,
        Query(description="a unit's code: the incidents it is contracted for or was sent to (as the KPIs)"),
    ] = None,
    level: Annotated[Level | None, Query(description="the highest level the incident reached")] = None,
    status: Annotated[list[IncidentStatus] | None, Query(description="any of these (repeat)")] = None,
    open: Annotated[
        bool, Query(description="only open incidents (raised, dispatched, acknowledged, arrived)")
    ] = False,
    code: Annotated[
        QueryStr | None, Query(max_length=40, description="an elevator's registration code")
    ] = None,
) -> queries.IncidentFilter:
    """The incident search's filters, as the list and the exports take them (a bad value is a 422 naming
    its parameter)."""
    tz = settings.tz
    start = period_bound(from_, "from", tz, end=False)
    end = period_bound(to, "to", tz, end=True)
    if start is not None and end is not None and end <= start:
        raise InvalidInput(FieldError("to", "must be after 'from'"))
    return queries.IncidentFilter(
        start=start,
        end=end,
        district=district,
        unit=unit,
        level=level,
        statuses=tuple(status or ()),
        open_only=open,
        code=code,
    )


IncidentFilterDep = Annotated[queries.IncidentFilter, Depends(incident_filter)]

_PAGE_HEADERS: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            "X-Total-Count": {"description": "matches over every page", "schema": {"type": "integer"}},
            "Link": {
                "description": "RFC 8288 links: first, prev, next, last pages",
                "schema": {"type": "string"},
            },
        }
    }
}


def _paged(
    request: Request, response: Response, page: queries.IncidentPage, actor: Actor
) -> list[IncidentOut]:
    """The page's incidents; the total and the links to the other pages go in the headers (the body stays
    the list it always was)."""
    response.headers["X-Total-Count"] = str(page.total)
    links = {"first": 1, "last": page.pages}
    if page.page > 1:
        links["prev"] = min(page.page - 1, page.pages)
    if page.page < page.pages:
        links["next"] = page.page + 1
    response.headers["Link"] = ", ".join(
        f'<{request.url.include_query_params(page=n, size=page.size)}>; rel="{rel}"'
        for rel, n in links.items()
    )
    return [_incident_out(i, actor) for i in page.items]


def _incident_out(inc: service.StoredIncident, actor: Actor) -> IncidentOut:
    """The incident as this actor may read it: without the caller's name and number for a use unit."""
    out = IncidentOut.model_validate(inc)
    if not queries.sees_callers(actor):
        out = out.model_copy(update=dict.fromkeys(queries.CALLER_FIELDS, ""))
    return out


def _event_out(event: Any, actor: Actor) -> IncidentEventOut:
    out = IncidentEventOut.model_validate(event)
    if not queries.sees_callers(actor):
        details = {k: v for k, v in out.details.items() if k not in queries.CALLER_DETAIL_KEYS}
        out = out.model_copy(update={"details": details})
    return out


@router.get("/incidents", response_model=list[IncidentOut], responses=_PAGE_HEADERS)
def list_incidents(
    request: Request,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    core_settings: SettingsDep,
    flt: IncidentFilterDep,
    page: PageNo = 1,
    size: Annotated[PageSize, Query(description="incidents a page (at most LIFTWATCH_PAGE_SIZE_MAX)")] = 50,
) -> list[IncidentOut]:
    """The incidents in the caller's scope (the centre: all; a crew: those it was sent to; a use unit: those
    on its elevators; other unit staff: their unit's), newest alarm first, filtered and paged without a row
    limit: ``X-Total-Count`` gives the total and ``Link`` the other pages."""
    size = min(size, core_settings.page_size_max)
    return _paged(request, response, queries.search(session, actor, flt, page, size), actor)


@router.get("/incidents/{incident_id}", response_model=IncidentWithDispatches)
def incident_detail(incident_id: DbId, actor: ActorDep, session: SessionDep) -> IncidentWithDispatches:
    """The incident, its audit trail and every dispatch (first first; L3 rows are 119 calls)."""
    inc = service.get_incident(session, actor, incident_id)
    events = queries.incident_events(session, inc)
    return IncidentWithDispatches(
        **_incident_out(inc, actor).model_dump(),
        events=[_event_out(e, actor) for e in events],
        dispatches=[DispatchOut.model_validate(d) for d in service.dispatches_of(session, actor, inc.id)],
    )


DispatchQ = Annotated[
    DbId | None, Query(description="the dispatch to act on (operators; a crew always acts on its own)")
]


def _stepped(session: Session, inc: service.StoredIncident) -> IncidentOut:
    """The answer to a step on an incident: committed first (its notices leave the outbox only then), then
    the incident as it now stands."""
    session.commit()
    return IncidentOut.model_validate(inc)


@router.post("/incidents/{incident_id}/acknowledge", response_model=IncidentOut)
def acknowledge(
    incident_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep, dispatch: DispatchQ = None
) -> IncidentOut:
    return _stepped(session, service.acknowledge(session, actor, incident_id, clock, dispatch_id=dispatch))


@router.post("/incidents/{incident_id}/arrive", response_model=IncidentOut)
def arrive(
    incident_id: DbId, actor: ActorDep, session: SessionDep, clock: ClockDep, dispatch: DispatchQ = None
) -> IncidentOut:
    return _stepped(session, service.arrive(session, actor, incident_id, clock, dispatch_id=dispatch))


@router.post("/incidents/{incident_id}/release", response_model=IncidentOut)
def release(
    incident_id: DbId,
    data: ReleaseIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    dispatch: DispatchQ = None,
) -> IncidentOut:
    return _stepped(
        session, service.release(session, actor, incident_id, clock, data.all_released, dispatch_id=dispatch)
    )


@router.post("/incidents/{incident_id}/complete", response_model=IncidentOut)
def complete(
    incident_id: DbId,
    data: CompleteIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> IncidentOut:
    return _stepped(
        session, service.complete(session, actor, incident_id, clock, settings, data.cause, data.detail)
    )


@router.post("/incidents/{incident_id}/false-alarm", response_model=IncidentOut)
def false_alarm(
    incident_id: DbId,
    data: FalseAlarmIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> IncidentOut:
    return _stepped(session, service.false_alarm(session, actor, incident_id, clock, settings, data.note))


@router.post("/incidents/{incident_id}/self-released", response_model=IncidentOut)
def self_released(
    incident_id: DbId,
    data: SelfReleaseIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> IncidentOut:
    """The passengers got out before any crew arrived (自行脱困): closed; crews on the way withdrawn."""
    return _stepped(
        session,
        service.self_released(session, actor, incident_id, clock, settings, data.note, data.at, data.cause),
    )


@router.post("/incidents/{incident_id}/cancel", response_model=IncidentOut)
def cancel_call(
    incident_id: DbId,
    data: ReasonIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> IncidentOut:
    """The caller cancelled before anyone arrived; the reason is required."""
    return _stepped(session, service.cancel_call(session, actor, incident_id, clock, settings, data.reason))


@router.post("/incidents/{incident_id}/dispatches/{dispatch_id}/withdraw", response_model=DispatchOut)
def withdraw(
    incident_id: DbId,
    dispatch_id: DbId,
    data: ReasonIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> DispatchOut:
    """Take a crew off the job (the operator any, a crew its own), with the reason; the crew freed takes
    an incident waiting for a crew at once."""
    row = service.withdraw(session, actor, incident_id, dispatch_id, clock, settings, data.reason)
    session.commit()
    return DispatchOut.model_validate(row)


@router.post(
    "/incidents/{incident_id}/redispatch",
    response_model=DispatchOut,
    status_code=201,
    responses={200: {"description": "the same dispatch was already on record (a repeated request)"}},
)
def redispatch(
    incident_id: DbId,
    data: RedispatchIn,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> DispatchOut:
    """Send a crew (or a unit's nearest free crew) by hand, with the reason; L1 for the contracted unit,
    else L2. Earlier crews stay on the job unless ``replace``. 201 with the new dispatch; 200 with the one
    on record when the crew is already on the job or the same request was just made."""
    row, created = service.redispatch(
        session, actor, incident_id, clock, settings, data.reason, data.crew_id, data.unit, data.replace
    )
    session.commit()
    response.status_code = 201 if created else 200
    return DispatchOut.model_validate(row)


@router.post("/incidents/{incident_id}/escalate", response_model=IncidentOut)
def escalate(
    incident_id: DbId,
    data: EscalateIn,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> IncidentOut:
    """Escalate by hand to the next level (L1 -> L2 sends the crew with the soonest arrival; L2 -> L3
    asks for 119), with the reason. With ``from_level``, an incident already past it is left as it is."""
    inc, _ = service.escalate_by_hand(
        session, actor, incident_id, clock, settings, data.reason, data.from_level
    )
    session.commit()
    return IncidentOut.model_validate(inc)


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
    return _stepped(session, service.record_fire_arrival(session, actor, incident_id, clock, data.at))


@router.post("/incidents/{incident_id}/fire-release", response_model=IncidentOut)
def fire_release(
    incident_id: DbId, data: FireTimeIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    """The fire service freed the trapped persons (the L1 unit still reports the cause)."""
    return _stepped(
        session, service.record_fire_release(session, actor, incident_id, clock, data.all_released, data.at)
    )


@router.post("/incidents/{incident_id}/call-back", response_model=IncidentOut)
def call_back(
    incident_id: DbId, data: FalseAlarmIn, actor: ActorDep, session: SessionDep, clock: ClockDep
) -> IncidentOut:
    """The operator called the caller back after the rescue (回访); ``note`` is what they said."""
    return _stepped(session, service.call_back(session, actor, incident_id, clock, data.note))


@router.post("/crews/me/position", response_model=CrewOut)
def report_position(data: PositionIn, actor: ActorDep, session: SessionDep, clock: ClockDep) -> CrewOut:
    crew = service.report_position(session, actor, data.latitude, data.longitude, clock)
    session.commit()
    return CrewOut.model_validate(crew)


@router.get("/crews", response_model=list[CrewOut])
def list_crews(
    actor: ActorDep,
    session: SessionDep,
    unit: Annotated[QueryStr | None, Query(description="one unit's crews")] = None,
) -> list[CrewOut]:
    """The crews in the caller's scope: the centre every crew, unit staff their own unit's."""
    return [CrewOut.model_validate(c) for c in service.list_crews(session, actor, unit or None)]


CrewIdPath = Annotated[str, Path(min_length=1, max_length=40)]


@router.patch("/crews/{crew_id}", response_model=CrewOut)
def update_crew(
    crew_id: CrewIdPath,
    data: schemas.CrewPatch,
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> CrewOut:
    """Change a crew (only the fields sent; ``on_shift`` false stands it down). Incidents waiting for a
    crew are dispatched at once when it can take one."""
    sent = data.model_fields_set
    change = service.CrewChange(
        name=data.name,
        phone=data.phone,
        unit=data.unit,
        position=GeoPoint(data.latitude, data.longitude)
        if data.latitude is not None and data.longitude is not None
        else None,
        username=(data.username or "") if "username" in sent else None,
        shift=(data.shift or "") if "shift" in sent else None,
        on_shift=data.on_shift,
    )
    crew = service.update_crew(session, actor, crew_id, change, clock, settings)
    session.commit()
    return CrewOut.model_validate(crew)


@router.post("/crews", response_model=CrewOut, status_code=201)
def add_crew(
    data: CrewIn, actor: ActorDep, session: SessionDep, clock: ClockDep, settings: RescueSettingsDep
) -> CrewOut:
    """Register a crew; incidents waiting for a crew of its unit are dispatched to it at once."""
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
        settings=settings,
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
        return as_utc(at if at.tzinfo is not None else at.replace(tzinfo=tz))
    except (ValueError, OverflowError):  # OverflowError: a day at the calendar's ends (9999-12-31)
        raise InvalidInput(
            FieldError(name, f"'{value}' is not a date (2026-03-01) or a date-time (2026-03-01T08:00+08:00)")
        ) from None


_BOUND_HELP = (
    "a date (a day on the city's clock, LIFTWATCH_TIMEZONE: 'from' is its start, 'to' its end, so both "
    "days are included) or a date-time (without an offset: city time)"
)


MONTHS_MAX = timedelta(days=3653)  # ten years of month groups in one file


@dataclass(frozen=True)
class KpiFilter:
    """The period and scope of a KPI answer or export (a bad bound is a 422 naming its parameter)."""

    start: datetime
    end: datetime
    district: str | None
    unit: str | None


def kpi_filter(
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
) -> KpiFilter:
    tz = settings.tz
    end = period_bound(to, "to", tz, end=True) or clock.now()
    start = period_bound(from_, "from", tz, end=False) or end - timedelta(days=30)
    if end <= start:
        raise InvalidInput(FieldError("to", "must be after 'from'"))
    return KpiFilter(start, end, district, unit)


KpiFilterDep = Annotated[KpiFilter, Depends(kpi_filter)]


def _kpi_report(
    session: Session,
    actor: Actor,
    clock: Clock,
    settings: service.RescueSettings,
    flt: KpiFilter,
    groupings: Sequence[exports.ReportGrouping],
) -> exports.KpiReport:
    """The one computation behind GET /kpis and its export, so their figures are the same."""
    if "month" in groupings and flt.end - flt.start > MONTHS_MAX:
        raise InvalidInput(FieldError("from", "a period grouped by month covers at most 10 years"))
    return exports.kpi_report(
        session, actor, flt.start, flt.end, settings, clock.now(), flt.district, flt.unit, groupings
    )


@router.get("/kpis", response_model=KpisOut, response_model_by_alias=True)
def rescue_kpis(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
    flt: KpiFilterDep,
    group_by: Annotated[
        GroupKey | None, Query(description="also per district, street, maintenance_unit, place_type or month")
    ] = None,
) -> KpisOut:
    """Rescue KPIs (docs/KPIS.md) for a period, city-wide or for one district or unit, and optionally
    broken down by a key (months on the city's calendar, LIFTWATCH_TIMEZONE). Figures are as of now: an
    incident still within a deadline is pending, one past it is decided, so a past period is settled."""
    groupings: list[exports.ReportGrouping] = [group_by] if group_by is not None else []
    report = _kpi_report(session, actor, clock, settings, flt, groupings)
    out = kpis_out(report.total)  # the same figures as the KPI export for the same filters
    if group_by is not None:
        out.groups = {k: kpis_out(v) for k, v in report.groups[group_by].items()}
    return out


# ---------------------------------------------------------------- the operator's queues (issue 11, item 6)


@router.get("/queues/call-backs", response_model=list[IncidentOut], responses=_PAGE_HEADERS)
def callbacks_due(
    request: Request,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    core_settings: SettingsDep,
    page: PageNo = 1,
    size: PageSize = 50,
) -> list[IncidentOut]:
    """Call-backs due (待回访): rescues whose persons are out and whose caller was not called back yet,
    longest waiting first (the call-back rate's misses). Operators work through it; regulators read it."""
    size = min(size, core_settings.page_size_max)
    return _paged(request, response, queries.callbacks_due(session, actor, page, size), actor)


@router.get("/queues/causes-missing", response_model=list[IncidentOut], responses=_PAGE_HEADERS)
def causes_missing(
    request: Request,
    response: Response,
    actor: ActorDep,
    session: SessionDep,
    core_settings: SettingsDep,
    page: PageNo = 1,
    size: PageSize = 50,
) -> list[IncidentOut]:
    """Causes missing (待报原因): rescues released or closed without a reported cause, longest waiting
    first (the cause-reported rate's misses)."""
    size = min(size, core_settings.page_size_max)
    return _paged(request, response, queries.causes_missing(session, actor, page, size), actor)


@router.get("/queues/stale", response_model=list[schemas.StaleIncidentOut])
def stale_incidents(
    actor: ActorDep, session: SessionDep, clock: ClockDep, settings: RescueSettingsDep
) -> list[schemas.StaleIncidentOut]:
    """Stale incidents (超时未结): open past the arrival deadline without an arrival, or not closed past
    the closing limit (LIFTWATCH_RESCUE_CLOSE_LIMIT_H), oldest alarm first."""
    queries.require_queue_reader(actor)
    return [
        schemas.StaleIncidentOut(
            **IncidentOut.model_validate(s.incident).model_dump(),
            overdue=s.overdue,
            unsettled=s.unsettled,
            minutes_past=s.minutes_past,
        )
        for s in queries.stale_open_incidents(session, clock, settings)
    ]


# ---------------------------------------------------------------- exports (issue 11, item 6)

ExportFormatQ = Annotated[exports.FileFormat, Query(alias="format", description="xlsx (default) or csv")]
ExportLangQ = Annotated[
    exports.Lang, Query(description="headers and labels: zh (Chinese, default) or en (English)")
]
_FILE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the file (Content-Disposition: attachment)",
        "content": {exports.MEDIA_TYPES["xlsx"]: {}, "text/csv": {}},
    }
}


def _download(content: bytes, stem: str, file_format: exports.FileFormat, at: datetime) -> Response:
    name = f"{stem}-{at:%Y%m%d-%H%M}.{file_format}"
    return Response(
        content,
        media_type=exports.MEDIA_TYPES[file_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/exports/incidents", response_class=Response, responses=_FILE)
def export_incidents(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
    flt: IncidentFilterDep,
    file_format: ExportFormatQ = "xlsx",
    lang: ExportLangQ = "zh",
    sheet: Annotated[
        Literal["incidents", "dispatches"],
        Query(description="CSV only (one table a file): the incidents, or every dispatch of them"),
    ] = "incidents",
) -> Response:
    """Every incident of the search (the list's filters and scope, no row limit), one row each with every
    stage time; the workbook's second sheet "派单记录" has every dispatch. Times on the city's clock."""
    incidents, dispatches = exports.incident_tables(session, actor, flt, settings.tz, lang)
    tables = [incidents, dispatches] if file_format == "xlsx" or sheet == "incidents" else [dispatches]
    stem = "liftwatch-dispatches" if file_format == "csv" and sheet == "dispatches" else "liftwatch-incidents"
    return _download(
        exports.render(tables, file_format), stem, file_format, clock.now().astimezone(settings.tz)
    )


@router.get("/exports/kpis", response_class=Response, responses=_FILE)
def export_kpis(
    actor: ActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
    flt: KpiFilterDep,
    group_by: Annotated[
        list[exports.Grouping] | None,
        Query(description="month, district, maintenance_unit, level (repeat; default: all four)"),
    ] = None,
    file_format: ExportFormatQ = "xlsx",
    lang: ExportLangQ = "zh",
) -> Response:
    """The rescue KPIs (docs/KPIS.md) of a period, in total and grouped by month, district, maintenance
    unit and level: the figures GET /kpis gives for the same from, to, district and unit (as of now). The
    workbook has a sheet per grouping; the CSV one table whose first columns name the grouping and group."""
    groupings = tuple(dict.fromkeys(group_by)) if group_by else exports.GROUPINGS
    report = _kpi_report(session, actor, clock, settings, flt, groupings)
    tz = settings.tz
    tables = exports.kpi_tables(session, report, tz, lang, one_table=file_format == "csv")
    return _download(
        exports.render(tables, file_format), "liftwatch-kpis", file_format, clock.now().astimezone(tz)
    )
