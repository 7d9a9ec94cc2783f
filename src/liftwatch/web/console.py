"""The 96333 rescue console (96333接警台): take a call by rescue code, watch every incident move through its
stages against its deadlines (most urgent first), act on one by hand (re-dispatch, escalate, withdraw, the
119 call, false alarm), and read the rescue KPIs.

Operators (and admins) act; regulators read the same pages without the forms; other roles get the 403 page.
Every write goes through ``rescue.service``; this module reads, validates forms and renders. The board
refreshes every 3 s by htmx polling (:func:`board`), the incident page every 5 s (:func:`incident_live`,
paused while the operator types in one of its forms), the KPI panel every 30 s (:func:`kpis_panel`).

The board's order is ``rescue.domain.most_urgent_first``: overdue with someone trapped, overdue, someone
trapped, the rest (released, awaiting the cause report); newest alarm first within each. A row the page had
not shown before is new: console.js highlights it and plays a short tone (Web Audio) unless muted.

Deadline colours: the acknowledgement is due ``ack_limit_s`` after dispatch (5 min) and the arrival
``arrival_limit_min`` after the alarm (30 or 60 min, on the incident). A pending stage is "near" once
:data:`NEAR_SHARE` of its limit has passed and "late" once the limit has. Times of another day than today
show their date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any, TypeAlias
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from liftwatch.accounts.actor import Actor, Role
from liftwatch.core.clock import Clock, as_utc
from liftwatch.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from liftwatch.deps import ClockDep, SessionDep
from liftwatch.registry import queries as registry
from liftwatch.registry.queries import ElevatorFilter
from liftwatch.rescue import queries as rescue_queries
from liftwatch.rescue import service as rescue
from liftwatch.rescue.domain import OPEN_STATUSES, Level, Source, Urgency, most_urgent_first, normalise_phone
from liftwatch.rescue.kpis import Kpis, compute_kpis
from liftwatch.rescue.labels import TRAIL_FIELD
from liftwatch.web.monitor import live_context
from liftwatch.web.templating import (
    N_,
    PageActorDep,
    PageRoute,
    city_time,
    label,
    render,
    request_language,
    safe_next,
    screen_tz,
    translate,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The records the rescue service and the registry queries hand out (their tables are the domains' own)
Incident: TypeAlias = rescue.StoredIncident
Crew: TypeAlias = rescue.StoredCrew
Dispatch: TypeAlias = rescue.StoredDispatch
Elevator: TypeAlias = registry.StoredElevator

CONSOLE_ROLES = frozenset({Role.ADMIN, Role.RESCUE_OPERATOR, Role.REGULATOR})
NEAR_SHARE = 0.8  # a pending deadline turns amber when 80% of its limit has passed
CANDIDATE_LIMIT = 8  # address matches shown when no code matches
BOARD_LIMIT = 500
MAX_PERSONS = 99
REASON_MAX = 2000
OPEN = frozenset(s.value for s in OPEN_STATUSES)

#: Page-text keys this module names in code (kept by ``pybabel extract``).
KEYS = (
    N_("console.invalid_phone"),
    N_("console.reason_required"),
    N_("console.target_required"),
    N_("console.dispatch_required"),
    N_("console.target_unavailable"),
    N_("console.action_conflict"),
    N_("console.action_refused"),
    N_("console.done_redispatched"),
    N_("console.done_redispatch_repeat"),
    N_("console.done_escalated"),
    N_("console.done_escalate_repeat"),
    N_("console.done_withdrawn"),
    N_("console.done_false_alarm"),
    N_("console.done_fire_called"),
    N_("console.done_fire_arrived"),
    N_("console.done_fire_released"),
    N_("console.done_called_back"),
)
DONE = {k.removeprefix("console.done_"): k for k in KEYS if k.startswith("console.done_")}


def rescue_settings(request: Request) -> rescue.RescueSettings:
    """The rescue settings the app read at its start (a dependency, so a test can override it)."""
    settings: rescue.RescueSettings = request.app.state.rescue_settings
    return settings


RescueSettingsDep = Annotated[rescue.RescueSettings, Depends(rescue_settings)]


@dataclass(frozen=True)
class RescuePage:
    """What every rescue page (console, crew, crews) works with: the request, who is signed in, the
    session, the clock and the rescue settings; one dependency instead of five parameters a route."""

    request: Request
    actor: Actor
    session: Session
    clock: Clock
    settings: rescue.RescueSettings


def rescue_page(
    request: Request, actor: PageActorDep, session: SessionDep, clock: ClockDep, settings: RescueSettingsDep
) -> RescuePage:
    return RescuePage(request, actor, session, clock, settings)


RescuePageDep = Annotated[RescuePage, Depends(rescue_page)]


def _require_console(actor: Actor) -> None:
    if actor.role not in CONSOLE_ROLES:
        raise Forbidden(f"role '{actor.role.value}' may not use the rescue console")


def _require_operator(actor: Actor, what: str) -> None:
    _require_console(actor)
    if not can_act(actor):
        raise Forbidden(f"role '{actor.role.value}' may not {what}")


def can_act(actor: Actor) -> bool:
    return actor.role in rescue.OPERATORS


def _local(value: datetime | None, fmt: str = "%H:%M:%S") -> str:
    return city_time(value, fmt)


def when(value: datetime | None, now: datetime) -> str:
    """A time on screen: the time of day when it is today (city time), else its date and time (an alarm
    of last week must not read "42384 minutes ago")."""
    if value is None:
        return ""
    tz = screen_tz()
    if as_utc(value).astimezone(tz).date() == as_utc(now).astimezone(tz).date():
        return _local(value, "%H:%M:%S")
    return _local(value, "%Y-%m-%d %H:%M")


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def duration(minutes: int, lang: str) -> str:
    """Minutes as people say them: 12 分钟, 3 小时 5 分, 2 天 4 小时."""
    if minutes >= 24 * 60:
        return translate("console.dur_days", lang, d=minutes // (24 * 60), h=minutes % (24 * 60) // 60)
    if minutes >= 60:
        return translate("console.dur_hours", lang, h=minutes // 60, m=minutes % 60)
    return translate("console.minutes", lang, m=minutes)


# ---------------------------------------------------------------- the board


@dataclass(frozen=True)
class Stage:
    """One step of an incident's timeline as the board shows it."""

    name: str  # alarm, dispatched, acknowledged, arrived
    done: bool
    at: str  # local time when done (today: HH:MM:SS; another day: its date too)
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
    urgency: Urgency
    stale: rescue_queries.StaleIncident | None = None
    alarm_today: bool = True

    @property
    def is_open(self) -> bool:
        return self.incident.status in OPEN


