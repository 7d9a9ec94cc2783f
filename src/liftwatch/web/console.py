"""The 96333 rescue console (96333接警台): take a call by rescue code, watch every open incident move
through its stages against its deadlines, close false alarms, and read the rescue KPIs.

Operators (and admins) act; regulators read the same pages without the forms; other roles get the 403 page.
Every write goes through ``rescue.service`` (report, false_alarm); this module only reads and renders. The
board refreshes every 3 s by htmx polling (:func:`board`), the KPI panel every 30 s (:func:`kpis_panel`).

Deadline colours on the board: the acknowledgement is due ``ack_limit_s`` after dispatch (5 min) and the
arrival ``arrival_limit_min`` after the alarm (30 or 60 min, on the incident). A pending stage is "near"
once :data:`NEAR_SHARE` of its limit has passed and "late" once the limit has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeAlias
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.errors import Forbidden, NotFound
from liftwatch.deps import ClockDep, SessionDep
from liftwatch.registry import queries as registry
from liftwatch.registry.queries import ElevatorFilter
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import OPEN_STATUSES, Source
from liftwatch.rescue.kpis import Kpis, compute_kpis
from liftwatch.web.monitor import live_context
from liftwatch.web.templating import (
    PageActorDep,
    PageRoute,
    city_time,
    is_partial,
    render,
    safe_next,
    screen_tz,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The records the rescue service and the registry queries hand out (their tables are the domains' own)
Incident: TypeAlias = rescue.StoredIncident
Crew: TypeAlias = rescue.StoredCrew
Elevator: TypeAlias = registry.StoredElevator

CONSOLE_ROLES = frozenset({Role.ADMIN, Role.RESCUE_OPERATOR, Role.REGULATOR})
NEAR_SHARE = 0.8  # a pending deadline turns amber when 80% of its limit has passed
CANDIDATE_LIMIT = 8  # address matches shown when no code matches
BOARD_LIMIT = 500
MAX_PERSONS = 99


def rescue_settings(request: Request) -> rescue.RescueSettings:
    """The rescue settings the app read at its start (a dependency, so a test can override it)."""
    settings: rescue.RescueSettings = request.app.state.rescue_settings
    return settings


RescueSettingsDep = Annotated[rescue.RescueSettings, Depends(rescue_settings)]


def _require_console(actor: Actor) -> None:
    if actor.role not in CONSOLE_ROLES:
        raise Forbidden(f"role '{actor.role.value}' may not use the rescue console")


def can_act(actor: Actor) -> bool:
    return actor.role in rescue.OPERATORS


def _local(value: datetime | None, fmt: str = "%H:%M:%S") -> str:
    return city_time(value, fmt)


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


# ---------------------------------------------------------------- the board


@dataclass(frozen=True)
class Stage:
    """One step of an incident's timeline as the board shows it."""

    name: str  # alarm, dispatched, acknowledged, arrived
    done: bool
    at: str  # local HH:MM:SS when done
    minutes: int  # done: minutes after the alarm; pending: minutes waited so far
    limit_min: int | None = None  # pending with a deadline: its length
    warning: str = ""  # "", "near" or "late"


@dataclass(frozen=True)
class BoardRow:
    incident: Incident
    place: str
    maintenance_unit: str
    responder_unit: str
    crew: Crew | None
    stages: list[Stage]
    warning: str  # the worst of the stages': "", "near", "late"
    elapsed_min: int


def _warning(waited: timedelta, limit: timedelta) -> str:
    if waited > limit:
        return "late"
    if waited >= limit * NEAR_SHARE:
        return "near"
    return ""