def _warning(waited: timedelta, limit: timedelta) -> str:
    if waited > limit:
        return "late"
    if waited >= limit * NEAR_SHARE:
        return "near"
    return ""


def stages_of(inc: Incident, now: datetime, ack_limit: timedelta) -> list[Stage]:
    """Alarm, dispatch, acknowledgement and arrival: when each happened, or how long it has been awaited
    against its deadline (acknowledgement: ``ack_limit`` after dispatch; arrival: the incident's limit
    after the alarm). A released incident waits for nothing more."""
    waiting = inc.status in OPEN
    alarm = as_utc(inc.alarm_at)
    out = [Stage("alarm", True, when(alarm, now), 0)]
    dispatched = as_utc(inc.dispatched_at) if inc.dispatched_at else None
    if dispatched is not None:
        out.append(Stage("dispatched", True, when(dispatched, now), _minutes(dispatched - alarm)))
    else:
        out.append(Stage("dispatched", False, "", _minutes(now - alarm) if waiting else 0))
    acked = as_utc(inc.acknowledged_at) if inc.acknowledged_at else None
    if acked is not None:
        out.append(Stage("acknowledged", True, when(acked, now), _minutes(acked - alarm)))
    elif dispatched is not None and waiting and inc.arrived_at is None:
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
        out.append(Stage("arrived", True, when(arrived, now), _minutes(arrived - alarm)))
    elif waiting:
        limit = timedelta(minutes=inc.arrival_limit_min)
        waited = now - alarm
        out.append(
            Stage("arrived", False, "", _minutes(waited), inc.arrival_limit_min, _warning(waited, limit))
        )
    else:
        out.append(Stage("arrived", False, "", 0))
    return out