def stages_of(inc: Incident, now: datetime, ack_limit: timedelta) -> list[Stage]:
    """Alarm, dispatch, acknowledgement and arrival: when each happened, or how long it has been awaited
    against its deadline (acknowledgement: ``ack_limit`` after dispatch; arrival: the incident's limit
    after the alarm)."""
    alarm = as_utc(inc.alarm_at)
    out = [Stage("alarm", True, _local(alarm), 0)]
    dispatched = as_utc(inc.dispatched_at) if inc.dispatched_at else None
    if dispatched is not None:
        out.append(Stage("dispatched", True, _local(dispatched), _minutes(dispatched - alarm)))
    else:
        out.append(Stage("dispatched", False, "", _minutes(now - alarm)))
    acked = as_utc(inc.acknowledged_at) if inc.acknowledged_at else None
    if acked is not None:
        out.append(Stage("acknowledged", True, _local(acked), _minutes(acked - alarm)))
    elif dispatched is not None:
        waited = now - dispatched
        out.append(
            Stage(
                "acknowledged",
                False,
                "",
                _minutes(waited),
                max(1, round(ack_limit.total_seconds() / 60)),
                _warning(waited, ack_limit),
            )
        )
    else:
        out.append(Stage("acknowledged", False, "", 0))
    arrived = as_utc(inc.arrived_at) if inc.arrived_at else None
    if arrived is not None:
        out.append(Stage("arrived", True, _local(arrived), _minutes(arrived - alarm)))
    else:
        limit = timedelta(minutes=inc.arrival_limit_min)
        waited = now - alarm
        out.append(
            Stage("arrived", False, "", _minutes(waited), inc.arrival_limit_min, _warning(waited, limit))
        )
    return out


def _worst(stages: Sequence[Stage]) -> str:
    warnings = {s.warning for s in stages}
    return "late" if "late" in warnings else "near" if "near" in warnings else ""


def open_incidents(session: Session) -> list[Incident]:
    return rescue.open_incidents(session, BOARD_LIMIT)


def board_rows(
    session: Session, incidents: Sequence[Incident], now: datetime, ack_limit_s: int
) -> list[BoardRow]:
    places = registry.places_of(session, sorted({i.registration_code for i in incidents}))
    crew_ids = sorted({i.crew_id for i in incidents if i.crew_id})
    crews = rescue.crews_by_id(session, crew_ids)
    units = registry.unit_names(
        session,
        {i.responder_unit for i in incidents if i.responder_unit}
        | {i.maintenance_unit for i in incidents if i.maintenance_unit},
    )
    rows = []
    for inc in incidents:
        place = places.get(inc.registration_code)
        stages = stages_of(inc, now, timedelta(seconds=ack_limit_s))
        rows.append(
            BoardRow(
                incident=inc,
                place=" · ".join(p for p in (place.district, place.street, place.address) if p)
                if place
                else "",
                maintenance_unit=units.get(inc.maintenance_unit, inc.maintenance_unit),
                responder_unit=units.get(inc.responder_unit, inc.responder_unit),
                crew=crews.get(inc.crew_id) if inc.crew_id else None,
                stages=stages,
                warning=_worst(stages),
                elapsed_min=_minutes(now - as_utc(inc.alarm_at)),
            )
        )
    return rows


def _board_context(
    session: Session, actor: Actor, clock: Clock, settings: rescue.RescueSettings
) -> dict[str, Any]:
    now = clock.now()
    incidents = open_incidents(session)
    return {
        "rows": board_rows(session, incidents, now, settings.ack_limit_s),
        "open_count": len(incidents),
        "surge": len(incidents) >= settings.surge_threshold,
        "surge_threshold": settings.surge_threshold,
        "can_act": can_act(actor),
        "updated": _local(now, "%Y-%m-%d %H:%M:%S"),
    }


# ---------------------------------------------------------------- KPIs


@dataclass(frozen=True)
class KpiPeriod:
    key: str  # console.today / console.last_30_days
    kpis: Kpis


def kpi_periods(session: Session, actor: Actor, clock: Clock) -> list[KpiPeriod]:
    """Today (since local midnight, UTC+8) and the last 30 days, as the /api/v1/rescue/kpis route
    computes them: incident records over [start, now) and the elevators in service."""
    now = clock.now()
    local_midnight = as_utc(now).astimezone(screen_tz()).replace(hour=0, minute=0, second=0, microsecond=0)
    elevators = registry.count_in_service(session)
    out = []
    for key, start in (("console.today", local_midnight), ("console.last_30_days", now - timedelta(days=30))):
        records = rescue.incident_records(session, actor, start, now)
        out.append(KpiPeriod(key, compute_kpis(records, elevators, start, now, as_of=now)))
    return out