def _worst(stages: Sequence[Stage]) -> str:
    warnings = {s.warning for s in stages}
    return "late" if "late" in warnings else "near" if "near" in warnings else ""


def board_incidents(session: Session) -> list[Incident]:
    return rescue_queries.board_incidents(session, BOARD_LIMIT)


def board_rows(
    session: Session,
    incidents: Sequence[Incident],
    now: datetime,
    settings: rescue.RescueSettings,
    stale: dict[int, rescue_queries.StaleIncident] | None = None,
) -> list[BoardRow]:
    """The rows of ``incidents``, most urgent first (rescue.domain.most_urgent_first)."""
    places = registry.places_of(session, sorted({i.registration_code for i in incidents}))
    crew_ids = sorted({i.crew_id for i in incidents if i.crew_id})
    crews = rescue.crews_by_id(session, crew_ids)
    units = registry.unit_names(
        session,
        {i.responder_unit for i in incidents if i.responder_unit}
        | {i.maintenance_unit for i in incidents if i.maintenance_unit},
    )
    today = as_utc(now).astimezone(screen_tz()).date()
    rows = []
    for inc in incidents:
        place = places.get(inc.registration_code)
        stages = stages_of(inc, now, timedelta(seconds=settings.ack_limit_s))
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
                urgency=rescue_queries.urgency_of(inc, now, settings),
                stale=(stale or {}).get(inc.id),
                alarm_today=as_utc(inc.alarm_at).astimezone(screen_tz()).date() == today,
            )
        )
    return most_urgent_first(rows, lambda r: r.urgency)


def _board_context(
    session: Session, actor: Actor, clock: Clock, settings: rescue.RescueSettings
) -> dict[str, Any]:
    now = clock.now()
    incidents = board_incidents(session)
    stale = {s.incident.id: s for s in rescue_queries.stale_open_incidents(session, clock, settings)}
    open_count = sum(1 for i in incidents if i.status in OPEN)
    return {
        "rows": board_rows(session, incidents, now, settings, stale),
        "open_count": open_count,
        "released_count": len(incidents) - open_count,
        "surge": open_count >= settings.surge_threshold,
        "surge_threshold": settings.surge_threshold,
        "can_act": can_act(actor),
        "updated": _local(now, "%Y-%m-%d %H:%M:%S"),
    }


# ---------------------------------------------------------------- KPIs


@dataclass(frozen=True)
class KpiPeriod:
    key: str  # console.today / console.last_30_days
    kpis: Kpis


def kpi_periods(
    session: Session, actor: Actor, clock: Clock, settings: rescue.RescueSettings
) -> list[KpiPeriod]:
    """Today (since local midnight) and the last 30 days, as the /api/v1/rescue/kpis route computes them:
    incident records over [start, now), the elevators in service and the limits of the rescue settings."""
    now = clock.now()
    local_midnight = as_utc(now).astimezone(screen_tz()).replace(hour=0, minute=0, second=0, microsecond=0)
    elevators = registry.count_in_service(session)
    limits = rescue.kpi_settings(settings)
    out = []
    for key, start in (("console.today", local_midnight), ("console.last_30_days", now - timedelta(days=30))):
        records = rescue_queries.incident_records(session, actor, start, now)
        out.append(KpiPeriod(key, compute_kpis(records, elevators, start, now, limits, as_of=now)))
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
        if "callback_phone" not in self.errors:
            try:
                self.callback_phone = normalise_phone(self.callback_phone)
            except ValueError:
                self.errors["callback_phone"] = "console.invalid_phone"


def find_elevator(session: Session, actor: Actor, code: str) -> Elevator | None:
    """The elevator with this rescue, registration or equipment code (spaces and case do not matter),
    within the actor's scope."""
    try:
        elevator = registry.get_public_elevator(session, code)
        return registry.get_elevator(session, actor, elevator.registration_code)
    except NotFound:
        return None