# ---------------------------------------------------------------- intake


@dataclass
class ReportForm:
    code: str = ""
    persons_trapped: str = ""
    caller_name: str = ""
    callback_phone: str = ""
    notes: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def persons(self) -> int | None:
        return int(self.persons_trapped) if self.persons_trapped else None

    def validate(self) -> None:
        value = self.persons_trapped.strip()
        self.persons_trapped = value
        if value and (not value.isdigit() or int(value) > MAX_PERSONS):
            self.errors["persons_trapped"] = "console.invalid_persons"
        for name, limit in (("caller_name", 64), ("callback_phone", 32), ("notes", 2000)):
            if len(getattr(self, name)) > limit:
                self.errors[name] = "console.too_long"


def find_elevator(session: Session, actor: Actor, code: str) -> Elevator | None:
    """The elevator with this rescue or registration code, within the actor's scope."""
    try:
        elevator = registry.get_public_elevator(session, code)
        return registry.get_elevator(session, actor, elevator.registration_code)
    except NotFound:
        return None


def open_incident_of(session: Session, registration_code: str) -> Incident | None:
    return rescue.open_incident_of(session, registration_code)


def lookup_context(
    session: Session, actor: Actor, clock: Clock, code: str, form: ReportForm | None = None
) -> dict[str, Any]:
    """What the intake shows for what was typed: the elevator (by code), else address matches, else a
    message; with the elevator its units, live status, open faults and open incident."""
    code = code.strip()[:80]
    ctx: dict[str, Any] = {"code": code, "elevator": None, "candidates": [], "candidates_total": 0}
    if not code:
        return ctx
    elevator = find_elevator(session, actor, code)
    if elevator is None:
        if len(code) >= 2:
            rows, total = registry.list_elevators(
                session, actor, ElevatorFilter(q=code), clock, size=CANDIDATE_LIMIT
            )
            ctx.update(candidates=rows, candidates_total=total)
        return ctx
    live = live_context(session, actor, elevator.registration_code)
    ctx.update(
        elevator=elevator,
        open_incident=open_incident_of(session, elevator.registration_code),
        form=form or ReportForm(code=elevator.registration_code),
        live=live["live"],
        last_seen=live["last_seen"],
        open_faults=live["open_faults"],
    )
    return ctx


# ---------------------------------------------------------------- pages


def _page(
    request: Request,
    actor: Actor,
    session: Session,
    clock: Clock,
    settings: rescue.RescueSettings,
    extra: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        **_board_context(session, actor, clock, settings),
        "periods": kpi_periods(session, actor, clock),
        "lookup": lookup_context(session, actor, clock, request.query_params.get("code", "")),
        "flash": None,
        **extra,
    }
    return render(request, "console/index.html", context, actor=actor, status_code=status_code)


@router.get("/console", response_class=HTMLResponse)
def console_page(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
    incident: int | None = None,
    outcome: str = "",
) -> HTMLResponse:
    """The console: intake, open-incident board, KPI panel; ``?incident=&outcome=`` after a report."""
    _require_console(actor)
    flash = None
    if incident is not None and outcome in ("created", "joined"):
        try:
            flash = {"incident": rescue.get_incident(session, actor, incident), "outcome": outcome}
        except NotFound:
            flash = None
    return _page(request, actor, session, clock, settings, {"flash": flash})


@router.get("/console/lookup", response_class=HTMLResponse)
def lookup(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, code: str = ""
) -> HTMLResponse:
    """The intake's result for what has been typed so far (htmx, as the operator types)."""
    _require_console(actor)
    context = {"lookup": lookup_context(session, actor, clock, code), "can_act": can_act(actor)}
    return render(
        request, "console/_lookup.html", context, actor=actor, headers={"Cache-Control": "no-store"}
    )