def open_incident_of(session: Session, registration_code: str) -> Incident | None:
    return rescue_queries.open_incident_of(session, registration_code)


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


# ---------------------------------------------------------------- the incident page


@dataclass(frozen=True)
class Responder:
    """One dispatch as the incident page shows it: who was sent (unit, crew, their phones), at which level,
    and what became of it."""

    row: Dispatch
    unit_name: str
    unit_phone: str
    unit_contact: str
    crew: Crew | None
    fire: bool  # the 119 call (L3 row of the fire service)
    withdraw_reason: str  # translated when the system withdrew it, else the operator's words
    times: dict[str, str]  # dispatched / acknowledged / arrived / released / withdrawn -> time on screen

    @property
    def active(self) -> bool:
        return self.row.withdrawn_at is None


def responders(session: Session, actor: Actor, inc: Incident, now: datetime, lang: str) -> list[Responder]:
    rows = rescue.dispatches_of(session, actor, inc.id)
    crews = rescue.crews_by_id(session, sorted({d.crew_id for d in rows if d.crew_id}))
    units: dict[str, Any] = {}
    for code in sorted({d.unit for d in rows if d.unit and d.unit != rescue.FIRE_SERVICE}):
        try:
            units[code] = registry.get_unit(session, actor, code)
        except NotFound:
            continue
    out = []
    for d in rows:
        unit = units.get(d.unit)
        reason = d.withdraw_reason
        out.append(
            Responder(
                row=d,
                unit_name=unit.name if unit else d.unit,
                unit_phone=unit.contact_phone if unit else "",
                unit_contact=unit.contact_name if unit else "",
                crew=crews.get(d.crew_id) if d.crew_id else None,
                fire=d.unit == rescue.FIRE_SERVICE,
                withdraw_reason=label("withdraw_reason", reason, lang) if reason else "",
                times={
                    name: when(value, now)
                    for name, value in (
                        ("dispatched", d.dispatched_at),
                        ("acknowledged", d.acknowledged_at),
                        ("arrived", d.arrived_at),
                        ("released", d.released_at),
                        ("withdrawn", d.withdrawn_at),
                    )
                    if value is not None
                },
            )
        )
    return out


@dataclass(frozen=True)
class TrailEntry:
    at: str
    kind: str
    actor: str
    facts: list[tuple[str, str]]  # (field label, value), both as the reader's language has them


_TIME_FACTS = frozenset({"out_at", "predicted_arrival", "deadline", "planned_start", "planned_arrival"})
_PLAIN_FACTS = frozenset({"caller", "phone", "note", "reference", "fault_id", "error", "persons", "attempts"})


def trail_facts(
    kind: str,
    details: dict[str, Any],
    lang: str,
    now: datetime,
    crew_names: dict[str, str],
    unit_names: dict[str, str],
) -> list[tuple[str, str]]:
    """An entry's details as labelled facts in ``lang``: enum values by their labels, crews and units by
    their names, times as the screen shows them, yes/no as words. Facts with no label (internal keys such
    as an idempotency key) are left out rather than shown raw."""
    out: list[tuple[str, str]] = []
    for key, value in details.items():
        if value is None or value == "" or value == [] or key not in TRAIL_FIELD.entries:
            continue
        text: str
        if key == "source":
            text = label("source", str(value), lang)
        elif key in ("level", "to"):
            text = label("level", str(value), lang)
        elif key == "cause":
            text = label("cause", str(value), lang)
        elif key == "notice":
            text = label("notice", str(value), lang)
        elif key == "crew":
            name = crew_names.get(str(value))
            text = f"{name}（{value}）" if name else str(value)
        elif key == "unit":
            text = unit_names.get(str(value), str(value))
        elif key == "eta_s":
            text = duration(max(1, round(int(value) / 60)), lang)
        elif key == "reason":
            table = {"escalated": "escalation_reason", "withdrawn": "withdraw_reason"}.get(kind)
            text = label(table, str(value), lang) if table else str(value)
        elif key in ("all_released", "surge"):
            text = translate("common.yes", lang) if value else translate("common.no", lang)
        elif key == "dispatch":
            text = f"#{value}"
        elif key == "withdrawn":
            text = "、".join(f"#{v}" for v in value) if isinstance(value, list) else str(value)
        elif key in _TIME_FACTS:
            try:
                text = when(datetime.fromisoformat(str(value)), now)
            except ValueError:
                text = str(value)
        elif key in _PLAIN_FACTS:
            text = str(value)
        else:
            continue
        out.append((label("trail_field", key, lang), text))
    return out


def trail(session: Session, inc: Incident, now: datetime, lang: str) -> list[TrailEntry]:
    """The incident's trail, oldest first, each entry's facts in words (:func:`trail_facts`)."""
    events = rescue_queries.incident_events(session, inc)
    crew_ids = sorted({str(e.details["crew"]) for e in events if e.details.get("crew")})
    crew_names = {c.id: c.name for c in rescue.crews_by_id(session, crew_ids).values()}
    unit_codes = {str(e.details["unit"]) for e in events if e.details.get("unit")}
    unit_names = registry.unit_names(session, unit_codes)
    return [
        TrailEntry(
            when(e.at, now),
            e.kind,
            e.actor,
            trail_facts(e.kind, e.details or {}, lang, now, crew_names, unit_names),
        )
        for e in events
    ]


@dataclass
class ActionForms:
    """What the operator typed into the incident page's forms, and what was wrong with it (keys of page
    text), so a refused form comes back filled in."""

    values: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    refused: str = ""  # a page-text key: the action could not be done as the incident stands

    def value(self, form: str, name: str, default: str = "") -> str:
        return self.values.get(form, {}).get(name, default)

    def error(self, form: str, name: str) -> str:
        return self.errors.get(form, {}).get(name, "")


def incident_context(
    request: Request,
    session: Session,
    actor: Actor,
    clock: Clock,
    settings: rescue.RescueSettings,
    incident_id: int,
    forms: ActionForms | None = None,
) -> dict[str, Any]:
    """Everything the incident page shows: facts, stages, responders with their phones, the 119 record,
    every call, the trail as sentences, and the forms the operator may use now."""
    lang = request_language(request)
    now = clock.now()
    inc = rescue.get_incident(session, actor, incident_id)
    stale = {s.incident.id: s for s in rescue_queries.stale_open_incidents(session, clock, settings)}
    row = board_rows(session, [inc], now, settings, stale)[0]
    people = responders(session, actor, inc, now, lang)
    is_open = inc.status in OPEN
    options = (
        rescue_queries.redispatch_options(session, actor, inc.id, clock, settings)
        if is_open and can_act(actor)
        else []
    )
    option_units = registry.unit_names(session, {o.crew.unit for o in options} | {inc.maintenance_unit})
    stations, _ = registry.list_units(session, actor, unit_type="rescue_station", size=50)
    unit_choices = {inc.maintenance_unit: option_units.get(inc.maintenance_unit, inc.maintenance_unit)}
    unit_choices |= {u.code: u.name for u in stations}
    unit_choices |= {code: name for code, name in option_units.items() if code not in unit_choices}
    unit_choices.pop("", None)
    fire = next((p for p in reversed(people) if p.fire and p.active), None)
    return {
        "inc": inc,
        "row": row,
        "elevator": find_elevator(session, actor, inc.registration_code),
        "responders": people,
        "fire": fire,
        "calls": [(c, when(c.at, now)) for c in rescue_queries.calls_of(session, inc)],
        "trail": trail(session, inc, now, lang),
        "is_open": is_open,
        "can_act": can_act(actor),
        "options": options,
        "option_units": option_units,
        "unit_choices": unit_choices,
        "next_level": {"L1": "L2", "L2": "L3"}.get(inc.level),
        "forms": forms or ActionForms(),
        "when": lambda value: when(value, now),
        "duration": lambda minutes: duration(minutes, lang),
        "local": _local,
        "done": DONE.get(request.query_params.get("done", "")),
        "updated": _local(now, "%H:%M:%S"),
    }