@router.post("/console/incidents", response_class=HTMLResponse)
def report_call(
    request: Request,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
    code: Annotated[str, Form()] = "",
    persons_trapped: Annotated[str, Form()] = "",
    caller_name: Annotated[str, Form()] = "",
    callback_phone: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    """Take a phone call: open an incident (dispatched at once) or join the elevator's open one."""
    _require_console(actor)
    if not can_act(actor):
        raise Forbidden(f"role '{actor.role.value}' may not open rescue incidents")
    form = ReportForm(
        code=code.strip(),
        persons_trapped=persons_trapped,
        caller_name=caller_name.strip(),
        callback_phone=callback_phone.strip(),
        notes=notes.strip(),
    )
    form.validate()
    if form.errors:
        extra = {"lookup": lookup_context(session, actor, clock, form.code, form)}
        return _page(request, actor, session, clock, settings, extra, status_code=422)
    call = rescue.Report(
        form.code,
        Source.PHONE,
        persons_trapped=form.persons(),
        caller_name=form.caller_name,
        callback_phone=form.callback_phone,
        notes=form.notes,
    )
    out = rescue.report(session, actor, call, clock, settings)
    session.commit()  # its notices with it, in the outbox: the rescue worker delivers them
    query = urlencode({"incident": out.incident.id, "outcome": "created" if out.created else "joined"})
    return RedirectResponse(f"/console?{query}", status_code=303)


@router.get("/console/board", response_class=HTMLResponse)
def board(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: RescueSettingsDep
) -> HTMLResponse:
    """The open-incident board and the surge banner, polled every 3 s."""
    _require_console(actor)
    context = {**_board_context(session, actor, clock, settings), "partial": True}
    return render(request, "console/_board.html", context, actor=actor, headers={"Cache-Control": "no-store"})


@router.get("/console/kpis", response_class=HTMLResponse)
def kpis_panel(request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep) -> HTMLResponse:
    _require_console(actor)
    context = {"periods": kpi_periods(session, actor, clock)}
    return render(request, "console/_kpis.html", context, actor=actor, headers={"Cache-Control": "no-store"})


@router.post("/console/incidents/{incident_id}/false-alarm", response_class=HTMLResponse)
def mark_false_alarm(
    request: Request,
    incident_id: int,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
    note: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Close an open incident as a false alarm; htmx gets the refreshed board, a form post a redirect."""
    _require_console(actor)
    # The service requires a reason; the board's one-click button sends none yet (issue 11 item 4 adds it).
    reason = note.strip()[:500] or "未填写原因 (no reason given)"
    rescue.false_alarm(session, actor, incident_id, clock, reason)
    session.commit()
    if is_partial(request):
        context = {**_board_context(session, actor, clock, settings), "partial": True}
        return render(request, "console/_board.html", context, actor=actor)
    return RedirectResponse(safe_next(next, "/console"), status_code=303)


@router.post("/console/incidents/{incident_id}/call-back", response_class=HTMLResponse)
def record_call_back(
    incident_id: int,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    note: Annotated[str, Form()] = "",
) -> Response:
    """The operator called the caller back (回访); back to the incident page."""
    _require_console(actor)
    rescue.call_back(session, actor, incident_id, clock, note.strip()[:2000])
    session.commit()
    return RedirectResponse(f"/console/incidents/{incident_id}", status_code=303)


@router.get("/console/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    request: Request,
    incident_id: int,
    actor: PageActorDep,
    session: SessionDep,
    clock: ClockDep,
    settings: RescueSettingsDep,
) -> HTMLResponse:
    """One incident: its facts, stages, call-back and the whole audit trail (oldest first)."""
    _require_console(actor)
    inc = rescue.get_incident(session, actor, incident_id)
    events = rescue.incident_events(session, inc)
    row = board_rows(session, [inc], clock.now(), settings.ack_limit_s)[0]
    elevator = find_elevator(session, actor, inc.registration_code)
    context = {
        "inc": inc,
        "row": row,
        "elevator": elevator,
        "events": [(e, _local(e.at, "%Y-%m-%d %H:%M:%S")) for e in events],
        "is_open": inc.status in {s.value for s in OPEN_STATUSES},
        "can_act": can_act(actor),
        "local": _local,
    }
    return render(request, "console/incident.html", context, actor=actor)