# ---------------------------------------------------------------- pages


def _page(page: RescuePage, extra: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    request, actor, session, clock, settings = (
        page.request,
        page.actor,
        page.session,
        page.clock,
        page.settings,
    )
    context = {
        **_board_context(session, actor, clock, settings),
        "periods": kpi_periods(session, actor, clock, settings),
        "lookup": lookup_context(session, actor, clock, request.query_params.get("code", "")),
        "flash": None,
        **extra,
    }
    return render(request, "console/index.html", context, actor=actor, status_code=status_code)


@router.get("/console", response_class=HTMLResponse)
def console_page(
    page: RescuePageDep,
    incident: int | None = None,
    outcome: str = "",
) -> HTMLResponse:
    """The console: intake, the board, KPI panel; ``?incident=&outcome=`` after a report."""
    _require_console(page.actor)
    flash = None
    if incident is not None and outcome in ("created", "joined"):
        try:
            flash = {"incident": rescue.get_incident(page.session, page.actor, incident), "outcome": outcome}
        except NotFound:
            flash = None
    return _page(page, {"flash": flash})


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
    page: RescuePageDep,
    code: Annotated[str, Form()] = "",
    persons_trapped: Annotated[str, Form()] = "",
    caller_name: Annotated[str, Form()] = "",
    callback_phone: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
) -> Response:
    """Take a phone call: open an incident (dispatched at once) or join the elevator's open one."""
    _require_operator(page.actor, "open rescue incidents")
    form = ReportForm(
        code=code.strip(),
        persons_trapped=persons_trapped,
        caller_name=caller_name.strip(),
        callback_phone=callback_phone.strip(),
        notes=notes.strip(),
    )
    form.validate()
    if form.errors:
        extra = {"lookup": lookup_context(page.session, page.actor, page.clock, form.code, form)}
        return _page(page, extra, status_code=422)
    call = rescue.Report(
        form.code,
        Source.PHONE,
        persons_trapped=form.persons(),
        caller_name=form.caller_name,
        callback_phone=form.callback_phone,
        notes=form.notes,
    )
    out = rescue.report(page.session, page.actor, call, page.clock, page.settings)
    page.session.commit()  # its notices with it, in the outbox: the rescue worker delivers them
    query = urlencode({"incident": out.incident.id, "outcome": "created" if out.created else "joined"})
    return RedirectResponse(f"/console?{query}", status_code=303)


@router.get("/console/board", response_class=HTMLResponse)
def board(
    page: RescuePageDep,
) -> HTMLResponse:
    """The board and the surge banner, polled every 3 s."""
    _require_console(page.actor)
    context = {**_board_context(page.session, page.actor, page.clock, page.settings), "partial": True}
    return render(
        page.request, "console/_board.html", context, actor=page.actor, headers={"Cache-Control": "no-store"}
    )


@router.get("/console/kpis", response_class=HTMLResponse)
def kpis_panel(
    page: RescuePageDep,
) -> HTMLResponse:
    _require_console(page.actor)
    context = {"periods": kpi_periods(page.session, page.actor, page.clock, page.settings)}
    return render(
        page.request, "console/_kpis.html", context, actor=page.actor, headers={"Cache-Control": "no-store"}
    )


@router.get("/console/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    page: RescuePageDep,
    incident_id: int,
) -> HTMLResponse:
    """One incident: facts, stages, responders and their phones, the 119 record, every call, the actions
    (operators), and the whole trail (oldest first); its live part refreshes (:func:`incident_live`)."""
    _require_console(page.actor)
    context = incident_context(page.request, page.session, page.actor, page.clock, page.settings, incident_id)
    return render(page.request, "console/incident.html", context, actor=page.actor)


@router.get("/console/incidents/{incident_id}/live", response_class=HTMLResponse)
def incident_live(
    page: RescuePageDep,
    incident_id: int,
) -> HTMLResponse:
    """The incident page's live part, polled every 5 s (htmx; paused while a form is being filled in)."""
    _require_console(page.actor)
    context = {
        **incident_context(page.request, page.session, page.actor, page.clock, page.settings, incident_id),
        "partial": True,
    }
    return render(
        page.request,
        "console/_incident_live.html",
        context,
        actor=page.actor,
        headers={"Cache-Control": "no-store"},
    )


def _incident_again(page: RescuePage, incident_id: int, forms: ActionForms, status_code: int) -> HTMLResponse:
    context = incident_context(
        page.request, page.session, page.actor, page.clock, page.settings, incident_id, forms
    )
    return render(page.request, "console/incident.html", context, actor=page.actor, status_code=status_code)


def _act(
    page: RescuePage,
    incident_id: int,
    form: str,
    values: dict[str, str],
    errors: dict[str, str],
    do: Callable[[], str],
    next_url: str = "",
    fields: dict[str, str] | None = None,
) -> Response:
    """Run one of the incident page's actions: a form with errors comes back filled in (422); the service
    refusing it as the incident now stands (someone else was first) comes back with a message (409); done,
    the browser goes back to the page (303) with what was done."""
    if errors:
        forms = ActionForms({form: values}, {form: errors})
        return _incident_again(page, incident_id, forms, 422)
    try:
        done = do()
    except InvalidInput as exc:
        page.session.rollback()
        keys = {(fields or {}).get(e.field, e.field): _error_key(e.field, e.message) for e in exc.errors}
        forms = ActionForms({form: values}, {form: keys or {"reason": "console.action_refused"}})
        return _incident_again(page, incident_id, forms, 422)
    except Conflict:
        page.session.rollback()
        forms = ActionForms({form: values}, refused="console.action_conflict")
        return _incident_again(page, incident_id, forms, 409)
    page.session.commit()  # the notices with it, in the outbox
    target = safe_next(next_url, f"/console/incidents/{incident_id}")
    if target == f"/console/incidents/{incident_id}":
        target += "?" + urlencode({"done": done})
    return RedirectResponse(target, status_code=303)


def _error_key(name: str, message: str) -> str:
    """The page text for a field the service refused (its own message is for the API, in English)."""
    if name in ("reason", "note"):
        return "console.reason_required"
    if name in ("crew_id", "unit"):
        return "console.target_required" if message.startswith("required") else "console.target_unavailable"
    return "console.action_refused"


def _reason(value: str) -> tuple[str, dict[str, str]]:
    reason = value.strip()
    if not reason:
        return "", {"reason": "console.reason_required"}
    if len(reason) > REASON_MAX:
        return reason, {"reason": "console.too_long"}
    return reason, {}


@router.post("/console/incidents/{incident_id}/redispatch", response_class=HTMLResponse)
def redispatch(
    page: RescuePageDep,
    incident_id: int,
    target: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    replace: Annotated[str, Form()] = "",
) -> Response:
    """Send a crew (``crew:<id>``) or a unit's nearest free crew (``unit:<code>``) by hand, with a reason."""
    _require_operator(page.actor, "re-dispatch incidents")
    why, errors = _reason(reason)
    kind, _, ident = target.partition(":")
    if kind not in ("crew", "unit") or not ident:
        errors["target"] = "console.target_required"

    def do() -> str:
        _, created = rescue.redispatch(
            page.session, page.actor, incident_id, page.clock, page.settings, why,
            crew_id=ident if kind == "crew" else None, unit=ident if kind == "unit" else None,
            replace_earlier=bool(replace),
        )  # fmt: skip
        return "redispatched" if created else "redispatch_repeat"

    values = {"target": target, "reason": reason, "replace": replace}
    return _act(
        page, incident_id, "redispatch", values, errors, do,
        fields={"crew_id": "target", "unit": "target"},
    )  # fmt: skip


@router.post("/console/incidents/{incident_id}/escalate", response_class=HTMLResponse)
def escalate(
    page: RescuePageDep,
    incident_id: int,
    reason: Annotated[str, Form()] = "",
    from_level: Annotated[str, Form()] = "",
) -> Response:
    """Escalate to the next level by hand, with a reason; a level already passed changes nothing."""
    _require_operator(page.actor, "escalate incidents")
    why, errors = _reason(reason)
    seen = Level(from_level) if from_level in {lv.value for lv in Level} else None

    def do() -> str:
        _, escalated = rescue.escalate_by_hand(
            page.session, page.actor, incident_id, page.clock, page.settings, why, seen
        )
        return "escalated" if escalated else "escalate_repeat"

    values = {"reason": reason}
    return _act(page, incident_id, "escalate", values, errors, do)


@router.post("/console/incidents/{incident_id}/withdraw", response_class=HTMLResponse)
def withdraw(
    page: RescuePageDep,
    incident_id: int,
    dispatch: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Take one dispatch off the job by hand, with a reason."""
    _require_operator(page.actor, "withdraw dispatches")
    why, errors = _reason(reason)
    if not dispatch.isdigit():
        errors["dispatch"] = "console.dispatch_required"

    def do() -> str:
        rescue.withdraw(page.session, page.actor, incident_id, int(dispatch), page.clock, page.settings, why)
        return "withdrawn"

    values = {"dispatch": dispatch, "reason": reason}
    return _act(page, incident_id, "withdraw", values, errors, do)


@router.post("/console/incidents/{incident_id}/false-alarm", response_class=HTMLResponse)
def mark_false_alarm(
    page: RescuePageDep,
    incident_id: int,
    note: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Close an open incident as a false alarm (误报); the reason is required."""
    _require_operator(page.actor, "close incidents as false alarms")
    why, errors = _reason(note)

    def do() -> str:
        rescue.false_alarm(page.session, page.actor, incident_id, page.clock, page.settings, why)
        return "false_alarm"

    values = {"note": note}
    errors = {"note": errors["reason"]} if errors else {}
    return _act(page, incident_id, "false_alarm", values, errors, do, next)


@router.post("/console/incidents/{incident_id}/fire-call", response_class=HTMLResponse)
def fire_call(
    page: RescuePageDep,
    incident_id: int,
    reference: Annotated[str, Form()] = "",
) -> Response:
    """The operator called 119 (L3): recorded now with the fire service's reference."""
    _require_operator(page.actor, "record 119 calls")
    ref = reference.strip()[:64]

    def do() -> str:
        rescue.record_fire_call(page.session, page.actor, incident_id, page.clock, ref)
        return "fire_called"

    return _act(page, incident_id, "fire", {"reference": ref}, {}, do)


@router.post("/console/incidents/{incident_id}/fire-arrival", response_class=HTMLResponse)
def fire_arrival(
    page: RescuePageDep,
    incident_id: int,
) -> Response:
    """The fire service is on site (now)."""
    _require_operator(page.actor, "record the fire service's arrival")

    def do() -> str:
        rescue.record_fire_arrival(page.session, page.actor, incident_id, page.clock)
        return "fire_arrived"

    return _act(page, incident_id, "fire", {}, {}, do)


@router.post("/console/incidents/{incident_id}/fire-release", response_class=HTMLResponse)
def fire_release(
    page: RescuePageDep,
    incident_id: int,
    all_released: Annotated[str, Form()] = "",
) -> Response:
    """The fire service freed the trapped persons (now)."""
    _require_operator(page.actor, "record the fire service's release")

    def do() -> str:
        rescue.record_fire_release(page.session, page.actor, incident_id, page.clock, bool(all_released))
        return "fire_released"

    return _act(page, incident_id, "fire", {}, {}, do)


@router.post("/console/incidents/{incident_id}/call-back", response_class=HTMLResponse)
def record_call_back(
    page: RescuePageDep,
    incident_id: int,
    note: Annotated[str, Form()] = "",
) -> Response:
    """The operator called the caller back (回访); back to the incident page."""
    _require_console(page.actor)

    def do() -> str:
        rescue.call_back(page.session, page.actor, incident_id, page.clock, note.strip()[:2000])
        return "called_back"

    return _act(page, incident_id, "callback", {"note": note}, {}, do)
